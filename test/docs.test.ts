/**
 * Docs that stay true. Fails when
 * - a file path named in a README (README.md, packages/<name>/README.md, test/README.md, bench/README.md, docs/**)
 *   or in a comment of the code (packages/<name>/src, test/harness, scripts, bench, examples, .ci) does not exist;
 * - a name imported from a @keepalive package in a README's code or a comment is not exported by that entry, or a
 *   call written as `name()` in a README or a comment names nothing that exists (no export, no declaration in the
 *   repository, no Node API);
 * - an example error message in a README is not what the code produces. Convention: a fenced block tagged
 *   `error-examples` (```js error-examples) holds pairs of lines, a call and `// KA_ERR_CODE: the message` (more
 *   `//` lines continue the message; `<n>` stands for a measured number). The call runs here, with every export of
 *   every @keepalive package in scope, and must throw (or resolve to) exactly that error.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { channelRows, messageKeys } from './channel-tables.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)

/** Files under `dir` (relative to root) whose name matches, recursively; node_modules, dist and dot dirs skipped. */
function walk(dir: string, match: RegExp): string[] {
  const base = join(root, dir)
  if (!existsSync(base)) return []
  if (statSync(base).isFile()) return match.test(base) ? [dir] : []
  return readdirSync(base, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) return []
    const path = join(dir, entry.name)
    return entry.isDirectory() ? walk(path, match) : match.test(entry.name) ? [path] : []
  })
}

const packageDirs = readdirSync(join(root, 'packages')).filter((name) =>
  existsSync(join(root, 'packages', name, 'package.json')),
)
const readmes = [
  'README.md',
  ...packageDirs.map((name) => `packages/${name}/README.md`).filter((f) => existsSync(join(root, f))),
  'test/README.md',
  'bench/README.md',
  ...walk('docs', /\.md$/),
].filter((f) => existsSync(join(root, f)))
const codeFiles = [
  ...packageDirs.flatMap((name) => walk(`packages/${name}/src`, /\.[cm]?ts$/)),
  ...packageDirs.flatMap((name) => walk(`packages/${name}/scripts`, /\.[cm]?[jt]s$/)),
  ...walk('test/harness', /\.ts$/),
  ...walk('test/fixtures', /\.ts$/),
  ...walk('scripts', /\.(?:sh|ts|mjs)$/),
  ...walk('bench', /\.m?[jt]s$/),
  ...walk('examples', /\.[cm]?[jt]s$/),
  ...walk('.ci', /./),
  'vitest.config.ts',
]
const text = (file: string): string => readFileSync(join(root, file), 'utf8')

/**
 * Known stale items in files other helpers own, each still wrong (the test fails once one is fixed, so the entry is
 * removed with the fix). `where: what` exactly as the check reports it.
 */
const KNOWN_STALE: readonly string[] = []

/** The comment text of a source file: `//` and `/* … *\/` in TypeScript/JavaScript, `#` lines in shell. */
function comments(file: string): { line: number; text: string }[] {
  const lines = text(file).split('\n')
  const out: { line: number; text: string }[] = []
  const shell = file.endsWith('.sh') || file === '.ci/run'
  let inBlock = false
  lines.forEach((raw, index) => {
    const line = raw.trim()
    if (shell) {
      if (line.startsWith('#') && !line.startsWith('#!')) out.push({ line: index + 1, text: line.slice(1) })
      return
    }
    if (inBlock) {
      out.push({ line: index + 1, text: line.replace(/\*\/.*$/, '').replace(/^\*\s?/, '') })
      if (line.includes('*/')) inBlock = false
      return
    }
    // A comment starts at the line's start or after whitespace ("@keepalive/*" and URLs are not comments).
    const block = line.search(/(?:^|\s)\/\*/) + (line.startsWith('/*') ? 0 : 1)
    const slashes = raw.search(/(^|\s)\/\/\s/)
    if (block > 0 || line.startsWith('/*')) {
      out.push({ line: index + 1, text: line.slice(block + 2).replace(/\*\/.*$/, '') })
      if (!line.slice(block).includes('*/')) inBlock = true
    } else if (slashes !== -1) {
      out.push({ line: index + 1, text: raw.slice(slashes).trim().slice(2) })
    }
  })
  return out
}

/** Code blocks of a Markdown file, with their info string and first line number. */
function codeBlocks(file: string): { info: string; line: number; body: string[] }[] {
  const blocks: { info: string; line: number; body: string[] }[] = []
  let current: { info: string; line: number; body: string[] } | undefined
  text(file)
    .split('\n')
    .forEach((line, index) => {
      const fence = /^\s*```(.*)$/.exec(line)
      if (fence && !current) current = { info: fence[1]!.trim(), line: index + 2, body: [] }
      else if (fence && current) {
        blocks.push(current)
        current = undefined
      } else current?.body.push(line)
    })
  return blocks
}

const PATH_TOKEN =
  /(?<![\w@/.$-])(?:\.{1,2}\/)?(?:[\w.-]+\/)+[\w.-]+\.(?:ts|mts|cts|js|mjs|cjs|json|md|sh|yaml|yml)(?![\w/])/g

/**
 * Where a path named in `file` may live: the repository root, the file's folder, its package and the package's src
 * (an import path ending in .js names the .ts source); or it is one of the package's export subpaths ("./schema.json").
 */
function pathExists(file: string, target: string): boolean {
  const pkg = /^packages\/[^/]+/.exec(file)?.[0]
  const bases = [root, join(root, dirname(file))]
  if (pkg) bases.push(join(root, pkg), join(root, pkg, 'src'))
  if (file.startsWith('test/')) bases.push(join(root, 'test/harness'))
  const candidates = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts')]
  if (bases.some((base) => candidates.some((c) => existsSync(resolve(base, c))))) return true
  if (!pkg || !target.startsWith('./')) return false
  const manifest = JSON.parse(text(`${pkg}/package.json`)) as { exports?: Record<string, unknown> }
  return Object.hasOwn(manifest.exports ?? {}, target)
}

/** A path token worth checking: relative, in this repository (not built output, not a machine or library path). */
function checkable(token: string): boolean {
  return !(
    /^(?:dist|node_modules|coverage)\//.test(token) ||
    token.includes('/dist/') ||
    token.includes('node_modules') ||
    /^[\w-]+\.[\w-]+\//.test(token) || // a host name: example.com/…
    /^(?:lib|net\/ipv4|include)\//.test(token) // library and kernel sources cited by path
  )
}

/** Every problem with the paths a README or comment names, as `file:line: what`. */
const pathProblems = once((): string[] => {
  const problems: string[] = []
  const check = (file: string, line: number, target: string): void => {
    const clean = target.replace(/[#?].*$/, '')
    if (clean && checkable(clean) && !pathExists(file, clean))
      problems.push(`${file}:${line}: no such file ${clean}`)
  }
  for (const file of readmes) {
    text(file)
      .split('\n')
      .forEach((line, index) => {
        for (const [, target = ''] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          if (!/^(?:[a-z]+:|#|\/)/.test(target)) check(file, index + 1, target)
        }
        for (const [token] of line.replace(/\]\([^)]*\)/g, ']').matchAll(PATH_TOKEN))
          check(file, index + 1, token)
      })
  }
  for (const file of codeFiles) {
    for (const { line, text: comment } of comments(file)) {
      for (const [token] of comment.matchAll(PATH_TOKEN)) {
        if (!/^(?:https?:|\/)/.test(token)) check(file, line, token)
      }
    }
  }
  return problems
})

/** Computes once: the checks below share the TypeScript program and the problem lists. */
function once<T>(compute: () => T): () => T {
  let value: { v: T } | undefined
  return () => {
    value ??= { v: compute() }
    return value.v
  }
}

/** What each @keepalive entry exports (values and types), from its source, by the TypeScript checker. */
const keepaliveExports = once((): Map<string, Set<string>> => {
  const entries = new Map<string, string>()
  for (const dir of [...packageDirs.map((name) => `packages/${name}`), 'test/harness']) {
    const manifest = JSON.parse(text(`${dir}/package.json`)) as {
      name: string
      exports?: Record<string, string | Record<string, string>>
    }
    for (const [key, value] of Object.entries(manifest.exports ?? {})) {
      // Published packages point the @keepalive/source condition at src/; the private harness exports .ts directly.
      const source =
        typeof value === 'object' ? value['@keepalive/source'] : value.endsWith('.ts') ? value : undefined
      if (source)
        entries.set(key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`, join(root, dir, source))
    }
  }
  const program = ts.createProgram([...entries.values()], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ['@keepalive/source'],
    allowImportingTsExtensions: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  })
  const checker = program.getTypeChecker()
  const result = new Map<string, Set<string>>()
  for (const [spec, file] of entries) {
    const source = program.getSourceFile(file)
    const symbol = source && checker.getSymbolAtLocation(source)
    result.set(spec, new Set(symbol ? checker.getExportsOfModule(symbol).map((s) => s.name) : []))
  }
  return result
})

/** Names that exist outside the packages: JavaScript and Node globals, Node modules and the classes users hold. */
function platformNames(): Set<string> {
  const names = new Set<string>(Object.getOwnPropertyNames(globalThis))
  const add = (object: object | undefined): void => {
    for (let o = object; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const key of Object.getOwnPropertyNames(o)) names.add(key)
    }
  }
  for (const name of builtinModules.filter((m) => !m.startsWith('_'))) {
    try {
      const mod = require(name) as Record<string, unknown>
      add(mod)
      for (const value of Object.values(mod))
        if (typeof value === 'function' && value.prototype) add(value.prototype)
    } catch {
      // not loadable here (e.g. an experimental module)
    }
  }
  for (const ctor of [Promise, Array, String, Object, Map, Set, Function, Number, JSON, Math, process]) {
    add(typeof ctor === 'function' ? ctor.prototype : ctor)
    add(ctor)
  }
  add(setTimeout(() => {}, 0).unref())
  return names
}

/** Names declared anywhere in the repository's code (functions, methods, variables, properties, test helpers). */
function declaredNames(): Set<string> {
  const names = new Set<string>()
  const files = [
    ...codeFiles,
    ...packageDirs.flatMap((name) => walk(`packages/${name}/test`, /\.ts$/)),
    ...walk('test', /\.ts$/),
  ]
  for (const file of files) {
    for (const [, name = ''] of text(file).matchAll(
      /\b(?:function\s*\*?|const|let|var|class|interface|type)\s+([A-Za-z_$][\w$]*)/g,
    ))
      names.add(name)
    for (const [, name = ''] of text(file).matchAll(
      /^\s*(?:async\s+|static\s+|readonly\s+|get\s+|set\s+)*([A-Za-z_$][\w$]*)\??\s*[(:]/gm,
    ))
      names.add(name)
  }
  return names
}

/** Names that stand for whatever the reader passes: `new Class(…)` of an error factory, a benchmark's `op(…)`. */
const PLACEHOLDERS = new Set(['Class', 'op', 'fn'])

/** Packages a README or comment may cite `name()` from (the libraries the adapters wrap and the tools used). */
const LIBRARY_MODULES = [
  'mqtt',
  'ssh2',
  'undici',
  'aedes',
  'koffi',
  'yaml',
  'zod',
  'parse-duration',
  'vitest',
  'fast-check',
  'retimer',
  'agentkeepalive',
]

function libraryNames(): Set<string> {
  const names = new Set<string>()
  for (const name of LIBRARY_MODULES) {
    try {
      const mod = require(name) as Record<string, unknown>
      for (let o: object | null = mod; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
        for (const key of Object.getOwnPropertyNames(o)) names.add(key)
      }
      for (const value of Object.values(mod)) {
        if (typeof value === 'function' && value.prototype) {
          for (
            let o: object | null = value.prototype;
            o && o !== Object.prototype;
            o = Object.getPrototypeOf(o)
          ) {
            for (const key of Object.getOwnPropertyNames(o)) names.add(key)
          }
        }
      }
    } catch {
      // not installed, or ESM only: its names are not checked against
    }
  }
  return names
}

/** Every problem with exports and calls a README or comment names, as `file:line: what`. */
const nameProblems = once((): string[] => {
  const exports = keepaliveExports()
  const known = new Set([...platformNames(), ...declaredNames(), ...libraryNames()])
  for (const names of exports.values()) for (const name of names) known.add(name)
  const problems: string[] = []
  const checkImports = (file: string, line: number, code: string): void => {
    for (const [, list = '', spec = ''] of code.matchAll(
      /import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"](@keepalive\/[^'"]+)['"]/g,
    )) {
      const available = exports.get(spec)
      if (!available) {
        problems.push(`${file}:${line}: no entry ${spec}`)
        continue
      }
      for (const item of list.split(',')) {
        const name = item
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)[0]
        if (name && !available.has(name)) problems.push(`${file}:${line}: ${spec} does not export ${name}`)
      }
    }
  }
  // A call in prose: `name(…)` in backticks, or name() with empty parentheses anywhere; not a method (x.name()),
  // not a plural "(s)", not a C macro (_WSAIOW), not a placeholder or parameter the same comment defines.
  const checkCalls = (file: string, line: number, prose: string): void => {
    const calls = [
      ...prose.matchAll(/`(?:new\s+)?([A-Za-z_$][\w$]*)\(([^`]*)`/g),
      ...prose.matchAll(/(?<![\w$.`])([A-Za-z_$][\w$]*)\(()\)/g),
    ]
    for (const [, name = '', args = ''] of calls) {
      if (args.startsWith('s)') || /^_?[A-Z][A-Z0-9_]+$/.test(name) || PLACEHOLDERS.has(name)) continue
      if (!known.has(name)) problems.push(`${file}:${line}: \`${name}()\` names nothing that exists`)
    }
  }
  for (const file of readmes) {
    const content = text(file)
    content.split('\n').forEach((line, index) => {
      checkCalls(file, index + 1, line)
    })
    for (const block of codeBlocks(file)) checkImports(file, block.line, block.body.join('\n'))
  }
  for (const file of codeFiles) {
    for (const { line, text: comment } of comments(file)) {
      checkImports(file, line, comment)
      checkCalls(file, line, comment)
    }
  }
  return problems
})

interface ErrorExample {
  file: string
  line: number
  call: string
  code: string
  message: string
}

/** The `error-examples` blocks of every README. */
function errorExamples(): ErrorExample[] {
  const examples: ErrorExample[] = []
  for (const file of readmes) {
    for (const block of codeBlocks(file).filter((b) => /\berror-examples\b/.test(b.info))) {
      let current: ErrorExample | undefined
      block.body.forEach((raw, index) => {
        const line = raw.trim()
        const comment = /^\/\/ ?(.*)$/.exec(line)
        if (!line) return
        if (!comment) {
          current = { file, line: block.line + index, call: line, code: '', message: '' }
          examples.push(current)
        } else if (current && !current.code) {
          const [, code = '', message = ''] = /^(KA_ERR_[A-Z_]+): (.*)$/.exec(comment[1]!) ?? []
          current.code = code
          current.message = message
        } else if (current) current.message += `\n${comment[1]}`
      })
    }
  }
  return examples
}

/** Every export of every @keepalive entry, by name (for the examples' scope). */
async function scope(): Promise<Record<string, unknown>> {
  const all: Record<string, unknown> = {}
  for (const spec of keepaliveExports().keys()) {
    if (spec.endsWith('.json') || spec === '@keepalive/test-harness') continue
    Object.assign(all, await import(/* @vite-ignore */ spec))
  }
  return all
}

interface ChannelSource {
  name: string
  file: string
  line: number
  /** Keys of the message its doc comment describes, if it writes one out. */
  keys: string[] | undefined
}

/** Every `keepalive:*` channel the packages create (`diagnosticsChannel.channel('…')`), with its doc comment's message. */
const channelSources = once((): ChannelSource[] => {
  const out: ChannelSource[] = []
  for (const file of codeFiles.filter((f) => /^packages\/[^/]+\/src\//.test(f))) {
    const source = text(file)
    for (const match of source.matchAll(/diagnosticsChannel\.channel\('(keepalive:[^']+)'\)/g)) {
      const before = source.slice(0, match.index)
      const commentStart = before.lastIndexOf('/**')
      const commentEnd = before.lastIndexOf('*/')
      const comment =
        commentStart !== -1 && commentEnd > commentStart && before.slice(commentEnd).split('\n').length <= 3
          ? before.slice(commentStart, commentEnd).replace(/\n\s*\*/g, ' ')
          : ''
      out.push({
        name: match[1] as string,
        file,
        line: before.split('\n').length,
        keys: messageKeys(comment.replace(/\([^)]*\{[^)]*\)/g, '')),
      })
    }
  }
  return out
})

/**
 * Channel tables that stay true: every row names a channel a package creates, with the message keys its source
 * comment gives; every channel a package creates has a row in that package's README. (test/channels.test.ts checks
 * the tables against messages really published.)
 */
const channelProblems = once((): string[] => {
  const problems: string[] = []
  const sources = new Map(channelSources().map((c) => [c.name, c]))
  const rows = channelRows(readmes, text)
  for (const row of rows) {
    const source = sources.get(row.name)
    const where = `${row.file}:${row.line}`
    if (source === undefined) {
      problems.push(`${where}: no package creates ${row.name}`)
      continue
    }
    const documented = row.keys?.join(', ')
    const commented = source.keys?.join(', ')
    if (documented !== commented) {
      problems.push(
        `${where}: ${row.name} is { ${documented} } here, { ${commented} } in ${source.file}:${source.line}`,
      )
    }
  }
  for (const source of channelSources()) {
    const readme = `${source.file.split('/src/')[0]}/README.md`
    if (!rows.some((row) => row.file === readme && row.name === source.name)) {
      problems.push(`${readme}: no row for ${source.name} (created in ${source.file}:${source.line})`)
    }
  }
  return problems
})

describe('docs that stay true', () => {
  it('every file path named in a README or a comment exists', () => {
    const problems = pathProblems()
    expect(problems.filter((p) => !KNOWN_STALE.includes(p))).toEqual([])
  })

  it('every import from a @keepalive package and every `name()` in a README or a comment exists', () => {
    const problems = nameProblems()
    expect(problems.filter((p) => !KNOWN_STALE.includes(p))).toEqual([])
  })

  it('every channel table row names a created channel with its message keys; every channel has a row', () => {
    expect(channelSources().length, 'channels found in packages/*/src').toBeGreaterThan(20)
    const problems = channelProblems()
    expect(problems.filter((p) => !KNOWN_STALE.includes(p))).toEqual([])
  })

  it('each known stale item in another owner’s file is still stale (remove it from the list with the fix)', () => {
    const all = [...pathProblems(), ...nameProblems(), ...channelProblems()]
    expect(KNOWN_STALE.filter((item) => !all.includes(item))).toEqual([])
  })

  it('every example error message in a README is what the code produces', async () => {
    const examples = errorExamples()
    expect(examples.length, 'error-examples blocks found').toBeGreaterThan(0)
    const names = await scope()
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
      ...args: string[]
    ) => (...values: unknown[]) => Promise<unknown>
    for (const example of examples) {
      const where = `${example.file}:${example.line}: ${example.call}`
      expect(example.code, `${where}: no "// KA_ERR_…: message" line`).toMatch(/^KA_ERR_/)
      const run = new AsyncFunction(...Object.keys(names), `return (${example.call.replace(/;$/, '')})`)
      let error: unknown
      try {
        error = await run(...Object.values(names))
      } catch (thrown) {
        error = thrown
      }
      const got = error as { code?: string; message?: string }
      const pattern = new RegExp(
        `^${example.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<n>/g, String.raw`\d+(?:\.\d+)?`)}$`,
      )
      expect({ code: got?.code, message: got?.message }, where).toEqual({
        code: example.code,
        message: expect.stringMatching(pattern),
      })
    }
  })
})

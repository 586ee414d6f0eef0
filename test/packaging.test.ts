/**
 * Every published package as a user gets it. Each non-private `packages/<name>/package.json` is picked up (a new
 * package needs no edit here), built, and packed with `npm pack` — what `npm publish` uploads. Then, per package:
 *
 * - the tarball holds LICENSE, a README that stands alone on the registry page (install line, no `../` links), every
 *   file its exports name, source maps whose sources are in the tarball, and no build leftovers (`*.tsbuildinfo`);
 * - every package its built files import is a Node builtin or declared (dependencies, peer or optional): a sibling
 *   it uses but does not declare fails here, even though the workspace hides it;
 * - installed ALONE into an empty project (its tarball, core's, and the tarballs of the @keepalive packages it
 *   declares; third-party dependencies and peers from the registry through the shared npm cache; no install
 *   scripts, as npm 11 does until the user approves them), every export loads as ESM and through require(), with
 *   the same names as the source;
 * - a consumer that touches every export type-checks with `moduleResolution` node16 and bundler;
 * - publint (strict) and `attw --profile esm-only` on that tarball, and `npm publish --dry-run`, are clean.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { makeTempDir } from '@keepalive/test-harness'
import { beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = (name: string): string => join(root, 'node_modules', '.bin', name)

interface Manifest {
  name: string
  version: string
  private?: boolean
  license?: string
  main?: string
  types?: string
  exports?: Record<string, unknown>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

interface Published {
  dir: string
  manifest: Manifest
}

/** Every package a user can install: packages/<name>/package.json without `"private": true`. */
const published: Published[] = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, 'packages', entry.name, 'package.json')))
  .map((entry) => {
    const dir = join(root, 'packages', entry.name)
    return { dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }
  })
  .filter(({ manifest }) => !manifest.private)
const byName = new Map(published.map((p) => [p.manifest.name, p]))
const CORE = '@keepalive/core'

async function run(
  argv: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<string> {
  const [command = '', ...args] = argv
  try {
    const { stdout } = await promisify(execFile)(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      timeout: options.timeout ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    })
    return stdout
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    throw new Error(
      `${argv.join(' ')} (in ${options.cwd}) failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    )
  }
}

/** Every file path an `exports` map (all conditions), `main` and `types` name, without "./". */
function exportedFiles(manifest: Manifest): string[] {
  const files = new Set<string>()
  const walk = (value: unknown): void => {
    if (typeof value === 'string') files.add(posix.normalize(value))
    else if (value && typeof value === 'object') for (const v of Object.values(value)) walk(v)
  }
  walk(manifest.exports)
  if (manifest.main) files.add(posix.normalize(manifest.main))
  if (manifest.types) files.add(posix.normalize(manifest.types))
  return [...files]
}

/** The specifiers a user imports: the package name and each subpath export (package.json left out). */
function specifiers(manifest: Manifest): string[] {
  const keys = manifest.exports ? Object.keys(manifest.exports) : ['.']
  return keys
    .filter((key) => key !== './package.json' && !key.includes('*'))
    .map((key) => (key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`))
}

const isJson = (specifier: string): boolean => specifier.endsWith('.json')

/** The @keepalive packages `name` declares, transitively, plus core (every package stands on it). */
function siblingsOf(name: string, seen = new Set<string>([CORE])): Set<string> {
  const manifest = byName.get(name)?.manifest
  for (const dep of Object.keys({ ...manifest?.dependencies, ...manifest?.peerDependencies })) {
    if (dep.startsWith('@keepalive/') && !seen.has(dep)) {
      seen.add(dep)
      siblingsOf(dep, seen)
    }
  }
  return seen
}

/** Bare package names imported (import/export from, dynamic import, require) by built .js and .d.ts text. */
function importedPackages(text: string): string[] {
  const names = new Set<string>()
  const patterns = [
    /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g,
    /(?:^|[\s;])import\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ]
  for (const pattern of patterns) {
    for (const [, specifier = ''] of text.matchAll(pattern)) {
      if (specifier.startsWith('.') || specifier.startsWith('/')) continue
      const parts = specifier.split('/')
      names.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier))
    }
  }
  return [...names]
}

const builtins = new Set(builtinModules)
const isBuiltin = (name: string): boolean => name.startsWith('node:') || builtins.has(name)

let work = ''
const tarballs = new Map<string, { path: string; files: string[] }>()

describe(`published packages, installed alone (${published.map((p) => p.manifest.name).join(', ')}; Node ${process.version})`, () => {
  beforeAll(async () => {
    expect(published.map((p) => p.manifest.name)).toContain(CORE)
    work = makeTempDir('packaging').path
    const tarballDir = join(work, 'tarballs')
    mkdirSync(tarballDir)
    // What CI's build step does (turbo may have restored dist from its cache; tsc -b then has nothing to do).
    await run(
      [process.execPath, join(root, 'node_modules/typescript/bin/tsc'), '-b', ...published.map((p) => p.dir)],
      {
        cwd: root,
        timeout: 300_000,
      },
    )
    for (const { dir, manifest } of published) {
      // `npm pack` runs the same lifecycle scripts and file selection as `npm publish`.
      const out = await run(['npm', 'pack', '--json', '--pack-destination', tarballDir], { cwd: dir })
      const [info] = JSON.parse(out.slice(out.indexOf('['))) as {
        filename: string
        files: { path: string }[]
      }[]
      tarballs.set(manifest.name, {
        path: join(tarballDir, info!.filename),
        files: info!.files.map((f) => f.path),
      })
    }
  }, 600_000)

  for (const { dir, manifest } of published) {
    describe(manifest.name, () => {
      const tarball = () => tarballs.get(manifest.name)!

      it('ships LICENSE, a README that stands alone, every exported file, and nothing a user does not need', () => {
        const files = new Set(tarball().files)
        expect(manifest.license).toBe('MIT')
        expect(files.has('LICENSE'), 'LICENSE in the tarball').toBe(true)
        expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n/)
        expect(files.has('README.md'), 'README.md in the tarball').toBe(true)
        const readme = readFileSync(join(dir, 'README.md'), 'utf8')
        expect(readme, 'README: install line').toContain(`npm install ${manifest.name}`)
        expect(
          readme.match(/\]\(\.\.\/[^)]*\)/g) ?? [],
          'README: links into the monorepo break on the registry page',
        ).toEqual([])
        for (const file of exportedFiles(manifest))
          expect(files.has(file), `${file} (named by package.json)`).toBe(true)
        const leftovers = [...files].filter((f) =>
          /\.tsbuildinfo$|(^|\/)test\/|\.test\.[cm]?[jt]s$|(^|\/)\.turbo\//.test(f),
        )
        expect(leftovers, 'build or test leftovers in the tarball').toEqual([])
        // Declaration and source maps must point at files the tarball contains (the sources ship in src/).
        for (const map of [...files].filter((f) => f.endsWith('.map'))) {
          const { sources } = JSON.parse(readFileSync(join(dir, map), 'utf8')) as { sources: string[] }
          for (const source of sources) {
            const target = posix.normalize(posix.join(posix.dirname(map), source))
            expect(files.has(target), `${map} points at ${target}`).toBe(true)
          }
        }
      })

      it('imports only Node builtins and the packages it declares', () => {
        const declared = new Set([
          manifest.name,
          ...Object.keys({
            ...manifest.dependencies,
            ...manifest.peerDependencies,
            ...manifest.optionalDependencies,
          }),
        ])
        const undeclared = new Map<string, string>()
        for (const file of tarball().files.filter((f) => /^dist\/.*\.(?:[cm]?js|d\.[cm]?ts)$/.test(f))) {
          for (const name of importedPackages(readFileSync(join(dir, file), 'utf8'))) {
            if (!isBuiltin(name) && !declared.has(name)) undeclared.set(name, file)
          }
        }
        expect(Object.fromEntries(undeclared), 'imported but not declared in package.json').toEqual({})
      })

      it('installed alone, every export loads as ESM and through require(), with the names of the source', async () => {
        const project = join(work, `consumer-${manifest.name.replace(/[@/]/g, '_')}`)
        mkdirSync(project)
        writeFileSync(
          join(project, 'package.json'),
          `${JSON.stringify({ name: 'consumer', private: true, type: 'module' })}\n`,
        )
        const own = [...siblingsOf(manifest.name), manifest.name].map((name) => {
          const packed = tarballs.get(name)
          if (!packed)
            throw new Error(`${manifest.name} declares ${name}, which is not a package of this repository`)
          return packed.path
        })
        await run(
          ['npm', 'install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...own],
          {
            cwd: project,
            timeout: 300_000,
          },
        )
        const specs = specifiers(manifest)
        const esm = `const out = {}
for (const spec of ${JSON.stringify(specs)}) {
  const m = await import(spec, spec.endsWith('.json') ? { with: { type: 'json' } } : undefined)
  out[spec] = Object.keys(m).sort()
}
console.log(JSON.stringify(out))`
        const cjs = `const out = {}
for (const spec of ${JSON.stringify(specs)}) out[spec] = Object.keys(require(spec)).filter((k) => k !== '__esModule' && k !== 'module.exports').sort()
console.log(JSON.stringify(out))`
        writeFileSync(join(project, 'esm.mjs'), esm)
        writeFileSync(join(project, 'cjs.cjs'), cjs)
        const loaded = JSON.parse(await run([process.execPath, 'esm.mjs'], { cwd: project })) as Record<
          string,
          string[]
        >
        const required = JSON.parse(
          await run([process.execPath, '--no-warnings', 'cjs.cjs'], { cwd: project }),
        ) as Record<string, string[]>
        for (const spec of specs) {
          // The same names as the package's source (vitest resolves the name to src/ through @keepalive/source).
          const source = isJson(spec)
            ? ['default']
            : Object.keys(await import(/* @vite-ignore */ spec)).sort()
          expect(loaded[spec], `import('${spec}')`).toEqual(source)
          if (!isJson(spec))
            expect(required[spec], `require('${spec}')`).toEqual(source.filter((k) => k !== 'default'))
        }
      }, 300_000)

      it('a consumer touching every export type-checks with moduleResolution node16 and bundler', async () => {
        const project = join(work, `consumer-${manifest.name.replace(/[@/]/g, '_')}`)
        const lines: string[] = []
        const specs = specifiers(manifest).filter((s) => !isJson(s))
        for (const [i, spec] of specs.entries()) {
          const names = Object.keys(await import(/* @vite-ignore */ spec)).filter((k) => k !== 'default')
          lines.push(`import * as m${i} from '${spec}'`)
          lines.push(`export const uses${i}: unknown[] = [${names.map((n) => `m${i}.${n}`).join(', ')}]`)
        }
        writeFileSync(join(project, 'consumer.ts'), `${lines.join('\n')}\n`)
        for (const [label, options] of [
          ['node16', { module: 'node16', moduleResolution: 'node16' }],
          ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
        ] as const) {
          const config = {
            compilerOptions: {
              ...options,
              target: 'es2022',
              strict: true,
              noEmit: true,
              // Our .d.ts files are checked by the build, attw and the import scan above; checking every library's
              // declarations (zod's alone take ~40 s) would add nothing here.
              skipLibCheck: true,
              types: ['node'],
              typeRoots: [join(root, 'node_modules/@types')],
            },
            files: ['consumer.ts'],
          }
          writeFileSync(join(project, `tsconfig.${label}.json`), JSON.stringify(config))
          await run(
            [process.execPath, join(root, 'node_modules/typescript/bin/tsc'), '-p', `tsconfig.${label}.json`],
            {
              cwd: project,
            },
          )
        }
      }, 300_000)

      it('publint (strict), attw --profile esm-only and npm publish --dry-run are clean', async () => {
        // Both read the tarball npm pack made above: what `attw --pack` and publint's own packing would make.
        await run([bin('publint'), 'run', tarball().path, '--strict'], { cwd: root })
        await run([bin('attw'), tarball().path, '--profile', 'esm-only', '--format', 'ascii'], { cwd: root })
        const out = await run(['npm', 'publish', '--dry-run', '--loglevel=notice'], { cwd: dir })
        expect(out).toContain(`${manifest.name}@${manifest.version}`)
      }, 300_000)
    })
  }
})

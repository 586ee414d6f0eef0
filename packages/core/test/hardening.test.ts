/**
 * Issue #9, the config, policy, duration and explain items (3, 4, 5, 13, 14, 15): each test failed on the tree
 * the issue was filed against and names the item it covers.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import {
  ConfigInvalidError,
  ConfigNotFoundError,
  ConfigParseError,
  definePolicy,
  explain,
  httpClientSettings,
  InvalidArgumentError,
  isKeepaliveError,
  type KeepaliveConfig,
  KeepaliveError,
  loadConfig,
  MAX_CONFIG_BYTES,
  mqttSettings,
  parseConfig,
  parseKeepAliveHeader,
  policyFor,
  presets,
  sshSettings,
  tcpSettings,
} from '@keepalive/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  dirWith,
  recordDeadline,
  rejection,
  revokedProxy,
  tempDir,
  throwingGetter,
  throwingProxy,
  thrown,
} from './helpers.js'

/**
 * Bound for inputs that were quadratic: linear work on 100k characters takes under 20 ms here, the quadratic
 * paths took 6–26 s. 1 s leaves room for eight test processes on two cores without letting a quadratic path by.
 */
const LINEAR_BOUND_MS = 1000

function timed(run: () => unknown): number {
  const start = performance.now()
  run()
  return performance.now() - start
}

/** A FIFO made with mkfifo(1) (coreutils): opening it for reading blocks until a writer comes. */
async function fifoIn(dir: string, name: string): Promise<string> {
  const path = join(dir, name)
  execFileSync('mkfifo', [path])
  return path
}

describe('#9.3 a named config must be a regular file, read without blocking', () => {
  it('loadConfig({ file }) naming a FIFO is refused at once instead of hanging', async () => {
    const dir = await tempDir()
    const fifo = await fifoIn(dir, 'keepalive.yaml')
    const error = await rejection(loadConfig({ file: fifo, env: {} }))
    expect(error).toBeInstanceOf(ConfigNotFoundError)
    expect(error.message).toBe(
      `Config file ${fifo} (named by the \`file\` option) is a FIFO, not a regular file`,
    )
  })

  it('KEEPALIVE_CONFIG naming a FIFO too', async () => {
    const dir = await tempDir()
    const fifo = await fifoIn(dir, 'k.json')
    const error = await rejection(loadConfig({ cwd: dir, env: { KEEPALIVE_CONFIG: 'k.json' } }))
    expect(error).toBeInstanceOf(ConfigNotFoundError)
    expect(error.message).toContain(`${fifo} (named by KEEPALIVE_CONFIG) is a FIFO`)
  })

  it('/dev/zero is a character device, refused before a byte is read', async () => {
    const start = performance.now()
    const error = await rejection(loadConfig({ file: '/dev/zero', env: {} }))
    expect(error).toBeInstanceOf(ConfigNotFoundError)
    expect(error.message).toContain('is a character device, not a regular file')
    // Refused on fstat: no read at all (it took 3.3 s of reading before). Generous for a shared machine.
    recordDeadline({
      test: 'core/hardening: /dev/zero refused',
      measured: performance.now() - start,
      max: LINEAR_BOUND_MS,
      slack: 'linear-work guard; 8 test processes on 2 cores (strict <)',
    })
    expect(performance.now() - start).toBeLessThan(LINEAR_BOUND_MS)
  })
})

describe('#9.4 durations are checked in linear time, with the same grammar', () => {
  const spaces = ' '.repeat(100_000)

  it.each([
    ['definePolicy', () => definePolicy({ idle: `${spaces}x` })],
    ['digits between runs of spaces', () => definePolicy({ idle: `${spaces}1${spaces}1` })],
    ['a YAML config', () => parseConfig(`policy:\n  idle: "${spaces}x"\n`)],
    ['JSON tcp.userTimeout', () => parseConfig(`{"tcp":{"userTimeout":"${spaces}x"}}`, { format: 'json' })],
  ])('100k spaces and a letter through %s: a KeepaliveError within the bound', (name, run) => {
    let error: unknown
    const ms = timed(() => {
      error = thrown(run)
    })
    expect(error).toBeInstanceOf(KeepaliveError)
    recordDeadline({
      test: `core/hardening: 100k spaces through ${name}`,
      measured: ms,
      max: LINEAR_BOUND_MS,
      slack: 'linear-work guard; 8 test processes on 2 cores (strict <)',
    })
    expect(ms).toBeLessThan(LINEAR_BOUND_MS)
  })

  it('still accepts surrounding and inner whitespace, and still asks a bare number for a unit', () => {
    expect(definePolicy({ idle: `  1h 30m\t`, interval: '\n5s ' })).toMatchObject({
      idle: 5_400_000,
      interval: 5_000,
    })
    expect(thrown(() => definePolicy({ idle: ' 30 ' })).message).toContain('a string needs a unit')
    expect(thrown(() => definePolicy({ idle: '- 5' })).message).toContain('a string needs a unit')
  })
})

describe('#9.5 config size limit and a short list of unknown keys', () => {
  it(`refuses config text over MAX_CONFIG_BYTES (${MAX_CONFIG_BYTES}) before parsing it`, () => {
    // 40k unknown keys took 13.8 s (JSON) and 26.4 s (YAML) to report.
    const keys = Array.from({ length: 40_000 }, (_, i) => `"k${i}": 1`).join(',\n')
    let error: Error | undefined
    const ms = timed(() => {
      error = thrown(() => parseConfig(`{${keys}}`, { format: 'json' }))
    })
    expect(error).toBeInstanceOf(ConfigParseError)
    expect(error?.message).toBe(
      `Cannot parse <config text>: it is larger than ${MAX_CONFIG_BYTES} bytes (64 KiB, MAX_CONFIG_BYTES), far more than any keepalive config`,
    )
    recordDeadline({
      test: 'core/hardening: 40k unknown keys refused by size',
      measured: ms,
      max: LINEAR_BOUND_MS,
      slack: 'linear-work guard; 8 test processes on 2 cores (strict <)',
    })
    expect(ms).toBeLessThan(LINEAR_BOUND_MS)
  })

  it('refuses a config file over the limit, by its size', async () => {
    const dir = await dirWith({ 'keepalive.config.yaml': `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n` })
    const error = await rejection(loadConfig({ cwd: dir, env: {} }))
    expect(error).toBeInstanceOf(ConfigParseError)
    expect(error.message).toContain(`larger than ${MAX_CONFIG_BYTES} bytes`)
  })

  it('reads a file of exactly the limit', async () => {
    const text = 'policy: fast\n'
    const dir = await dirWith({ 'keepalive.config.yaml': text + '#'.repeat(MAX_CONFIG_BYTES - text.length) })
    expect((await loadConfig({ cwd: dir, env: {} })).policy).toBe(presets.fast)
  })

  it('lists five unknown keys and counts the rest', () => {
    const text = Array.from({ length: 5_000 }, (_, i) => `k${i}: 1`).join('\n')
    const error = thrown(() => parseConfig(`tcp:\n${text.replace(/^/gm, '  ')}\n`))
    expect(error).toBeInstanceOf(ConfigInvalidError)
    const lines = error.message.split('\n')
    expect(lines.filter((line) => line.includes('unknown field "tcp.k'))).toHaveLength(5)
    expect(error.message).toContain('and 4995 more unknown fields in "tcp"')
  })
})

describe('#9.13 config mistakes are errors', () => {
  it('a duplicate key in JSON, at the line of the second one', () => {
    const error = thrown(() =>
      parseConfig('{\n  "tcp": {\n    "probes": 0,\n    "probes": 3\n  }\n}', { format: 'json' }),
    )
    expect(error).toBeInstanceOf(ConfigParseError)
    expect(error.message).toBe('Cannot parse <config text>:4:5: duplicate key "probes" (first on line 3)')
  })

  it('a duplicate key in a YAML section too', () => {
    const error = thrown(() => parseConfig('tcp:\n  probes: 1\n  idle: 5s\n  probes: 2\n'))
    expect(error.message).toBe('Cannot parse <config text>:4:3: duplicate key "probes" (first on line 2)')
  })

  describe('something not a regular file named keepalive.config.* on the search path', () => {
    /** A directory holding `make`'s entry, below a parent whose valid file must not be loaded instead. */
    async function below(make: (path: string) => Promise<unknown>): Promise<Error> {
      const parent = await dirWith({ 'keepalive.config.yaml': 'policy: battery\n' })
      const dir = join(parent, 'service')
      await mkdir(dir)
      await make(join(dir, 'keepalive.config.json'))
      return rejection(loadConfig({ cwd: dir, env: {} }))
    }

    it.each([
      [
        'a dangling symlink',
        (p: string) => symlink('missing.json', p),
        'is a symbolic link to a missing file',
      ],
      ['a directory', (p: string) => mkdir(p), 'is a directory, not a regular file'],
      ['a FIFO', async (p: string) => execFileSync('mkfifo', [p]), 'is a FIFO, not a regular file'],
      ['a symlink loop', (p: string) => symlink('keepalive.config.json', p), 'is a symbolic link loop'],
    ])('%s is an error, not skipped for the parent file', async (_, make, problem) => {
      const error = await below(make)
      expect(error).toBeInstanceOf(ConfigNotFoundError)
      expect(error.message).toMatch(/keepalive\.config\.json \(found in the upward search\) /)
      expect(error.message).toContain(problem)
    })

    it('a symlink to a regular file is read', async () => {
      const dir = await dirWith({ 'real.yaml': 'policy: fast\n' })
      await symlink('real.yaml', join(dir, 'keepalive.config.yaml'))
      expect((await loadConfig({ cwd: dir, env: {} })).policy).toBe(presets.fast)
    })
  })

  it('loadConfig({ cwd }) naming a missing directory or a file', async () => {
    const dir = await dirWith({ 'file.txt': '' })
    const missing = await rejection(loadConfig({ cwd: join(dir, 'nope'), env: {} }))
    expect(missing).toBeInstanceOf(InvalidArgumentError)
    expect(missing.message).toBe(`loadConfig: cwd ${JSON.stringify(join(dir, 'nope'))} does not exist`)
    const file = await rejection(loadConfig({ cwd: join(dir, 'file.txt'), env: {} }))
    expect(file).toBeInstanceOf(InvalidArgumentError)
    expect(file.message).toContain('is a regular file, not a directory')
  })

  it('parseConfig with an unknown format or option', () => {
    const error = thrown(() => parseConfig('policy: fast', { format: 'toml' as never }))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message).toBe('parseConfig: options.format must be "json" or "yaml", got "toml"')
    expect(thrown(() => parseConfig('{}', { fromat: 'json' } as never)).message).toBe(
      'parseConfig: unknown option "fromat" (did you mean "format"?); allowed: format, file, env',
    )
  })

  it('a typo in a config section reaching policyFor', () => {
    const config = { policy: presets.balanced, tcp: { idel: 1 } } as unknown as KeepaliveConfig
    const error = thrown(() => policyFor(config, 'tcp'))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message).toMatch(/^policyFor: config\.tcp: unknown field "idel" \(did you mean "idle"\?\)/)
  })

  it('unknown KEEPALIVE_* variables, named with a suggestion', async () => {
    const error = await rejection(
      loadConfig({
        cwd: await tempDir(),
        env: { KEEPALIVE_IDEL: '5s', KEEPALIVE_FOO: '1', KEEPALIVE_X: ' ' },
      }),
    )
    expect(error).toBeInstanceOf(ConfigInvalidError)
    expect(error.message).toBe(
      'Unknown environment variables KEEPALIVE_IDEL (did you mean "KEEPALIVE_IDLE"?), KEEPALIVE_FOO; known: KEEPALIVE_CONFIG, KEEPALIVE_POLICY, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES (unset or rename it)',
    )
    expect(() => parseConfig('{}', { env: { KEEPALIVE_PROBE: '3' } })).toThrow(
      'KEEPALIVE_PROBE (did you mean "KEEPALIVE_PROBES"?)',
    )
  })

  it('an unknown YAML tag', () => {
    const error = thrown(() => parseConfig('policy: !foo fast\n'))
    expect(error).toBeInstanceOf(ConfigInvalidError)
    expect(error.message).toBe(
      'Invalid config in <config text>: line 1: Unresolved tag: !foo (a keepalive config takes plain values)',
    )
  })
})

describe('#9.14 the protocol functions take any PolicyLike', () => {
  it.each([
    ['tcpSettings', tcpSettings],
    ['mqttSettings', mqttSettings],
    ['sshSettings', sshSettings],
    ['httpClientSettings', (p: unknown) => httpClientSettings(p as never)],
  ] as const)('%s: "fast" gives what presets.fast gives, and garbage is KA_ERR_INVALID_POLICY', (_, fn) => {
    expect(fn('fast' as never)).toEqual(fn(presets.fast as never))
    expect(fn({ preset: 'fast' } as never)).toEqual(fn(presets.fast as never))
    for (const garbage of ['fsat', 5, [], { idel: 1 }, throwingProxy({})]) {
      let error: unknown
      try {
        fn(garbage as never)
      } catch (caught) {
        error = caught
      }
      expect(isKeepaliveError(error, 'KA_ERR_INVALID_POLICY')).toBe(true)
    }
  })
})

describe('#9.15 typed errors and clear messages', () => {
  let warnings: unknown[]
  const onWarning = (warning: unknown) => warnings.push(warning)
  beforeEach(() => {
    warnings = []
    process.on('warning', onWarning)
  })
  afterEach(() => {
    process.off('warning', onWarning)
  })

  it('parseConfig(Buffer) says to decode it', () => {
    const error = thrown(() => parseConfig(Buffer.from('policy: fast') as never))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message).toBe(
      "parseConfig: text must be a string (decode a Buffer first: buffer.toString('utf8')), got a Buffer",
    )
  })

  it('parseConfig(s, null) and a number in its env', () => {
    expect(thrown(() => parseConfig('{}', null as never)).message).toBe(
      'parseConfig: options must be an object, got null',
    )
    const error = thrown(() => parseConfig('{}', { env: { KEEPALIVE_IDLE: 5 } as never }))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message).toBe(
      'parseConfig: options.env.KEEPALIVE_IDLE must be a string (environment values are text), got 5',
    )
  })

  it('loadConfig({ file: 123 }) and an env value that is a number', async () => {
    expect((await rejection(loadConfig({ file: 123 as never }))).message).toBe(
      'loadConfig: options.file must be a string, got 123',
    )
    const error = await rejection(loadConfig({ env: { KEEPALIVE_PROBES: 3 } as never }))
    expect(error).toBeInstanceOf(InvalidArgumentError)
  })

  it.each([
    ['a throwing getter', () => throwingGetter('KEEPALIVE_IDLE')],
    ['a Proxy whose traps throw', () => throwingProxy({})],
    ['a revoked Proxy', () => revokedProxy()],
  ])("loadConfig's env as %s", async (_, make) => {
    const error = await rejection(loadConfig({ cwd: await tempDir(), env: make() as never }))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message).toMatch(
      /^loadConfig: could not read options\.env|^loadConfig: options\.env must be/,
    )
  })

  it.each([
    ['a throwing pathIdleTimeout getter', () => throwingGetter('pathIdleTimeout')],
    ['a throwing protocols getter', () => throwingGetter('protocols')],
    ['a Proxy whose traps throw', () => throwingProxy({})],
    ['protocols a Proxy whose traps throw', () => ({ protocols: throwingProxy(['tcp']) })],
  ])('explain options as %s', (_, make) => {
    const error = thrown(() => explain('fast', make() as never))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message).toMatch(/^explain: could not read/)
  })

  it('explain names a misspelt option', () => {
    expect(thrown(() => explain('fast', { pathIdleTimout: 1 } as never)).message).toBe(
      'explain: unknown option "pathIdleTimout" (did you mean "pathIdleTimeout"?); allowed: protocols, pathIdleTimeout',
    )
  })

  it('parseKeepAliveHeader never throws, also on hostile values', () => {
    expect(parseKeepAliveHeader(revokedProxy([]))).toBeUndefined()
    expect(parseKeepAliveHeader(throwingProxy(['timeout=5']))).toBeUndefined()
  })

  it('isKeepaliveError answers false for a Proxy whose traps throw', () => {
    expect(isKeepaliveError(throwingProxy({}))).toBe(false)
  })

  it('KEEPALIVE_IDLE=-5 is told it must be positive, not that it needs a unit', () => {
    const error = thrown(() => parseConfig('{}', { env: { KEEPALIVE_IDLE: '-5' } }))
    expect(error).toBeInstanceOf(ConfigInvalidError)
    expect(error.message).toBe(
      'Invalid environment variable KEEPALIVE_IDLE: must be a positive duration (ms number or string like "30s", "1h30m"), got "-5"',
    )
  })

  it('a YAML complex key is an error, with no process warning', async () => {
    const error = thrown(() => parseConfig('? [tcp, http]\n: { probes: 3 }\n'))
    expect(error).toBeInstanceOf(ConfigInvalidError)
    expect(error.message).toBe(
      'Invalid config in <config text>: line 1: a key must be a plain name, not a list or mapping',
    )
    // process.emitWarning reports on the next tick.
    await new Promise((resolve) => setImmediate(resolve))
    expect(warnings).toEqual([])
  })
})

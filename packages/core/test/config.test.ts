import { copyFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  ConfigInvalidError,
  ConfigNotFoundError,
  ConfigParseError,
  InvalidArgumentError,
  type KeepaliveConfig,
  loadConfig,
  policyFor,
  presets,
} from '@keepalive/core'
import { channels } from '@keepalive/core/internal'
import { describe, expect, it } from 'vitest'
import { dirWith, rejection, tempDir } from './helpers.js'

const fixtures = fileURLToPath(new URL('./fixtures/config/', import.meta.url))

/** Loads with an empty environment unless one is given, so the machine's variables never leak in. */
function load(cwd: string, env: Record<string, string> = {}, file?: string): Promise<KeepaliveConfig> {
  return loadConfig({ cwd, env, ...(file === undefined ? {} : { file }) })
}

describe('loadConfig: options', () => {
  it.each([
    ['null', null],
    ['a string', '/etc/keepalive.yaml'],
    ['cwd a number', { cwd: 5 }],
    ['file a number', { file: 5 }],
    ['env null', { env: null }],
    ['env with a number', { env: { KEEPALIVE_IDLE: 5 } }],
  ])('rejects %s with InvalidArgumentError', async (_, options) => {
    await expect(loadConfig(options as never)).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})

describe('loadConfig: finding the file', () => {
  it('falls back to the balanced defaults when no file exists up to the root', async () => {
    const config = await load(await tempDir())
    expect(config.policy).toEqual(presets.balanced)
    expect(config.path.idleTimeout).toBeUndefined()
    expect(config.source).toEqual({ file: undefined, env: [] })
    expect(config.tcp).toEqual({})
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('finds keepalive.config.yaml in the working directory', async () => {
    const dir = await dirWith({ 'keepalive.config.yaml': 'policy: fast\n' })
    const config = await load(dir)
    expect(config.policy).toEqual(presets.fast)
    expect(config.source.file).toBe(join(dir, 'keepalive.config.yaml'))
  })

  it('walks up from a nested directory, and the nearest file wins', async () => {
    const dir = await dirWith({
      'keepalive.config.yml': 'policy: battery\n',
      'a/keepalive.config.json': '{ "policy": "fast" }',
      'a/b/c/.keep': '',
    })
    expect((await load(join(dir, 'a/b/c'))).source.file).toBe(join(dir, 'a/keepalive.config.json'))
    expect((await load(join(dir, 'a/b/c'))).policy).toEqual(presets.fast)
    expect((await load(dir)).policy).toEqual(presets.battery)
  })

  it('prefers .json, then .yaml, then .yml in one directory', async () => {
    const dir = await dirWith({
      'keepalive.config.yml': 'policy: battery\n',
      'keepalive.config.yaml': 'policy: balanced\n',
    })
    expect((await load(dir)).policy.preset).toBe('balanced')
    await writeFile(join(dir, 'keepalive.config.json'), '{ "policy": "fast" }')
    expect((await load(dir)).policy.preset).toBe('fast')
  })

  it('reads the file named by the option, relative to cwd', async () => {
    const dir = await dirWith({
      'conf/ka.yaml': 'policy: fast\n',
      'keepalive.config.yaml': 'policy: battery\n',
    })
    const config = await load(dir, {}, 'conf/ka.yaml')
    expect(config.policy.preset).toBe('fast')
    expect(config.source.file).toBe(join(dir, 'conf/ka.yaml'))
  })

  it('reads the file named by KEEPALIVE_CONFIG, and records the variable', async () => {
    const dir = await dirWith({
      'ka.json': '{ "policy": "fast" }',
      'keepalive.config.yaml': 'policy: battery\n',
    })
    const config = await load(dir, { KEEPALIVE_CONFIG: 'ka.json' })
    expect(config.policy.preset).toBe('fast')
    expect(config.source.env).toEqual(['KEEPALIVE_CONFIG'])
  })

  it('lets the option win over KEEPALIVE_CONFIG', async () => {
    const dir = await dirWith({ 'a.yaml': 'policy: fast\n', 'b.yaml': 'policy: battery\n' })
    const config = await load(dir, { KEEPALIVE_CONFIG: 'b.yaml' }, 'a.yaml')
    expect(config.policy.preset).toBe('fast')
    expect(config.source.env).toEqual([])
  })

  it('fails with ConfigNotFoundError when a named file is missing', async () => {
    const dir = await tempDir()
    const byOption = await rejection(load(dir, {}, 'missing.yaml'))
    expect(byOption).toBeInstanceOf(ConfigNotFoundError)
    expect(byOption.message).toBe(
      `Config file ${join(dir, 'missing.yaml')} (named by the \`file\` option) does not exist`,
    )
    const byEnv = await rejection(load(dir, { KEEPALIVE_CONFIG: join(dir, 'nope.json') }))
    expect(byEnv).toBeInstanceOf(ConfigNotFoundError)
    expect(byEnv.message).toContain('named by KEEPALIVE_CONFIG')
    expect((byEnv as ConfigNotFoundError).code).toBe('KA_ERR_CONFIG_NOT_FOUND')
  })

  it('treats a blank KEEPALIVE_CONFIG as unset', async () => {
    const dir = await dirWith({ 'keepalive.config.yaml': 'policy: fast\n' })
    expect((await load(dir, { KEEPALIVE_CONFIG: '  ' })).policy.preset).toBe('fast')
  })

  it('publishes { file, env } on keepalive:config:load', async () => {
    const dir = await dirWith({ 'keepalive.config.yaml': 'policy: fast\n' })
    const messages: unknown[] = []
    const listener = (message: unknown) => messages.push(message)
    channels.configLoad.subscribe(listener)
    try {
      await load(dir, { KEEPALIVE_PROBES: '4' })
    } finally {
      channels.configLoad.unsubscribe(listener)
    }
    expect(messages).toEqual([{ file: join(dir, 'keepalive.config.yaml'), env: ['KEEPALIVE_PROBES'] }])
  })
})

describe('loadConfig: the file format', () => {
  it('reads the example of DESIGN.md', async () => {
    const dir = await tempDir()
    await copyFile(join(fixtures, 'design-example.yaml'), join(dir, 'keepalive.config.yaml'))
    const config = await load(dir)
    expect(config.policy).toEqual(presets.balanced)
    expect(config.path).toEqual({ idleTimeout: 60_000 })
    expect(config.tcp).toEqual({ probes: 5 })
    expect(config.http).toEqual({ maxSocketAge: 300_000 })
    expect(policyFor(config, 'tcp')).toEqual({ ...presets.balanced, probes: 5 })
    expect(policyFor(config, 'mqtt')).toEqual({ ...presets.balanced, idle: 45_000 })
    expect(policyFor(config, 'http')).toEqual(presets.balanced)
    expect(policyFor(config, 'ssh')).toEqual(presets.balanced)
    expect(Object.isFrozen(policyFor(config, 'tcp'))).toBe(true)
    for (const part of [config.path, config.tcp, config.http, config.mqtt, config.ssh, config.source]) {
      expect(Object.isFrozen(part)).toBe(true)
    }
  })

  it('reads every setting of every section (JSON, with $schema)', async () => {
    const dir = await tempDir()
    await copyFile(join(fixtures, 'full.json'), join(dir, 'keepalive.config.json'))
    const config = await load(dir)
    expect(config.policy).toEqual({ idle: 10_000, interval: 1_000, probes: 3, jitter: 0.1, preset: 'fast' })
    expect(config.tcp).toEqual({ userTimeout: false, probes: 4 })
    expect(config.http).toEqual({
      maxSocketAge: 300_000,
      maxRequestsPerSocket: 100,
      serverKeepAliveTimeout: 65_000,
    })
    expect(config.mqtt).toEqual({ preset: 'battery', pingrespTimeout: 10_000 })
    // A section's preset replaces the base; fields it leaves out come from that preset, not from `policy`.
    expect(policyFor(config, 'mqtt')).toEqual(presets.battery)
    expect(policyFor(config, 'ssh')).toEqual({ ...config.policy, interval: 15_000 })
    expect(policyFor(config, 'tcp')).toEqual({ ...config.policy, probes: 4 })
  })

  it.each([
    'policy: !!omap [ { idle: 1h }, { probes: 9 } ]',
    'tcp: !!omap [ { probes: 0 } ]',
    'tcp: !!timestamp 2001-12-14',
    'policy: !!set { fast }',
  ])(
    'rejects YAML 1.1 tags that would become a Map, Set or Date and pass as an empty section: %s',
    async (text) => {
      const dir = await dirWith({ 'keepalive.config.yaml': `${text}\n` })
      await expect(load(dir)).rejects.toBeInstanceOf(ConfigInvalidError)
    },
  )

  it('reads an empty YAML file as the defaults', async () => {
    const dir = await dirWith({ 'keepalive.config.yaml': '# nothing yet\n' })
    const config = await load(dir)
    expect(config.policy).toEqual(presets.balanced)
    expect(config.source.file).toBe(join(dir, 'keepalive.config.yaml'))
  })
})

describe('loadConfig: environment overrides', () => {
  const file = 'policy: battery\ntcp:\n  idle: 20s\nmqtt:\n  preset: fast\nssh:\n  probes: 7\n'

  it('KEEPALIVE_POLICY replaces the file policy; the sections still apply over it', async () => {
    const config = await load(await dirWith({ 'keepalive.config.yaml': file }), {
      KEEPALIVE_POLICY: 'linux-default',
    })
    expect(config.policy).toBe(presets['linux-default'])
    expect(policyFor(config, 'tcp')).toEqual({ ...presets['linux-default'], idle: 20_000 })
    expect(config.source.env).toEqual(['KEEPALIVE_POLICY'])
  })

  it('KEEPALIVE_IDLE, _INTERVAL and _PROBES have the last word in every protocol', async () => {
    const config = await load(await dirWith({ 'keepalive.config.yaml': file }), {
      KEEPALIVE_IDLE: '40s',
      KEEPALIVE_INTERVAL: '2500',
      KEEPALIVE_PROBES: '4',
    })
    const expected = { idle: 40_000, interval: 2_500, probes: 4 }
    expect(config.policy).toMatchObject(expected)
    for (const protocol of ['tcp', 'http', 'mqtt', 'ssh'] as const) {
      expect(policyFor(config, protocol)).toMatchObject(expected)
    }
    expect(config.tcp).toEqual({ idle: 40_000 })
    expect(config.source.env).toEqual(['KEEPALIVE_IDLE', 'KEEPALIVE_INTERVAL', 'KEEPALIVE_PROBES'])
  })

  it('applies without a file too, and ignores blank variables', async () => {
    const config = await load(await tempDir(), { KEEPALIVE_POLICY: 'fast', KEEPALIVE_IDLE: '' })
    expect(config.policy).toBe(presets.fast)
    expect(config.source).toEqual({ file: undefined, env: ['KEEPALIVE_POLICY'] })
  })

  it.each([
    [
      'KEEPALIVE_POLICY',
      'balance',
      'Invalid environment variable KEEPALIVE_POLICY: must be one of "fast", "balanced", "battery", "linux-default", got "balance" (did you mean "balanced"?)',
    ],
    [
      'KEEPALIVE_IDLE',
      'ten seconds',
      'Invalid environment variable KEEPALIVE_IDLE: must be a positive duration (ms number or string like "30s", "1h30m"), got "ten seconds"',
    ],
    ['KEEPALIVE_INTERVAL', '-5s', 'KEEPALIVE_INTERVAL: must be a positive duration'],
    [
      'KEEPALIVE_PROBES',
      '2.5',
      'Invalid environment variable KEEPALIVE_PROBES: must be a whole number from 1 to 1000, got "2.5"',
    ],
    ['KEEPALIVE_PROBES', 'three', 'got "three"'],
  ])('rejects %s=%j with ConfigInvalidError', async (name, value, message) => {
    const error = await rejection(load(await tempDir(), { [name]: value }))
    expect(error).toBeInstanceOf(ConfigInvalidError)
    expect(error.message).toContain(message)
  })
})

describe('loadConfig: errors point at the line', () => {
  it('a YAML syntax error: ConfigParseError with file:line:column', async () => {
    const dir = await dirWith({ 'keepalive.config.yaml': 'policy: fast\ntcp:\n\tprobes: 5\n' })
    const error = await rejection(load(dir))
    expect(error).toBeInstanceOf(ConfigParseError)
    expect((error as ConfigParseError).code).toBe('KA_ERR_CONFIG_PARSE')
    expect(error.message).toMatch(/^Cannot parse .*keepalive\.config\.yaml:3:1: .*tab/i)
  })

  it('a duplicate YAML key is a parse error', async () => {
    const dir = await dirWith({ 'keepalive.config.yaml': 'policy: fast\npolicy: battery\n' })
    const error = await rejection(load(dir))
    expect(error).toBeInstanceOf(ConfigParseError)
    expect(error.message).toContain('keepalive.config.yaml:2:1')
  })

  it.each([
    [
      'a trailing comma',
      '{\n  "policy": "fast",\n  "tcp": { "probes": 1, }\n}',
      '3:25',
      'Expected double-quoted property name',
    ],
    ['a missing value', '{\n  "policy": "fast",\n  "tcp": { "probes": }\n}', '3:22', "Unexpected token '}'"],
    [
      'a missing comma',
      '{\n  "policy": "fast"\n  "tcp": {}\n}',
      '3:3',
      "Expected ',' or '}' after property value",
    ],
    ['a comment', '// settings\n{ "policy": "fast" }', '1:1', "Unexpected token '/'"],
    ['an empty file', '', '1:1', 'Unexpected end of JSON input'],
  ])('a JSON syntax error (%s): ConfigParseError with line:column', async (_name, text, position, reason) => {
    const dir = await dirWith({ 'keepalive.config.json': text })
    const error = await rejection(load(dir))
    expect(error).toBeInstanceOf(ConfigParseError)
    expect(error.message).toBe(`Cannot parse ${join(dir, 'keepalive.config.json')}:${position}: ${reason}`)
  })

  it('schema errors in YAML name the file, the path, the value, the rule and the line', async () => {
    const dir = await tempDir()
    await copyFile(join(fixtures, 'bad-schema.yaml'), join(dir, 'keepalive.config.yaml'))
    const error = await rejection(load(dir))
    expect(error).toBeInstanceOf(ConfigInvalidError)
    expect(error.message).toBe(
      [
        `Invalid config in ${join(dir, 'keepalive.config.yaml')}:`,
        '  line 5: "tcp.probes" must be a whole number from 1 to 1000, got 0',
        '  line 6: unknown field "tcp.idel" (did you mean "idle"?); allowed: preset, idle, interval, probes, jitter, userTimeout',
        '  line 8: "http.maxSocketAge" must be a positive duration (ms number or string like "30s", "1h30m"), got "ten minutes"',
      ].join('\n'),
    )
  })

  it('schema errors in JSON carry lines too', async () => {
    const text = '{\n  "policy": "fast",\n  "mqtt": {\n    "pingrespTimeout": true\n  },\n  "htp": {}\n}\n'
    const dir = await dirWith({ 'keepalive.config.json': text })
    const error = await rejection(load(dir))
    expect(error).toBeInstanceOf(ConfigInvalidError)
    expect(error.message).toContain('line 4: "mqtt.pingrespTimeout" must be a positive duration')
    expect(error.message).toContain('got true')
    expect(error.message).toContain('line 6: unknown field "htp" (did you mean "http"?)')
  })

  it.each([
    [
      'policy: fsat\n',
      'line 1: "policy" must be one of "fast", "balanced"',
      'got "fsat" (did you mean "fast"?)',
    ],
    [
      'policy: 42\n',
      'line 1: "policy" must be a preset name (',
      'or an object { preset?, idle?, interval?, probes?, jitter? }, got 42',
    ],
    ['tcp:\n  userTimeout: true\n', 'line 2: "tcp.userTimeout"', 'or false to switch it off, got true'],
    ['ssh:\n', 'line 1: "ssh" must be a mapping of settings (write {} for none)', 'got null'],
    ['- policy: fast\n', 'the config must be a mapping', 'got [{"policy":"fast"}]'],
    ['path:\n  idleTimeout: 30\n  idle: 5s\n', 'line 3: unknown field "path.idle"', 'allowed: idleTimeout'],
    [
      'http:\n  maxRequestsPerSocket: 0\n',
      'line 2: "http.maxRequestsPerSocket" must be a whole number of at least 1',
      'got 0',
    ],
    ['policy:\n  idle: 25d\n', 'line 2: "policy.idle" must be at most 2147483647 ms', 'got "25d"'],
  ])('rejects %j', async (text, where, what) => {
    const error = await rejection(load(await dirWith({ 'keepalive.config.yaml': text })))
    expect(error).toBeInstanceOf(ConfigInvalidError)
    expect(error.message).toContain(where)
    expect(error.message).toContain(what)
  })
})

describe('loadConfig: the path rule', () => {
  it('rejects a policy whose idle is at the path idle timeout', async () => {
    const dir = await dirWith({
      'keepalive.config.yaml': 'policy:\n  idle: 60s\npath:\n  idleTimeout: 60s\n',
    })
    const error = await rejection(load(dir))
    expect(error).toBeInstanceOf(ConfigInvalidError)
    expect(error.message).toBe(
      `Invalid config in ${join(dir, 'keepalive.config.yaml')}: line 2: policy idle 1m is at or above path.idleTimeout 1m: the middlebox drops the connection before the first probe`,
    )
  })

  it('rejects a protocol whose own idle is above it, naming the protocol and its line', async () => {
    const text = 'path:\n  idleTimeout: 60s\ntcp:\n  probes: 5\n  idle: 90s\n'
    const error = await rejection(load(await dirWith({ 'keepalive.config.yaml': text })))
    expect(error.message).toContain(
      'line 5: tcp idle 1m30s is at or above path.idleTimeout 1m: the middlebox drops the connection before the first probe',
    )
  })

  it('rejects a section preset whose idle is above it', async () => {
    const text = 'path: { idleTimeout: 100s }\nhttp: { preset: battery }\n'
    const error = await rejection(load(await dirWith({ 'keepalive.config.yaml': text })))
    expect(error.message).toContain('line 2: http idle 3m30s is at or above path.idleTimeout 1m40s')
  })

  it('says when the environment caused it', async () => {
    const dir = await dirWith({ 'keepalive.config.yaml': 'path:\n  idleTimeout: 20s\n' })
    const error = await rejection(load(dir, { KEEPALIVE_IDLE: '30s' }))
    expect(error.message).toContain(
      'policy idle 30s (from KEEPALIVE_IDLE) is at or above path.idleTimeout 20s',
    )
  })

  it('accepts idles below it, and never clamps', async () => {
    const text = 'path:\n  idleTimeout: 60s\npolicy: balanced\nmqtt:\n  idle: 59s\n'
    const config = await load(await dirWith({ 'keepalive.config.yaml': text }))
    expect(policyFor(config, 'mqtt').idle).toBe(59_000)
  })
})

describe('policyFor', () => {
  it('rejects an unknown protocol', async () => {
    const config = await load(await tempDir())
    expect(() => policyFor(config, 'smtp' as never)).toThrow(InvalidArgumentError)
    expect(() => policyFor(config, 'smtp' as never)).toThrow('got "smtp"')
  })

  it.each([
    [
      'no config',
      undefined,
      'policyFor: config must be an object (what loadConfig or parseConfig returns), got undefined',
    ],
    ['null', null, 'policyFor: config must be an object (what loadConfig or parseConfig returns), got null'],
    [
      'a string',
      'balanced',
      'policyFor: config must be an object (what loadConfig or parseConfig returns), got "balanced"',
    ],
    [
      '{}',
      {},
      'policyFor: config.policy is missing (a config from loadConfig or parseConfig always has one)',
    ],
    [
      'a bad policy',
      { policy: 'balanc' },
      'policyFor: config.policy is not a valid policy: "preset" must be one of',
    ],
    [
      'a bad policy field',
      { policy: { idle: -1 } },
      'policyFor: config.policy is not a valid policy: "idle"',
    ],
    [
      'a section that is not an object',
      { policy: presets.balanced, tcp: 5 },
      'policyFor: config.tcp must be an object or undefined, got 5',
    ],
    [
      'a section that is null',
      { policy: presets.balanced, tcp: null },
      'policyFor: config.tcp must be an object or undefined, got null',
    ],
    [
      'a section that is an array',
      { policy: presets.balanced, tcp: [] },
      'policyFor: config.tcp must be an object or undefined, got []',
    ],
    [
      'a bad field in the section',
      { policy: presets.balanced, tcp: { probes: 0 } },
      'policyFor: config.tcp: "probes" must be a whole number from 1 to 1000, got 0',
    ],
  ])('rejects %s with an InvalidArgumentError naming what is wrong', (_, config, message) => {
    let thrown: unknown
    try {
      policyFor(config as never, 'tcp')
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError)
    expect(thrown).toMatchObject({ code: 'KA_ERR_INVALID_ARGUMENT' })
    expect((thrown as Error).message.startsWith(message)).toBe(true)
  })

  it('a config whose properties throw is an InvalidArgumentError too', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom')
        },
      },
    )
    expect(() => policyFor(hostile as never, 'ssh')).toThrow(InvalidArgumentError)
    const section = new Proxy(
      {},
      {
        get() {
          throw new Error('boom')
        },
      },
    )
    expect(() => policyFor({ policy: presets.fast, ssh: section } as never, 'ssh')).toThrow(
      'policyFor: could not read config.ssh',
    )
  })

  it('accepts a hand-built config: any PolicyLike as policy, a missing section, other section settings', () => {
    expect(policyFor({ policy: 'fast' } as never, 'tcp')).toEqual(presets.fast)
    expect(policyFor({ policy: { idle: '20s' } } as never, 'mqtt')).toEqual({
      ...presets.balanced,
      idle: 20_000,
    })
    expect(
      policyFor({ policy: presets.fast, http: { idle: 2_000, maxSocketAge: 300_000 } } as never, 'http'),
    ).toEqual({ ...presets.fast, idle: 2_000 })
    expect(Object.isFrozen(policyFor({ policy: 'fast', ssh: { probes: 5 } } as never, 'ssh'))).toBe(true)
  })
})

import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTempDir } from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { expectOneLineError, runCli } from './run-cli.js'

const origin = z.strictObject({ value: z.number(), from: z.string().min(1) })
const configJsonSchema = z.strictObject({
  valid: z.literal(true),
  file: z.string().nullable(),
  env: z.array(z.string()),
  pathIdleTimeout: z.number().nullable(),
  protocols: z
    .array(
      z.strictObject({
        protocol: z.enum(['tcp', 'http', 'mqtt', 'ssh']),
        policy: z.object({ idle: z.number(), interval: z.number(), probes: z.number(), jitter: z.number() }),
        detectionTime: z.number().positive(),
        origins: z.strictObject({ idle: origin, interval: origin, probes: origin, jitter: origin }),
        settings: z.record(z.string(), z.unknown()),
      }),
    )
    .length(4),
})

const YAML = `policy: fast
path: { idleTimeout: 60s }
tcp: { probes: 5, userTimeout: 2m }
mqtt: { preset: battery, idle: 45s }
http: { maxSocketAge: 5m }
`

async function project(files: Record<string, string>): Promise<string> {
  const dir = await makeTempDir('cli-config')
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir.path, name), text)
  return dir.path
}

describe('keepalive config', () => {
  it('finds the file upwards as a service would, applies the environment, and says where each value came from', async () => {
    const root = await project({ 'keepalive.config.yaml': YAML })
    const { mkdir } = await import('node:fs/promises')
    await mkdir(join(root, 'service', 'src'), { recursive: true })
    const run = await runCli(['config', '--json'], {
      cwd: join(root, 'service', 'src'),
      env: { KEEPALIVE_INTERVAL: '2s' },
    })
    expect(run.code, run.stderr).toBe(0)
    const report = configJsonSchema.parse(JSON.parse(run.stdout))
    expect(report.file).toBe(join(root, 'keepalive.config.yaml'))
    expect(report.env).toEqual(['KEEPALIVE_INTERVAL'])
    expect(report.pathIdleTimeout).toBe(60_000)
    const [tcp, http, mqtt] = report.protocols
    expect(tcp!.origins).toEqual({
      idle: { value: 5000, from: 'file policy: fast' },
      interval: { value: 2000, from: 'env KEEPALIVE_INTERVAL' },
      probes: { value: 5, from: 'file tcp.probes' },
      jitter: { value: 0, from: 'file policy: fast' },
    })
    expect(tcp!.settings).toEqual({ userTimeout: 120_000 })
    expect(http!.settings).toEqual({ maxSocketAge: 300_000 })
    expect(mqtt!.origins.idle).toEqual({ value: 45_000, from: 'file mqtt.idle' })
    expect(mqtt!.origins.probes).toEqual({ value: 3, from: 'file mqtt.preset: battery' })
    expect(mqtt!.detectionTime).toBe(45_000 + 2000 * 3)
  })

  it('prints a table for people; no file means the defaults', async () => {
    const named = await runCli(['config', 'keepalive.config.yaml'], {
      cwd: await project({ 'keepalive.config.yaml': YAML }),
    })
    expect(named.code, named.stderr).toBe(0)
    expect(named.stdout).toMatch(/^valid {2}\/.*keepalive\.config\.yaml$/m)
    expect(named.stdout).toMatch(/^tcp +idle +5s +file policy: fast$/m)
    const none = await runCli(['config'], { cwd: await project({}) })
    expect(none.code, none.stderr).toBe(0)
    expect(none.stdout).toContain('no config file found: the defaults (balanced)')
    expect(none.stdout).toMatch(/^ssh +idle +30s +default: balanced$/m)
  })

  it('KEEPALIVE_CONFIG names the file; KEEPALIVE_POLICY replaces its policy', async () => {
    const dir = await project({ 'other.json': '{ "policy": { "idle": "20s" }, "ssh": { "probes": 2 } }' })
    const run = await runCli(['config', '--json'], {
      cwd: '/',
      env: { KEEPALIVE_CONFIG: join(dir, 'other.json'), KEEPALIVE_POLICY: 'fast' },
    })
    expect(run.code, run.stderr).toBe(0)
    const report = configJsonSchema.parse(JSON.parse(run.stdout))
    expect(report.env).toEqual(['KEEPALIVE_CONFIG', 'KEEPALIVE_POLICY'])
    const ssh = report.protocols[3]!
    expect(ssh.origins.idle).toEqual({ value: 5000, from: 'env KEEPALIVE_POLICY: fast' })
    expect(ssh.origins.probes).toEqual({ value: 2, from: 'file ssh.probes' })
  })

  it('--schema prints the JSON Schema of the file', async () => {
    const run = await runCli(['config', '--schema'])
    expect(run.code, run.stderr).toBe(0)
    const schema = JSON.parse(run.stdout) as Record<string, unknown>
    expect(schema.$schema).toMatch(/2020-12/)
    expect(Object.keys(schema.properties as object)).toEqual(
      expect.arrayContaining(['policy', 'path', 'tcp', 'http', 'mqtt', 'ssh']),
    )
  })

  it.each([
    [
      'keepalive.config.yaml',
      'policy: fast\ntcp: { probes: -1 }\n',
      /line 2: "tcp\.probes" must be a whole number/,
    ],
    ['keepalive.config.yaml', 'policy: [fast\n', /Cannot parse .*keepalive\.config\.yaml:2:1/],
    ['keepalive.config.json', '{ "policy": "fast", }', /Cannot parse .*keepalive\.config\.json:1:/],
    [
      'keepalive.config.yaml',
      'policy: battery\npath: { idleTimeout: 60s }\n',
      /idle 3m30s .* at or above path\.idleTimeout 1m/,
    ],
  ])('a broken %s gives one line naming the problem, exit 1', async (name, text, pattern) => {
    expectOneLineError(await runCli(['config'], { cwd: await project({ [name]: text }) }), 1, pattern)
  })

  it('a named file that does not exist, and a bad environment variable, exit 1', async () => {
    expectOneLineError(
      await runCli(['config', 'missing.yaml'], { cwd: '/' }),
      1,
      /missing\.yaml .*does not exist/,
    )
    expectOneLineError(
      await runCli(['config'], { cwd: '/', env: { KEEPALIVE_PROBES: 'many' } }),
      1,
      /KEEPALIVE_PROBES.*"many"/,
    )
  })
})

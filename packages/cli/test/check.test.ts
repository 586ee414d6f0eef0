import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tcpSettings } from '@keepalive/core'
import {
  makeTempDir,
  missingPrerequisites,
  recordDeadline,
  startEchoServer,
  startHttpServer,
  startMosquitto,
  startSsh2Server,
  startSshd,
} from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { expectOneLineError, runCli } from './run-cli.js'

const scalar = z.union([z.number(), z.string(), z.boolean(), z.null()])
export const checkJsonSchema = z.strictObject({
  url: z.string(),
  protocol: z.enum(['tcp', 'http', 'mqtt', 'ssh']),
  policy: z.object({ idle: z.number(), interval: z.number(), probes: z.number(), jitter: z.number() }),
  asked: z.record(z.string(), scalar),
  applied: z.record(z.string(), scalar),
  roundTrips: z.strictObject({
    what: z.string(),
    samples: z.array(z.number().nonnegative()).min(1),
    min: z.number().nonnegative(),
    median: z.number().nonnegative(),
    max: z.number().nonnegative(),
  }),
  warnings: z.array(z.string()),
})

describe('keepalive check tcp://', () => {
  it('reads the applied keepalive back from the kernel and times handshakes against a real echo server', async () => {
    const peer = await startEchoServer()
    const run = await runCli([
      'check',
      `tcp://127.0.0.1:${peer.port}`,
      '--policy',
      '7s/2s/4',
      '--samples',
      '5',
      '--json',
    ])
    expect(run.code, run.stderr).toBe(0)
    const result = checkJsonSchema.parse(JSON.parse(run.stdout))
    const asked = tcpSettings({ idle: 7000, interval: 2000, probes: 4, jitter: 0, preset: undefined })
    expect(result.applied).toMatchObject({
      SO_KEEPALIVE: true,
      TCP_KEEPIDLE: asked.idleSeconds,
      TCP_KEEPINTVL: asked.intervalSeconds,
      TCP_KEEPCNT: asked.probes,
      TCP_USER_TIMEOUT: asked.userTimeoutMs,
      'read back from the kernel': true,
    })
    expect(result.roundTrips.samples).toHaveLength(5)
    expect(result.roundTrips.min).toBeLessThanOrEqual(result.roundTrips.median)
    expect(result.roundTrips.median).toBeLessThanOrEqual(result.roundTrips.max)
  })

  it('prints asked beside applied for people', async () => {
    const peer = await startEchoServer()
    const run = await runCli(['check', `tcp://127.0.0.1:${peer.port}`, '--policy', 'fast'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^TCP_KEEPIDLE +5 +5$/m)
    expect(run.stdout).toMatch(/^TCP_USER_TIMEOUT +8000 +8000$/m)
    expect(run.stdout).toMatch(/round trip \(TCP handshake .*3 samples\): min [\d.]+ ms/)
  })

  it('an unreachable peer: one line, exit 1', async () => {
    const peer = await startEchoServer()
    const port = peer.port
    await peer.stop()
    expectOneLineError(
      await runCli(['check', `tcp://127.0.0.1:${port}`]),
      1,
      /cannot connect to tcp:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/,
    )
  })

  it.concurrent.each([
    [['check', 'nonsense'], /not a URL/],
    [['check', 'tcp://127.0.0.1'], /names no port/],
    [['check', 'gopher://x:70'], /unsupported URL scheme "gopher:"/],
    [['check', 'tcp://:1'], /not a URL|names no host/],
    [['check', 'tcp://127.0.0.1:1', '--timeout', 'soon'], /--timeout/],
    [['check', 'tcp://127.0.0.1:1', '--samples', '0'], /--samples/],
    [['check'], /missing required argument 'url'/],
  ])('bad arguments %j: one line, exit 2', async (args, pattern) => {
    expectOneLineError(await runCli(args), 2, pattern)
  })
})

describe('keepalive check http://', () => {
  it("against a node:http server: the Keep-Alive hint lowers the pool's idle budget, the socket is reused, TCP keepalive read back", async () => {
    const server = await startHttpServer(undefined, { keepAliveTimeout: 4000 })
    const run = await runCli([
      'check',
      `${server.url}/health`,
      '--policy',
      'fast',
      '--samples',
      '4',
      '--json',
    ])
    expect(run.code, run.stderr).toBe(0)
    const result = checkJsonSchema.parse(JSON.parse(run.stdout))
    expect(result.applied).toMatchObject({
      'Keep-Alive header': 'timeout=4',
      'server keeps idle sockets, ms': 4000,
      // 2 s below the server's announced 4 s (core's httpClientSettings), not the policy's 5 s.
      'pooled socket idle at most, ms': 2000,
      'limited by': 'hint',
      'sockets opened': 1,
      'requests on a reused socket': 3,
      TCP_KEEPIDLE: 5,
      TCP_USER_TIMEOUT: 8000,
      'read back from the kernel': true,
    })
    expect(server.requestCount()).toBe(4)
    expect(result.roundTrips.samples).toHaveLength(4)
  })

  it('a server that is gone: one line, exit 1', async () => {
    const server = await startHttpServer()
    const url = server.url
    await server.stop()
    expectOneLineError(
      await runCli(['check', url]),
      1,
      /cannot connect to http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/,
    )
  })
})

describe.skipIf(missingPrerequisites('mosquitto'))('keepalive check mqtt://', () => {
  it('against mosquitto: MQTT 5, the Server Keep Alive that replaced ours, PINGREQ round trips', async () => {
    // mosquitto answers CONNECT's Keep Alive 20 with a Server Keep Alive of 10 when max_keepalive is 10 (its minimum).
    const broker = await startMosquitto({ config: ['max_keepalive 10'] })
    const run = await runCli(['check', broker.url, '--policy', '20s/2s/3', '--json'])
    expect(run.code, run.stderr).toBe(0)
    const result = checkJsonSchema.parse(JSON.parse(run.stdout))
    expect(result.applied).toMatchObject({
      version: 'MQTT 5',
      'Keep Alive (CONNECT), s': 20,
      'Server Keep Alive (CONNACK), s': 10,
      'Keep Alive in force, s': 10,
      'PINGREQ after silence, ms': 10_000,
    })
    expect(result.warnings.join(' ')).toMatch(/10/)
    expect(result.roundTrips.samples).toHaveLength(3)
  })

  it('credentials in the URL are used but never printed; an unreachable broker is one line, exit 1', async () => {
    const broker = await startMosquitto()
    const url = broker.url.replace('mqtt://', 'mqtt://alice:s3cret@')
    const run = await runCli(['check', url])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`mqtt://***@${broker.host}:${broker.port}`)
    expect(run.stdout + run.stderr).not.toMatch(/alice|s3cret/)
    const port = broker.port
    await broker.stop()
    const down = await runCli(['check', `mqtt://alice:s3cret@127.0.0.1:${port}`])
    expectOneLineError(down, 1, /cannot connect to mqtt:\/\/\*\*\*@127\.0\.0\.1:\d+: ECONNREFUSED/)
    expect(down.stderr).not.toMatch(/alice|s3cret/)
  })
})

describe('keepalive check ssh://', () => {
  it('against an ssh2 server with a key file: the settings ssh2 runs with, keepalive@openssh.com round trips', async () => {
    const server = await startSsh2Server()
    const dir = await makeTempDir('cli-ssh')
    const key = join(dir.path, 'id_ed25519')
    await writeFile(key, server.privateKey, { mode: 0o600 })
    const run = await runCli(
      ['check', `ssh://demo@127.0.0.1:${server.port}`, '--identity', key, '--policy', 'fast', '--json'],
      {
        env: { SSH_AUTH_SOCK: undefined },
      },
    )
    expect(run.code, run.stderr).toBe(0)
    const result = checkJsonSchema.parse(JSON.parse(run.stdout))
    expect(result.applied).toMatchObject({
      'keepaliveInterval (ssh2), ms': 2000,
      'keepaliveCountMax (ssh2)': 3,
      'authenticated with': `key file ${key}`,
      'keepalive@openssh.com replies': '3/3',
    })
    expect(result.applied['server host key']).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/)
    expect(run.stdout).not.toContain('PRIVATE KEY')
  })

  it.skipIf(missingPrerequisites('sshd'))(
    'against OpenSSH sshd: replies to keepalive@openssh.com are timed',
    async () => {
      const sshd = await startSshd()
      const run = await runCli(
        ['check', `ssh://root@${sshd.host}:${sshd.port}`, '--identity', sshd.privateKeyPath, '--json'],
        {
          env: { SSH_AUTH_SOCK: undefined },
        },
      )
      expect(run.code, run.stderr).toBe(0)
      const result = checkJsonSchema.parse(JSON.parse(run.stdout))
      expect(result.applied['keepalive@openssh.com replies']).toBe('3/3')
      recordDeadline({
        test: 'cli/check: sshd keepalive@openssh.com reply, slowest round trip',
        measured: result.roundTrips.max,
        max: 1000,
        slack: 'scheduling headroom, not a performance target (strict <)',
      })
      expect(result.roundTrips.max).toBeLessThan(1000)
    },
  )

  it.concurrent.each([
    [['check', 'ssh://127.0.0.1:22'], /names no user/],
    [['check', 'ssh://u:pw@127.0.0.1:22'], /password in the URL/],
    [['check', 'ssh://u@127.0.0.1:22', '--identity', '/nonexistent/key'], /--identity: cannot read/],
  ])('bad arguments %j: one line, exit 2', async (args, pattern) => {
    const run = await runCli(args)
    expectOneLineError(run, 2, pattern)
    expect(run.stderr).not.toContain('pw@')
  })
})

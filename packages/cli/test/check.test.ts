import { tcpSettings } from '@keepalive/core'
import { startEchoServer } from '@keepalive/test-harness'
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
    [['check', 'tcp://127.0.0.1:1', '--timeout', 'soon'], /--timeout/],
    [['check', 'tcp://127.0.0.1:1', '--samples', '0'], /--samples/],
    [['check'], /missing required argument 'url'/],
  ])('bad arguments %j: one line, exit 2', async (args, pattern) => {
    expectOneLineError(await runCli(args), 2, pattern)
  })
})

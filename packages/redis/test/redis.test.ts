/**
 * Against a real Redis (Debian's redis-server, on loopback): the kernel holds the policy on ioredis's own sockets,
 * on reconnects too; ioredis's own keepAlive does not.
 */
import { detectionTime, isKeepaliveError, tcpSettings } from '@keepalive/core'
import { readTcpKeepalive } from '@keepalive/tcp'
import { expectNoLeaks, missingPrerequisites, recordDeadline, startRedis } from '@keepalive/test-harness'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { type IoredisWatcherEvents, ioredisOptions, watchIoredis } from '../src/index.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(missingPrerequisites('redis'))('ioredisOptions against Debian redis-server', () => {
  it("puts the policy's full keepalive on ioredis's socket (read back from the kernel), after a reconnect too; ioredis's keepAlive does not", async () => {
    expectNoLeaks()
    const server = await startRedis()
    const policy = { idle: '7s', interval: '3s', probes: 4 }
    const t = tcpSettings(policy)
    const ours = new Redis(
      ioredisOptions(policy, { host: server.host, port: server.port, keepAlive: 10_000 }),
    )
    const theirs = new Redis({ host: server.host, port: server.port, keepAlive: 10_000 })
    expect(await ours.ping()).toBe('PONG')
    expect(await theirs.ping()).toBe('PONG')
    const expected = {
      enabled: true,
      idle: t.idleSeconds * 1000,
      interval: t.intervalSeconds * 1000,
      probes: t.probes,
      userTimeout: t.userTimeoutMs,
    }
    // `stream` is public in ioredis's types: the connection's socket.
    expect(readTcpKeepalive(ours.stream)).toEqual(expected)
    const plain = readTcpKeepalive(theirs.stream)
    console.log(
      `ioredisOptions: ${JSON.stringify(expected)}; ioredis keepAlive: 10000: ${JSON.stringify(plain)}`,
    )
    expect(plain?.userTimeout).toBe(0)
    expect(plain?.idle).toBe(10_000)
    // A reconnect opens a new socket through the same connector.
    const first = ours.stream
    const ready = new Promise((resolve) => ours.once('ready', resolve))
    first.destroy()
    await ready
    expect(ours.stream).not.toBe(first)
    expect(await ours.ping()).toBe('PONG')
    expect(readTcpKeepalive(ours.stream)).toEqual(expected)
    ours.disconnect()
    theirs.disconnect()
    await server.stop()
  })
})

describe.skipIf(missingPrerequisites('redis'))('watchIoredis against Debian redis-server', () => {
  it('PINGs an idle connection; a BLPOP blocking for 3 × detection time is not killed (a busy connection is not probed)', async () => {
    expectNoLeaks()
    const server = await startRedis()
    const policy = { idle: '500ms', interval: '500ms', probes: 1 }
    const d = detectionTime(policy as never)
    const client = new Redis(ioredisOptions(policy, { host: server.host, port: server.port }))
    const errors: Error[] = []
    client.on('error', (error) => errors.push(error))
    await client.ping()
    const watcher = watchIoredis(client, policy)
    let dead = 0
    let alive = 0
    watcher.on('dead', () => dead++)
    watcher.on('alive', () => alive++)
    await sleep(1500) // idle: PINGs answered
    const idleProbes = watcher.probesSent
    expect(idleProbes).toBeGreaterThanOrEqual(2)
    expect(alive).toBeGreaterThanOrEqual(2)
    const started = performance.now()
    const popped = await client.blpop('never-pushed', (3 * d) / 1000)
    const took = performance.now() - started
    console.log(
      `BLPOP ${3 * d} ms took ${took.toFixed(0)} ms: ${watcher.probesSent - idleProbes} PINGs sent during it, ${watcher.skippedBusy} skipped as busy`,
    )
    expect(popped).toBeNull()
    expect(took).toBeGreaterThanOrEqual(3 * d - 10) // redis's own timeout resolution (its 10 Hz cron... rounds up)
    expect(watcher.probesSent - idleProbes).toBeLessThanOrEqual(1) // at most one sent just before BLPOP was queued
    expect(watcher.skippedBusy).toBeGreaterThanOrEqual(2)
    expect(dead).toBe(0)
    expect(errors).toEqual([])
    watcher.stop()
    client.disconnect()
    await server.stop()
  })

  it('a frozen server: the idle connection is destroyed within [detection, detection + 1 s] with KA_ERR_REDIS_PING_TIMEOUT', async () => {
    expectNoLeaks()
    const server = await startRedis()
    const policy = { idle: '1s', interval: '500ms', probes: 2 }
    const d = detectionTime(policy as never)
    const client = new Redis(
      ioredisOptions(policy, { host: server.host, port: server.port, retryStrategy: () => null }),
    )
    const errors: Error[] = []
    client.on('error', (error) => errors.push(error))
    await client.ping()
    const watcher = watchIoredis(client, policy)
    await sleep(1200) // one PING answered
    const thaw = await server.freeze()
    const frozenAt = performance.now()
    const event = await new Promise<IoredisWatcherEvents['dead']>((resolve) => watcher.on('dead', resolve))
    const after = performance.now() - frozenAt
    console.log(
      `frozen redis: dead after ${event.silenceMs.toFixed(0)} ms of silence (${after.toFixed(0)} ms after the freeze)`,
    )
    recordDeadline({
      test: 'redis/redis: frozen server, idle connection dead after its last answer',
      measured: event.silenceMs,
      min: d,
      max: d + 1000,
      slack: "core monitor's 10 ms tick plus scheduling (issue bound + 1 s)",
    })
    expect(event.silenceMs).toBeGreaterThanOrEqual(d)
    expect(event.silenceMs).toBeLessThanOrEqual(d + 1000)
    expect(isKeepaliveError(event.reason, 'KA_ERR_REDIS_PING_TIMEOUT')).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(client.status).toBe('end')
    await thaw()
    watcher.stop()
    client.disconnect()
    await server.stop()
  })
})

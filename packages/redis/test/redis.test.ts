/**
 * Against a real Redis (Debian's redis-server, on loopback): the kernel holds the policy on ioredis's own sockets,
 * on reconnects too; ioredis's own keepAlive does not.
 */
import { tcpSettings } from '@keepalive/core'
import { readTcpKeepalive } from '@keepalive/tcp'
import { expectNoLeaks, missingPrerequisites, startRedis } from '@keepalive/test-harness'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { ioredisOptions } from '../src/index.js'

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

import { describe, expect, it } from 'vitest'
import {
  createNetnsLink,
  expectNoLeaks,
  harnessFixture,
  missingPrerequisites,
  spawnNode,
} from './harness/index.js'

/** Kernel keepalive of the client: idle 1 s, interval 1 s, 3 probes → dead 4 s after the last data. */
const KEEPALIVE = ['1', '1', '3']
const EXPECTED_MS = 4000
const TOLERANCE_MS = 500

interface Ready {
  type: 'ready'
  host: string
  port: number
}
interface SocketError {
  type: 'socket-error'
  code: string
  sinceLastDataMs: number
}
interface Pong {
  type: 'pong'
  data: string
  rttMs: number
}

async function connectedPair(link: Awaited<ReturnType<typeof createNetnsLink>>) {
  const server = spawnNode(harnessFixture('echo-server.ts'), {
    netns: link.serverNs,
    args: [link.serverAddress, '7000'],
  })
  const ready = await server.next<Ready>('ready')
  const client = spawnNode(harnessFixture('tcp-client.ts'), {
    netns: link.clientNs,
    args: [link.serverAddress, String(ready.port), ...KEEPALIVE],
  })
  const hello = await client.next<{ type: 'ready'; keepalive: unknown }>('ready')
  expect(hello.keepalive).toEqual({ enabled: true, idleS: 1, intervalS: 1, count: 3 })
  // The last data exchange: detection is measured from here.
  client.send({ type: 'ping', data: 'hello' })
  const pong = await client.next<Pong>('pong')
  expect(pong.data).toBe('hello')
  return { server, client }
}

describe.skipIf(missingPrerequisites('root', 'netns'))('network namespaces: a dead peer for real', () => {
  it('creates two namespaces joined by a veth pair, and destroys them', async () => {
    expectNoLeaks()
    const link = await createNetnsLink()
    const { stdout } = await link.exec(link.clientNs, [
      'ip',
      '-o',
      '-4',
      'addr',
      'show',
      'dev',
      link.clientInterface,
    ])
    expect(stdout).toContain(link.clientAddress)
    await link.destroy()
    await link.destroy() // idempotent
  })

  it(`blackhole: kernel keepalive 1/1/3 reports ETIMEDOUT ${EXPECTED_MS} ms ± ${TOLERANCE_MS} after the last data`, async () => {
    expectNoLeaks()
    const link = await createNetnsLink()
    const { client } = await connectedPair(link)
    const undo = await link.blackhole()
    const error = await client.next<SocketError>('socket-error', EXPECTED_MS + 3000)
    console.info(
      `[harness] blackhole: ${error.code} ${error.sinceLastDataMs.toFixed(0)} ms after the last data`,
    )
    expect(error.code).toBe('ETIMEDOUT')
    expect(Math.abs(error.sinceLastDataMs - EXPECTED_MS)).toBeLessThanOrEqual(TOLERANCE_MS)
    await undo()
  })

  it(`firewall DROP: kernel keepalive 1/1/3 reports ETIMEDOUT ${EXPECTED_MS} ms ± ${TOLERANCE_MS} after the last data`, async () => {
    expectNoLeaks()
    const link = await createNetnsLink()
    const { client } = await connectedPair(link)
    const undo = await link.dropTraffic()
    const error = await client.next<SocketError>('socket-error', EXPECTED_MS + 3000)
    console.info(
      `[harness] firewall drop: ${error.code} ${error.sinceLastDataMs.toFixed(0)} ms after the last data`,
    )
    expect(error.code).toBe('ETIMEDOUT')
    expect(Math.abs(error.sinceLastDataMs - EXPECTED_MS)).toBeLessThanOrEqual(TOLERANCE_MS)
    await undo()
  })
})

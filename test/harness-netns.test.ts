/**
 * The namespace faults, measured with plain sockets (kernel keepalive set by the fixture, no keepalive package):
 * a peer that vanishes beyond the first hop (routed link) is detected exactly at idle + interval × count; the
 * client's own link going down (direct link) may add TCP_RESOURCE_PROBE_INTERVAL per probe that failed locally.
 */
import { describe, expect, it } from 'vitest'
import {
  createNetnsLink,
  createRoutedLink,
  expectNoLeaks,
  harnessFixture,
  missingPrerequisites,
  type NetnsLink,
  recordDeadline,
  spawnNode,
} from './harness/index.js'

/** Kernel keepalive of the client: idle 1 s, interval 1 s, 3 probes → dead 4 s after the last data. */
const KEEPALIVE = ['1', '1', '3']
const PROBES = 3
const EXPECTED_MS = 4000
/**
 * Early slack (scheduling): the client stamps the last data when its event loop sees the echo, after the kernel
 * received it, and the kernel counts idle from its own receipt.
 */
const EARLY_MS = 100
/**
 * Late slack: kernel timers (HZ=250 here: the idle and the three 1 s probe timers sit in timer-wheel level 1,
 * rounded up to 8 jiffies = 32 ms, plus 1 jiffy = 4 ms from msecs_to_jiffies: 4 × 36 = 144 ms) and scheduling (the
 * error reaches the client's event loop on a shared 2-core machine: the remaining ~350 ms).
 */
const LATE_MS = 500
/** net/ipv4/tcp_timer.c, tcp_keepalive_timer: a probe the device could not send is retried after this, uncounted. */
const TCP_RESOURCE_PROBE_INTERVAL_MS = 500

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

async function connectedPair(link: NetnsLink) {
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

/** TcpExtTCPKeepAlive of the client's namespace: keepalive probes its kernel tried to send, sent or not. */
async function keepaliveAttempts(link: NetnsLink): Promise<number> {
  const { stdout } = await link.exec(link.clientNs, ['cat', '/proc/net/netstat'])
  const [names = '', values = ''] = stdout.split('\n').filter((line) => line.startsWith('TcpExt:'))
  return Number(values.split(/\s+/)[names.split(/\s+/).indexOf('TCPKeepAlive')])
}

const faults = [
  ['blackhole', 'link down on the router’s far side'],
  ['dropTraffic', 'firewall DROP in the router’s forward chain'],
] as const

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

  it('creates client, router and server namespaces, routed both ways, and destroys all three', async () => {
    expectNoLeaks()
    const link = await createRoutedLink()
    expect(link.routerNs).toMatch(/^ka-\d+-\d+-r$/)
    const { client } = await connectedPair(link)
    client.send({ type: 'ping', data: 'through the router' })
    expect((await client.next<Pong>('pong')).data).toBe('through the router')
    await link.destroy()
    await link.destroy() // idempotent
  })

  for (const [fault, what] of faults) {
    it(`peer vanished beyond the first hop (${what}): ETIMEDOUT ${EXPECTED_MS} ms −${EARLY_MS}/+${LATE_MS} after the last data, nothing failed locally`, async () => {
      expectNoLeaks()
      const link = await createRoutedLink()
      const { client } = await connectedPair(link)
      const attemptsBefore = await keepaliveAttempts(link)
      const undo = await link[fault]()
      const error = await client.next<SocketError>('socket-error', EXPECTED_MS + 3000)
      const attempts = (await keepaliveAttempts(link)) - attemptsBefore
      console.info(
        `[harness] routed ${fault}: ${error.code} ${error.sinceLastDataMs.toFixed(0)} ms after the last data (bound ${EXPECTED_MS - EARLY_MS}…${EXPECTED_MS + LATE_MS}); ${attempts} probes`,
      )
      recordDeadline({
        test: `harness-netns: routed ${fault}`,
        measured: error.sinceLastDataMs,
        min: EXPECTED_MS - EARLY_MS,
        max: EXPECTED_MS + LATE_MS,
        slack: 'timer wheel, scheduling',
      })
      // Silence only: no ICMP error turned it into EHOSTUNREACH, and every probe left the client (none retried).
      expect(error.code).toBe('ETIMEDOUT')
      expect(attempts).toBe(PROBES)
      expect(error.sinceLastDataMs).toBeGreaterThanOrEqual(EXPECTED_MS - EARLY_MS)
      expect(error.sinceLastDataMs).toBeLessThanOrEqual(EXPECTED_MS + LATE_MS)
      await undo()
    })
  }

  it(`the client's own link down (direct link): ETIMEDOUT ${EXPECTED_MS} ms −${EARLY_MS}/+${LATE_MS}, plus ${TCP_RESOURCE_PROBE_INTERVAL_MS} ms per probe that failed locally`, async () => {
    expectNoLeaks()
    const link = await createNetnsLink()
    const { client } = await connectedPair(link)
    const attemptsBefore = await keepaliveAttempts(link)
    const undo = await link.blackhole()
    const error = await client.next<SocketError>('socket-error', EXPECTED_MS + 5000)
    // A probe the client's own device refused (veth_xmit → NET_XMIT_DROP while its peer is down, before the carrier
    // loss swaps in the noop qdisc) is retried after TCP_RESOURCE_PROBE_INTERVAL without being counted, so the
    // connection dies at the 3rd counted probe: each attempt beyond 3 is one extra 500 ms.
    const failedLocally = (await keepaliveAttempts(link)) - attemptsBefore - PROBES
    const bound = EXPECTED_MS + LATE_MS + failedLocally * TCP_RESOURCE_PROBE_INTERVAL_MS
    console.info(
      `[harness] local link down: ${error.code} ${error.sinceLastDataMs.toFixed(0)} ms after the last data, ${failedLocally} probes failed locally (bound ${EXPECTED_MS - EARLY_MS}…${bound})`,
    )
    recordDeadline({
      test: 'harness-netns: local link down',
      measured: error.sinceLastDataMs,
      min: EXPECTED_MS - EARLY_MS,
      max: bound,
      slack: `timer wheel, scheduling, + ${failedLocally} × TCP_RESOURCE_PROBE_INTERVAL (probes failed locally)`,
    })
    expect(failedLocally).toBeGreaterThanOrEqual(0)
    expect(['ETIMEDOUT', 'EHOSTUNREACH']).toContain(error.code)
    expect(error.sinceLastDataMs).toBeGreaterThanOrEqual(EXPECTED_MS - EARLY_MS)
    expect(error.sinceLastDataMs).toBeLessThanOrEqual(bound)
    await undo()
  })
})

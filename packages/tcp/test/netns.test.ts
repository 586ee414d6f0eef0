/**
 * Real death, in network namespaces: a peer that vanishes beyond the first hop (client — router — server, the fault
 * on the router's far side, so the client's kernel sees only silence) is detected by the kernel within the policy's
 * detection time, both when the connection is idle (keepalive probes) and while sent data is unacknowledged
 * (TCP_USER_TIMEOUT, because the kernel sends no probes then); the client's own link going down is its own case, with
 * the kernel's extra delay for probes that fail locally; a live idle peer is never killed. The client runs in a child
 * process in its own namespace, on the same Node as this suite, so the Node 20 and 22 runs exercise the FFI path and
 * the Node 24 and 26 runs the native one.
 */

import {
  createNetnsLink,
  createRoutedLink,
  expectNoLeaks,
  harnessFixture,
  missingPrerequisites,
  type NetnsLink,
  type NodeProcess,
  recordDeadline,
  spawnNode,
} from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
// The harness's per-test cleanup (namespaces, processes, faults undone after each test, also on failure).
import '../../../test/harness/vitest-setup.js'
import { expectedMechanism } from './helpers.js'

/** idle 1 s, interval 1 s, 3 probes: dead 4 s after the last sign of life. */
const POLICY = { idle: '1s', interval: '1s', probes: 3 }
const DETECTION_MS = 4000
/**
 * Early slack (scheduling): the client stamps the last data when its event loop sees the echo, after the kernel
 * received it, and the kernel counts idle from its own receipt; a write is stamped after the kernel queued it.
 */
const EARLY_MS = 100
/**
 * Late slack of an idle death: kernel timers (HZ=250: the 1 s keepalive timers sit in timer-wheel level 1, rounded up
 * to 8 jiffies = 32 ms, + 1 jiffy from msecs_to_jiffies; four of them: 144 ms) and scheduling (the error reaching the
 * client's event loop on a shared 2-core machine: the remaining ~350 ms).
 */
const LATE_MS = 500
/**
 * net/ipv4/tcp_timer.c: a keepalive probe or retransmission the client's own device could not send is retried after
 * TCP_RESOURCE_PROBE_INTERVAL (HZ/2) without being counted.
 */
const TCP_RESOURCE_PROBE_INTERVAL_MS = 500

interface SocketError {
  type: 'socket-error'
  code: string
  syscall: string | null
  keepaliveTimeout: boolean
  at: number
  sinceDataMs: number
  sinceWriteMs: number
}

const log = (line: string): void => console.info(`[tcp netns] ${line}`)

async function connected(
  link: NetnsLink,
  options?: object,
): Promise<{ client: NodeProcess; server: NodeProcess; report: Record<string, unknown> }> {
  const server = spawnNode(harnessFixture('echo-server.ts'), {
    netns: link.serverNs,
    args: [link.serverAddress],
  })
  const { port } = await server.next<{ type: 'ready'; port: number }>('ready')
  const client = spawnNode(new URL('./fixtures/keepalive-client.ts', import.meta.url), {
    netns: link.clientNs,
  })
  client.send({ type: 'connect', host: link.serverAddress, port, policy: POLICY, options })
  const { report } = await client.next<{ type: 'connected'; report: Record<string, unknown> }>('connected')
  expect(report).toMatchObject({ enabled: true, idle: 1000, interval: 1000, probes: 3, verified: true })
  expect(report.mechanism).toBe(expectedMechanism())
  // The last data received: every timing below is measured from this echo.
  client.send({ type: 'ping' })
  await client.next('pong')
  return { client, server, report }
}

/** Connects, applies `fault` (beyond the first hop, or the client's own link down), writes, returns the death. */
async function inFlight(
  fault: 'dropTraffic' | 'blackhole',
  where: 'routed' | 'own link',
): Promise<SocketError> {
  expectNoLeaks(3000)
  const link = where === 'routed' ? await createRoutedLink() : await createNetnsLink()
  const { client } = await connected(link)
  await link[fault]()
  client.send({ type: 'write', bytes: 1000 })
  await client.next('written')
  const error = await client.next<SocketError>('socket-error', DETECTION_MS + 5000)
  log(
    `in-flight ${fault} (${where}): ${error.syscall} ${error.code} ${error.sinceWriteMs.toFixed(0)} ms after the write, ${error.sinceDataMs.toFixed(0)} ms after the last data`,
  )
  return error
}

/** TcpExtTCPKeepAlive of a namespace: keepalive probes its kernel has sent. */
async function keepaliveProbesSent(link: NetnsLink, ns: string): Promise<number> {
  const { stdout } = await link.exec(ns, ['cat', '/proc/net/netstat'])
  const lines = stdout.split('\n').filter((l) => l.startsWith('TcpExt:'))
  const names = (lines[0] ?? '').split(/\s+/)
  const values = (lines[1] ?? '').split(/\s+/)
  return Number(values[names.indexOf('TCPKeepAlive')])
}

describe.skipIf(missingPrerequisites('root', 'netns'))(
  `dead peers, for real (Node ${process.version})`,
  () => {
    it(`idle connection, peer vanished beyond the first hop (link down): ETIMEDOUT ${DETECTION_MS} ms −${EARLY_MS} (scheduling) / +${LATE_MS} (timer wheel, scheduling) after the last data`, async () => {
      expectNoLeaks(3000)
      const link = await createRoutedLink()
      const { client, report } = await connected(link)
      expect(report.userTimeout).toBe(DETECTION_MS)
      const attemptsBefore = await keepaliveProbesSent(link, link.clientNs)
      await link.blackhole()
      const error = await client.next<SocketError>('socket-error', DETECTION_MS + 5000)
      const attempts = (await keepaliveProbesSent(link, link.clientNs)) - attemptsBefore
      log(
        `idle, vanished beyond the first hop: ${error.syscall} ${error.code} ${error.sinceDataMs.toFixed(0)} ms after the last data (bound ${DETECTION_MS - EARLY_MS}…${DETECTION_MS + LATE_MS}), ${attempts} probes`,
      )
      recordDeadline({
        test: 'tcp/netns: idle, vanished beyond the first hop',
        measured: error.sinceDataMs,
        min: DETECTION_MS - EARLY_MS,
        max: DETECTION_MS + LATE_MS,
        slack: 'timer wheel, scheduling',
      })
      expect(error.code).toBe('ETIMEDOUT')
      expect(error.keepaliveTimeout).toBe(true)
      // Only silence: each probe left the client once (none failed locally and was retried).
      expect(attempts).toBe(POLICY.probes)
      expect(error.sinceDataMs).toBeGreaterThanOrEqual(DETECTION_MS - EARLY_MS)
      expect(error.sinceDataMs).toBeLessThanOrEqual(DETECTION_MS + LATE_MS)
    })

    it(`same, through a firewall DROP on the router: ETIMEDOUT ${DETECTION_MS} ms −${EARLY_MS} (scheduling) / +${LATE_MS} (timer wheel, scheduling)`, async () => {
      expectNoLeaks(3000)
      const link = await createRoutedLink()
      const { client } = await connected(link)
      await link.dropTraffic()
      const error = await client.next<SocketError>('socket-error', DETECTION_MS + 5000)
      log(
        `idle DROP beyond the first hop: ${error.code} ${error.sinceDataMs.toFixed(0)} ms after the last data (bound ${DETECTION_MS - EARLY_MS}…${DETECTION_MS + LATE_MS})`,
      )
      recordDeadline({
        test: 'tcp/netns: idle DROP beyond the first hop',
        measured: error.sinceDataMs,
        min: DETECTION_MS - EARLY_MS,
        max: DETECTION_MS + LATE_MS,
        slack: 'timer wheel, scheduling',
      })
      expect(error.code).toBe('ETIMEDOUT')
      expect(error.sinceDataMs).toBeGreaterThanOrEqual(DETECTION_MS - EARLY_MS)
      expect(error.sinceDataMs).toBeLessThanOrEqual(DETECTION_MS + LATE_MS)
    })

    // The client's own link down is a different fault: a probe its veth refuses (the peer end is down, before the
    // carrier loss swaps in the noop qdisc) is retried after TCP_RESOURCE_PROBE_INTERVAL, uncounted. With the user
    // timeout set, the kernel kills the connection at the first keepalive timer at or after the detection time once a
    // probe was counted; a failed probe moves every later timer by 500 ms, so death comes at the detection time or
    // 500 ms after it: one TCP_RESOURCE_PROBE_INTERVAL when any probe failed locally (the 4590 ms on Node 24).
    it(`idle connection, the client's own link down: ETIMEDOUT ${DETECTION_MS} ms −${EARLY_MS} / +${LATE_MS}, + ${TCP_RESOURCE_PROBE_INTERVAL_MS} ms (TCP_RESOURCE_PROBE_INTERVAL) if a probe failed locally`, async () => {
      expectNoLeaks(3000)
      const link = await createNetnsLink()
      const { client } = await connected(link)
      const attemptsBefore = await keepaliveProbesSent(link, link.clientNs)
      await link.blackhole()
      const error = await client.next<SocketError>('socket-error', DETECTION_MS + 5000)
      const attempts = (await keepaliveProbesSent(link, link.clientNs)) - attemptsBefore
      // Every timer firing tries one probe; without local failures that is one per interval after the idle.
      const failedLocally = Math.max(0, attempts - POLICY.probes)
      const bound = DETECTION_MS + LATE_MS + (failedLocally > 0 ? TCP_RESOURCE_PROBE_INTERVAL_MS : 0)
      log(
        `idle, own link down: ${error.code} ${error.sinceDataMs.toFixed(0)} ms after the last data, ${attempts} probe attempts (bound ${DETECTION_MS - EARLY_MS}…${bound})`,
      )
      recordDeadline({
        test: 'tcp/netns: idle, own link down',
        measured: error.sinceDataMs,
        min: DETECTION_MS - EARLY_MS,
        max: bound,
        slack: `timer wheel, scheduling${failedLocally > 0 ? ', + TCP_RESOURCE_PROBE_INTERVAL (a probe failed locally)' : ''}`,
      })
      expect(['ETIMEDOUT', 'EHOSTUNREACH']).toContain(error.code)
      expect(error.keepaliveTimeout).toBe(true)
      expect(error.sinceDataMs).toBeGreaterThanOrEqual(DETECTION_MS - EARLY_MS)
      expect(error.sinceDataMs).toBeLessThanOrEqual(bound)
    })

    // Late slack (kernel rule): TCP_USER_TIMEOUT is checked only when the retransmission timer fires, and Linux
    // starts its clock at the first retransmission (the tail loss probe, ≥ TCP_DELACK_MAX = 200 ms after the write
    // with one segment in flight, then RTO backoff clamped to the user timeout), so death comes a few hundred ms
    // after the detection time (measured ~4.43 s); the rest is timer wheel and scheduling as above.
    it(`data in flight when the peer vanishes beyond the first hop (firewall DROP): the user timeout catches it within ${DETECTION_MS} ms + 1 s (retransmission timer, scheduling)`, async () => {
      const error = await inFlight('dropTraffic', 'routed')
      const id = 'tcp/netns: in flight, firewall DROP beyond the first hop'
      const slack = 'retransmission timer (kernel rule), scheduling'
      recordDeadline({
        test: `${id}, since the write`,
        measured: error.sinceWriteMs,
        min: DETECTION_MS - EARLY_MS,
        max: DETECTION_MS + 1000,
        slack,
      })
      recordDeadline({
        test: `${id}, since the last data`,
        measured: error.sinceDataMs,
        max: DETECTION_MS + 1000,
        slack,
      })
      expect(error.code).toBe('ETIMEDOUT')
      expect(error.keepaliveTimeout).toBe(true)
      expect(error.sinceWriteMs).toBeGreaterThanOrEqual(DETECTION_MS - EARLY_MS)
      expect(error.sinceWriteMs).toBeLessThanOrEqual(DETECTION_MS + 1000)
      expect(error.sinceDataMs).toBeLessThanOrEqual(DETECTION_MS + 1000)
    })

    // With the client's own link down, its retransmissions fail locally: the kernel retries those every 500 ms
    // (TCP_RESOURCE_PROBE_INTERVAL) without clamping to the user timeout, and reports the recorded soft error
    // EHOSTUNREACH instead of ETIMEDOUT. Bound: the in-flight +1 s above, + one TCP_RESOURCE_PROBE_INTERVAL for the
    // locally failed retransmission timer that overshoots the user timeout (measured 4.75–5.3 s).
    it(`data in flight when the client's own link goes down: caught within ${DETECTION_MS} ms + 1 s + ${TCP_RESOURCE_PROBE_INTERVAL_MS} ms (TCP_RESOURCE_PROBE_INTERVAL), as EHOSTUNREACH or ETIMEDOUT`, async () => {
      const error = await inFlight('blackhole', 'own link')
      recordDeadline({
        test: 'tcp/netns: in flight, own link down',
        measured: error.sinceWriteMs,
        min: DETECTION_MS - EARLY_MS,
        max: DETECTION_MS + 1000 + TCP_RESOURCE_PROBE_INTERVAL_MS,
        slack: 'retransmission timer, TCP_RESOURCE_PROBE_INTERVAL (kernel rule), scheduling',
      })
      expect(['ETIMEDOUT', 'EHOSTUNREACH']).toContain(error.code)
      expect(error.keepaliveTimeout).toBe(true)
      expect(error.sinceWriteMs).toBeGreaterThanOrEqual(DETECTION_MS - EARLY_MS)
      expect(error.sinceWriteMs).toBeLessThanOrEqual(DETECTION_MS + 1000 + TCP_RESOURCE_PROBE_INTERVAL_MS)
    })

    it('…and without the user timeout it is NOT caught: still alive at detection time + 3 s', async () => {
      expectNoLeaks(3000)
      const link = await createRoutedLink()
      const { client, report } = await connected(link, { userTimeout: false })
      expect(report.userTimeout).toBe(0)
      await link.blackhole()
      client.send({ type: 'write', bytes: 1000 })
      const { at: writtenAt } = await client.next<{ type: 'written'; at: number }>('written')
      // Keepalive sends no probe while data is unacknowledged; retransmissions go on for ~15 minutes.
      const early = client.next<SocketError>('socket-error', DETECTION_MS + 3000).then(
        (error) => error,
        () => undefined,
      )
      const error = await early
      expect(error, `died ${error?.sinceWriteMs.toFixed(0)} ms after the write`).toBeUndefined()
      client.send({ type: 'status' })
      const status = await client.next<{ type: 'status'; alive: boolean; at: number }>('status')
      expect(status.alive).toBe(true)
      log(
        `without user timeout: still alive ${(performance.timeOrigin ? DETECTION_MS + 3000 : 0).toFixed(0)} ms after the write (written at ${writtenAt.toFixed(0)})`,
      )
      // Cleanup (after this test, also on failure): the client is killed and the namespaces deleted.
    })

    it(`a live but idle peer is never killed: ${3 * DETECTION_MS} ms of silence, probes answered`, async () => {
      expectNoLeaks(3000)
      const link = await createRoutedLink()
      const { client } = await connected(link)
      const probesBefore = await keepaliveProbesSent(link, link.clientNs)
      const died = client.next<SocketError>('socket-error', 3 * DETECTION_MS).then(
        (error) => error,
        () => undefined,
      )
      const error = await died
      expect(error).toBeUndefined()
      const probes = (await keepaliveProbesSent(link, link.clientNs)) - probesBefore
      log(
        `live idle peer: alive after ${3 * DETECTION_MS} ms idle, ${probes} keepalive probes sent and answered`,
      )
      // About one probe a second once idle: each answer restarts the idle clock.
      expect(probes).toBeGreaterThanOrEqual(5)
      // And the connection still carries data.
      client.send({ type: 'ping' })
      await client.next('pong', 2000)
    })
  },
)

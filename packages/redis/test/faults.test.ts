/**
 * The headline case, side by side in one test: a command in flight (a BLPOP) when Redis vanishes beyond a router.
 * Ours (ioredisOptions) fails within [detectionTime, detectionTime + 1 s] of the command; ioredis's own keepalive
 * (its default `keepAlive`) is still waiting at 3 × detectionTime (then the test ends it). Real Debian redis-server in
 * the server namespace, ioredis in the client namespace (a fixture process), a routed link whose router's far side
 * goes down: the client's kernel sees only silence, as when a server vanishes somewhere on the path.
 */
import { detectionTime, tcpSettings } from '@keepalive/core'
import {
  createRoutedLink,
  expectNoLeaks,
  missingPrerequisites,
  recordDeadline,
  spawnNode,
  startRedis,
} from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'

const PAIR = new URL('./fixtures/redis-pair.ts', import.meta.url)
/** Detection 5 s: idle 2 s, then 3 probes 1 s apart (whole seconds: TCP's unit, so nothing is rounded). */
const POLICY = { idle: '2s', interval: '1s', probes: 3 }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(missingPrerequisites('redis', 'netns'))(
  'a command in flight to a Redis that vanished beyond a router',
  () => {
    it('fails within [detectionTime, detectionTime + 1 s] with ioredisOptions; with the keepAlive ioredis sets by default it still waits at 3 × detectionTime', async () => {
      expectNoLeaks()
      const d = detectionTime(POLICY as never)
      expect(tcpSettings(POLICY).detectionTime).toBe(d)
      const link = await createRoutedLink()
      const server = await startRedis({ netns: link.serverNs, host: link.serverAddress })
      const pair = spawnNode(PAIR, { netns: link.clientNs, args: [server.url, JSON.stringify(POLICY)] })
      await pair.next('ready', 20_000)
      pair.send({ type: 'go' })
      const { at: sentAt } = await pair.next<{ type: 'sent'; at: number }>('sent', 5000)
      // Both commands written and acknowledged (loopback-fast; far below the 2 s idle) before the server vanishes.
      await sleep(200)
      await link.blackhole()
      const ours = await pair.next<{
        type: 'failed'
        which: string
        code: unknown
        message: string
        sinceSentMs: number
      }>('failed', d + 5000)
      expect(ours.which).toBe('ours')
      // ioredis's own keepalive: still waiting for its command at 3 × detection time after it was sent.
      const wait = sentAt + 3 * d - Number(process.hrtime.bigint()) / 1e6
      await sleep(Math.max(0, wait))
      pair.send({ type: 'status' })
      const status = await pair.next<{ type: 'status'; pending: string[] }>('status', 5000)
      const elapsed = Number(process.hrtime.bigint()) / 1e6 - sentAt
      console.log(
        `redis ${server.version} beyond a router, far link down: policy detection ${d} ms — ioredisOptions: BLPOP failed after ${ours.sinceSentMs.toFixed(0)} ms (${String(ours.code)}: ${ours.message}); ioredis keepAlive (default): still waiting after ${elapsed.toFixed(0)} ms`,
      )
      recordDeadline({
        test: 'redis/faults: BLPOP in flight, server vanished beyond a router, ioredisOptions',
        measured: ours.sinceSentMs,
        min: d,
        max: d + 1000,
        slack:
          'the kernel counts from the last ACK (after the send, so never early); + 1 s for the keepalive timer and scheduling (issue bound)',
      })
      // The kernel counts from the last packet received, the command's ACK, which arrives after the send: never early.
      expect(ours.sinceSentMs).toBeGreaterThanOrEqual(d)
      expect(ours.sinceSentMs).toBeLessThanOrEqual(d + 1000)
      expect(ours.code).toBe('ETIMEDOUT')
      expect(status.pending).toEqual(['ioredis'])
      expect(elapsed).toBeGreaterThanOrEqual(3 * d)
      await pair.kill()
      await server.stop()
      await link.destroy()
    })
  },
)

/**
 * Keep-Alive hints. With `Keep-Alive: timeout=1` from a server that closes at exactly 1 s, ours retires each idle socket
 * a round-trip margin before the hint (1 s − max(250 ms, 2 × rtt)), so it never meets the race at all — no retries
 * needed, POSTs included — while still reusing sockets idle for less. Hostile hints (0, negative, huge, garbage,
 * `max=` first, duplicated, oversized) leave both engines correct and throwing nothing.
 */
import http from 'node:http'
import { startDelayProxy } from '@keepalive/test-harness'
import AgentKeepAlive from 'agentkeepalive'
import { describe, expect, it } from 'vitest'
import { createAgent, createDispatcher } from '../src/index.js'
import { type RaceResult, raceNode, raceUndici } from './race-clients.js'
import { startRaceServer } from './race-server.js'
import { undici } from './undici-version.js'

const count = (r: RaceResult) => `${r.failed}${r.failed ? ` ${JSON.stringify(r.errors)}` : ''}`

describe('Keep-Alive: timeout=1 from a server closing at exactly 1 s', () => {
  it('ours (both engines) reuse below the hint and never race: 0 failures, 0 retries, GET and POST', async () => {
    const server = await startRaceServer({ idleTimeoutMs: 1000, keepAliveHeaders: ['timeout=1'] })
    const proxy = await startDelayProxy({
      target: { host: server.host, port: server.port },
      oneWayDelayMs: 15,
    })
    // Gaps 0.5–1.1 s: some reuse is safe (< 750 ms), the rest must find the socket retired.
    const race = {
      host: proxy.host,
      port: proxy.port,
      chains: 40,
      requestsPerChain: 6,
      minGapMs: 500,
      maxGapMs: 1100,
    }
    // fifo: each request takes the socket idle longest, the one nearest the server's close (lifo would keep a few hot).
    const agent = createAgent(undefined, { scheduling: 'fifo' })
    const dispatcher = createDispatcher(undefined, { undici })
    const nodeDefault = new http.Agent({ keepAlive: true, timeout: 5000, scheduling: 'fifo' })
    const akl = new AgentKeepAlive({ scheduling: 'fifo' } as never)
    const plain = new undici.Agent()
    try {
      const [oursGet, oursPost, oursU, oursUPost, node, ak, pl] = await Promise.all([
        raceNode(agent, { ...race, idPrefix: 'a' }),
        raceNode(agent, { ...race, method: 'POST', idPrefix: 'b' }),
        raceUndici(undici.request, dispatcher, { ...race, idPrefix: 'c' }),
        raceUndici(undici.request, dispatcher, { ...race, method: 'POST', idPrefix: 'd' }),
        raceNode(nodeDefault, { ...race, idPrefix: 'e' }),
        raceNode(akl, { ...race, idPrefix: 'f' }),
        raceUndici(undici.request, plain, { ...race, idPrefix: 'g' }),
      ])
      console.log(
        `[hint timeout=1, ${race.chains * race.requestsPerChain} each] ours node:http GET ${count(oursGet)} POST ${count(oursPost)}` +
          ` (reused ${agent.stats.socketsReused}, expired ${agent.stats.expiredIdle}, retried ${agent.stats.requestsRetried});` +
          ` ours undici GET ${count(oursU)} POST ${count(oursUPost)} (reused ${dispatcher.stats.socketsReused}, expired ${dispatcher.stats.expiredIdle}, retried ${dispatcher.stats.requestsRetried});` +
          ` Node default agent ${count(node)}, agentkeepalive ${count(ak)}, plain undici Agent ${count(pl)}`,
      )
      for (const r of [oursGet, oursPost, oursU, oursUPost]) expect(r.errors).toEqual({})
      expect(agent.stats.requestsRetried).toBe(0)
      expect(dispatcher.stats.requestsRetried).toBe(0)
      expect(agent.stats.socketsReused).toBeGreaterThan(0)
      expect(agent.stats.expiredIdle).toBeGreaterThan(0)
      expect(dispatcher.stats.socketsReused).toBeGreaterThan(0)
      expect(dispatcher.stats.expiredIdle).toBeGreaterThan(0)
    } finally {
      agent.destroy()
      nodeDefault.destroy()
      akl.destroy()
      await dispatcher.close()
      await plain.close()
    }
  })
})

const HOSTILE: Array<{ name: string; headers: string[]; reuse: boolean }> = [
  { name: 'timeout=0', headers: ['timeout=0'], reuse: false },
  { name: 'timeout=-1', headers: ['timeout=-1'], reuse: true },
  { name: 'timeout=1e309', headers: ['timeout=1e309'], reuse: true },
  { name: 'timeout=abc', headers: ['timeout=abc'], reuse: true },
  { name: 'max=5, timeout=2', headers: ['max=5, timeout=2'], reuse: true },
  { name: 'duplicated', headers: ['timeout=2', 'timeout=0'], reuse: true },
  { name: 'oversized', headers: [`timeout=2, ${'x='.repeat(4000)}1`], reuse: true },
]

describe('hostile Keep-Alive hints', () => {
  for (const hint of HOSTILE) {
    it(`${hint.name}: every request succeeds on both engines; sockets ${hint.reuse ? 'reused' : 'never reused'}`, async () => {
      const server = await startRaceServer({ idleTimeoutMs: 5000, keepAliveHeaders: hint.headers })
      const race = {
        host: server.host,
        port: server.port,
        chains: 2,
        requestsPerChain: 5,
        minGapMs: 20,
        maxGapMs: 40,
      }
      const agent = createAgent()
      const dispatcher = createDispatcher(undefined, { undici })
      try {
        const [a, d] = await Promise.all([
          raceNode(agent, { ...race, idPrefix: 'n' }),
          raceUndici(undici.request, dispatcher, { ...race, idPrefix: 'u' }),
        ])
        expect([a.errors, d.errors]).toEqual([{}, {}])
        expect([a.ok, d.ok]).toEqual([10, 10])
        if (hint.reuse) {
          expect(agent.stats.socketsReused).toBeGreaterThan(0)
          expect(dispatcher.stats.socketsReused).toBeGreaterThan(0)
        } else {
          expect([agent.stats.socketsReused, dispatcher.stats.socketsReused]).toEqual([0, 0])
        }
      } finally {
        agent.destroy()
        await dispatcher.close()
      }
    })
  }
})

/**
 * The race, for real, on undici (7 on Node < 22.19, 8 on newer Nodes — see undici-version.ts): the same server closing
 * idle connections at exactly T behind the delay proxy, the same random gaps around T. A plain undici Agent runs in
 * the same test and its failures are printed; our dispatcher must fail none of the GETs, and the server must see every
 * POST at most once.
 */

import { startDelayProxy } from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import { createDispatcher, getReuseFacts } from '../src/index.js'
import { raceUndici } from './race-clients.js'
import { startRaceServer } from './race-server.js'
import { expectedUndiciMajor, undici, undiciVersion } from './undici-version.js'

const T = 400
const ONE_WAY_MS = 15
const CHAINS = 100
const GAP = { minGapMs: T - 40, maxGapMs: T + 40 }

async function setup() {
  const server = await startRaceServer({ idleTimeoutMs: T })
  const proxy = await startDelayProxy({
    target: { host: server.host, port: server.port },
    oneWayDelayMs: ONE_WAY_MS,
  })
  return { server, target: { host: proxy.host, port: proxy.port } }
}

describe(`the stale-socket race on undici ${expectedUndiciMajor()}`, () => {
  it('runs on the undici major this Node is meant to test', () => {
    expect(Number(undiciVersion.split('.')[0])).toBe(expectedUndiciMajor())
    // undici 8 added Dispatcher1Wrapper (for Node's older built-in fetch); undici 7 has none.
    expect('Dispatcher1Wrapper' in undici ? 8 : 7).toBe(expectedUndiciMajor())
  })

  it(`GET: ours fails 0 of ${CHAINS * 20}; a plain undici Agent counted alongside`, async () => {
    const { target } = await setup()
    const ours = createDispatcher(undefined, { undici })
    const plain = new undici.Agent()
    try {
      const mine = await raceUndici(undici.request, ours, {
        ...target,
        ...GAP,
        chains: CHAINS,
        requestsPerChain: 20,
        idPrefix: 'ours',
      })
      const theirs = await raceUndici(undici.request, plain, {
        ...target,
        ...GAP,
        chains: CHAINS,
        requestsPerChain: 20,
        idPrefix: 'plain',
      })
      console.log(
        `[race undici ${expectedUndiciMajor()} GET, T=${T} ms, ${CHAINS * 20} each] ours failed ${mine.failed} (retried ${ours.stats.requestsRetried}),` +
          ` plain undici Agent failed ${theirs.failed} ${JSON.stringify(theirs.errors)}; ours: ${JSON.stringify(ours.stats)}`,
      )
      for (const error of mine.samples)
        console.log('ours failed:', (error as Error).message, {
          ...getReuseFacts(error),
          firstError: undefined,
        })
      expect(mine.errors).toEqual({})
      expect(mine.ok).toBe(CHAINS * 20)
      expect(ours.stats.socketsReused).toBeGreaterThan(CHAINS * 10)
    } finally {
      await ours.close()
      await plain.close()
    }
  })

  it('POST (not idempotent): never retried, the server sees each at most once; failures carry the reuse facts', async () => {
    const { server, target } = await setup()
    const ours = createDispatcher(undefined, { undici })
    try {
      const result = await raceUndici(undici.request, ours, {
        ...target,
        ...GAP,
        chains: 50,
        requestsPerChain: 10,
        method: 'POST',
        idPrefix: 'post',
      })
      const duplicates = [...server.seen.values()].filter((n) => n > 1).length
      console.log(
        `[race undici POST] failed ${result.failed} ${JSON.stringify(result.errors)}, duplicates ${duplicates}`,
      )
      expect(duplicates).toBe(0)
      expect(ours.stats.requestsRetried).toBe(0)
      expect(result.ok + result.failed).toBe(500)
      for (const error of result.samples) {
        expect(getReuseFacts(error)).toMatchObject({
          engine: 'undici',
          reusedSocket: true,
          notRetriedBecause: 'not idempotent',
        })
      }
    } finally {
      await ours.close()
    }
  })
})

/**
 * Node's built-in fetch with the policy: useForGlobalFetch installs our dispatcher with undici's setGlobalDispatcher,
 * which Node's bundled undici reads (Node 20 bundles undici 6 and calls the dispatcher with the old handler API, which
 * undici 7 adapts; Node 26 bundles undici 8 and calls it with the new one). The race through global fetch: no failures,
 * and the dispatcher's counters prove fetch used it.
 */

import { startDelayProxy } from '@keepalive/test-harness'
import { afterEach, describe, expect, it } from 'vitest'
import { useForGlobalFetch } from '../src/index.js'
import { startRaceServer } from './race-server.js'
import { expectedUndiciMajor, undici } from './undici-version.js'

const previous = undici.getGlobalDispatcher()
afterEach(() => {
  undici.setGlobalDispatcher(previous)
})

describe(`Node ${process.versions.node}'s global fetch (bundled undici ${process.versions.undici}) with undici ${expectedUndiciMajor()}'s setGlobalDispatcher`, () => {
  it('fetch races a server closing at exactly T: 0 failures, through our dispatcher', async () => {
    const T = 400
    const server = await startRaceServer({ idleTimeoutMs: T })
    const proxy = await startDelayProxy({
      target: { host: server.host, port: server.port },
      oneWayDelayMs: 15,
    })
    const dispatcher = useForGlobalFetch(undefined, { undici })
    const errors: string[] = []
    let ok = 0
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
    await Promise.all(
      Array.from({ length: 30 }, async (_, chain) => {
        await sleep(Math.random() * T)
        for (let i = 0; i < 10; i += 1) {
          try {
            const res = await fetch(`http://${proxy.host}:${proxy.port}/`, {
              headers: { 'x-request-id': `f-${chain}-${i}` },
            })
            await res.text()
            ok += 1
          } catch (error) {
            errors.push(String((error as { cause?: { code?: string } }).cause?.code ?? error))
          }
          await sleep(T - 40 + Math.random() * 80)
        }
      }),
    )
    try {
      console.log(
        `[global fetch, Node ${process.versions.node}] ${ok} ok, failed ${errors.length}; ours: ${JSON.stringify(dispatcher.stats)}`,
      )
      expect(errors).toEqual([])
      expect(ok).toBe(300)
      expect(dispatcher.stats.socketsCreated).toBeGreaterThan(0)
      expect(dispatcher.stats.socketsReused).toBeGreaterThan(0)
    } finally {
      await dispatcher.close()
    }
  })
})

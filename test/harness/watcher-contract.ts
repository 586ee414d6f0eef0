/**
 * The shared contract test of core's `Watcher` (#23): one function, `describeWatcherContract`, run by each
 * adapter's contract test (packages/mqtt/test/contract.test.ts, packages/ssh/test/contract.test.ts; ws plugs in the
 * same way) against a real peer. It checks what a user who knows one watcher relies on in all of them: the members,
 * states and counters, the listener checks, `probe`/`alive` against a live peer, `dead` (its shape, its deadline
 * measured from the last byte, the connection destroyed), a peer's close as `disconnected`, and `stop()`.
 *
 * The adapter gives a factory that starts its peer, connects through `via` (this contract's proxy, which can make
 * the peer silent or close the connection) and watches. A separate entry (`@keepalive/test-harness/watcher-contract`)
 * because it imports vitest, which the harness's main entry must not (child processes import it).
 */
import { once } from 'node:events'
import {
  definePolicy,
  detectionTime,
  isKeepaliveError,
  type Policy,
  type PolicyInput,
  schedulerInfo,
  WATCHER_EVENTS,
  WATCHER_STATES,
  type Watcher,
  type WatcherDeadEvent,
} from '@keepalive/core'
import { describe, expect, it } from 'vitest'
import { recordDeadline } from './deadline.js'
import type { ProxyTarget } from './idle-drop-proxy.js'
import { expectNoLeaks } from './leaks.js'
import { startSilenceProxy } from './silence-proxy.js'

export interface WatchedConnection<W extends Watcher> {
  /** The watcher, `idle`: the connection is ready for probes (after CONNACK, authentication, open). */
  watcher: W
}

export interface WatcherContractOptions<W extends Watcher> {
  /** The watcher's name in its messages (`'MqttWatcher'`). */
  name: string
  /** The adapter's own events, beyond the contract's four. */
  ownEvents: readonly string[]
  /** The `dead` reason's code (`'KA_ERR_MQTT_PINGRESP_TIMEOUT'`). */
  deadCode: `KA_ERR_${string}`
  /**
   * Starts a real peer, connects a client to `await via(peer)` instead of the peer, watches it with `policy`, and
   * resolves once the watcher is `idle`. The client must not reconnect. Everything started is undone by the
   * harness's per-test cleanup (`track`, `registerCleanup`).
   */
  connect(
    policy: PolicyInput,
    via: (peer: ProxyTarget) => Promise<ProxyTarget>,
  ): Promise<WatchedConnection<W>>
}

/** 1 s idle, 2 probes 500 ms apart: detection 2 s, short enough for a test, in whole seconds for MQTT's Keep Alive. */
const POLICY: PolicyInput = { idle: 1000, interval: 500, probes: 2 }

/**
 * `dead` after the last byte the client could receive: never before detectionTime (the monitor stamps a byte no
 * earlier than it was read); at most one 10 ms scheduler tick, the stall check's setImmediate and the event loop and
 * the in-process proxy later — 300 ms covers that on this 2-core machine shared with other suites.
 */
const DEAD_SLACK_MS = 300

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms
  while (!check()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${ms} ms`)
    await sleep(10)
  }
}

function listNames(names: readonly string[]): string {
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
}

function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn()
  } catch (error) {
    if (isKeepaliveError(error)) return { code: error.code, message: error.message }
    throw error
  }
  throw new Error('did not throw')
}

/** Runs the watcher contract's tests against one adapter. */
export function describeWatcherContract<W extends Watcher>(options: WatcherContractOptions<W>): void {
  const { name, ownEvents, deadCode } = options
  const events = [...WATCHER_EVENTS, ...ownEvents]
  const policy: Policy = definePolicy(POLICY)
  const detection = detectionTime(policy)

  async function start() {
    let proxy: Awaited<ReturnType<typeof startSilenceProxy>> | undefined
    const via = async (peer: ProxyTarget): Promise<ProxyTarget> => {
      proxy = await startSilenceProxy({ target: peer })
      return { host: proxy.host, port: proxy.port }
    }
    const { watcher } = await options.connect(POLICY, via)
    if (proxy === undefined) throw new Error(`${name}: connect() did not go through via()`)
    expect(watcher.state, 'the watcher connect() resolves with').toBe('idle')
    expect(proxy.clientCount(), 'connections through the proxy').toBe(1)
    return { watcher, proxy }
  }

  describe(`${name}: the watcher contract (core's Watcher)`, () => {
    it('has the contract’s members, one of its states, and counters at zero', async () => {
      expectNoLeaks()
      const { watcher } = await start()
      for (const method of ['on', 'once', 'off', 'stop'] as const)
        expect(watcher[method]).toBeTypeOf('function')
      expect(WATCHER_STATES).toContain(watcher.state)
      expect(watcher.policy).toEqual(policy)
      expect(watcher.probesSent).toBe(0)
      expect(watcher.probesTotal).toBe(0)
      expect(watcher.lastRttMs).toBeUndefined()
      expect(watcher.deaths).toBe(0)
      expect(watcher.lastSeen).toBeTypeOf('number')
      // The monitor's stamp of a byte is an upper bound, at most one scheduler tick after it (core's README).
      expect(watcher.lastSeen).toBeLessThanOrEqual(performance.now() + schedulerInfo().tickMs)
      watcher.stop()
    })

    it('on/once/off: its events and error accepted; another name or a non-function refused, named', async () => {
      expectNoLeaks()
      const { watcher } = await start()
      const w = watcher as unknown as Record<'on' | 'once' | 'off', (e: unknown, l: unknown) => unknown>
      const listener = () => {}
      for (const event of [...events, 'error']) {
        w.on(event, listener)
        w.off(event, listener)
        w.once(event, listener)
        w.off(event, listener)
      }
      for (const way of ['on', 'once', 'off'] as const) {
        const typo = thrown(() => w[way]('daed', listener))
        expect(typo.code).toBe('KA_ERR_INVALID_ARGUMENT')
        expect(typo.message).toBe(
          `${name} events are ${listNames(events)}; got "daed" (did you mean "dead"?)`,
        )
        expect(thrown(() => w[way]('connect', listener)).message).toMatch(/; got "connect"$/)
        const notAFunction = thrown(() => w[way]('dead', 'log'))
        expect(notAFunction.code).toBe('KA_ERR_INVALID_ARGUMENT')
        expect(notAFunction.message).toBe(`${name}: a dead listener must be a function, got "log"`)
      }
      watcher.stop()
    })

    it('a live peer silent past idle: probe, then alive; counters follow', async () => {
      expectNoLeaks()
      const { watcher } = await start()
      // events.once works on every watcher (its 'error' listener is accepted, and never called).
      const [probe] = (await withTimeout(once(watcher as never, 'probe'), policy.idle + 1000, 'probe')) as [
        { attempt: number; silenceMs: number },
      ]
      expect(probe.attempt).toBe(1)
      // The first probe of a silence may come up to a quarter tick early (core's README).
      expect(probe.silenceMs).toBeGreaterThanOrEqual(policy.idle - schedulerInfo().tickMs / 4)
      const [alive] = (await withTimeout(once(watcher as never, 'alive'), policy.interval, 'alive')) as [
        { rttMs: number | undefined },
      ]
      expect(alive.rttMs === undefined || alive.rttMs >= 0).toBe(true)
      await sleep(20) // past the tick that handled the answer
      expect(watcher.state).toBe('idle')
      expect(watcher.probesSent).toBe(0)
      expect(watcher.probesTotal).toBeGreaterThanOrEqual(1)
      expect(watcher.lastRttMs).toBeTypeOf('number')
      expect(watcher.lastRttMs).toBeGreaterThanOrEqual(0)
      expect(watcher.lastRttMs).toBeLessThan(policy.interval)
      expect(watcher.deaths).toBe(0)
      watcher.stop()
    })

    it('a peer gone silent: dead once, on time after the last byte, its shape; the connection destroyed', async () => {
      expectNoLeaks()
      const { watcher, proxy } = await start()
      const deaths: Array<WatcherDeadEvent & { at: number }> = []
      watcher.on('dead', (event) => deaths.push({ ...event, at: performance.now() }))
      proxy.silence()
      await until(() => deaths.length > 0, detection + 2000, 'dead')
      const dead = deaths[0] as WatcherDeadEvent & { at: number }
      const measured = dead.at - proxy.lastForwardedToClient()
      recordDeadline({
        test: `${name}/contract: dead after the last byte`,
        measured,
        min: detection,
        max: detection + DEAD_SLACK_MS,
        slack: 'one 10 ms tick + setImmediate + event loop and in-process proxy on 2 shared cores',
      })
      expect(measured).toBeGreaterThanOrEqual(detection)
      expect(measured).toBeLessThanOrEqual(detection + DEAD_SLACK_MS)
      expect(isKeepaliveError(dead.reason, deadCode)).toBe(true)
      expect(dead.reason.cause).toBeDefined()
      expect(dead.probesSent).toBe(policy.probes)
      expect(dead.detectionMs).toBe(detection)
      // Silence as the monitor recorded it: from its stamp of the last byte, at most a tick after the byte.
      expect(dead.silenceMs).toBeGreaterThanOrEqual(detection - schedulerInfo().tickMs)
      expect(dead.silenceMs).toBeLessThanOrEqual(measured + 1)
      expect(watcher.state).toBe('dead')
      expect(watcher.deaths).toBe(1)
      expect(watcher.probesSent).toBe(dead.probesSent)
      expect(watcher.probesTotal).toBeGreaterThanOrEqual(policy.probes)
      expect(watcher.lastSeen).toBeUndefined()
      await proxy.clientsClosed(2000)
      await sleep(policy.interval)
      expect(deaths).toHaveLength(1)
      expect(watcher.state).toBe('dead')
      watcher.stop()
      expect(watcher.state).toBe('stopped')
    })

    it('a peer that closes the connection: disconnected, not dead', async () => {
      expectNoLeaks()
      const { watcher, proxy } = await start()
      const deaths: WatcherDeadEvent[] = []
      watcher.on('dead', (event) => deaths.push(event))
      proxy.closeClients()
      await proxy.clientsClosed(2000)
      await until(() => watcher.state === 'disconnected', 2000, 'disconnected')
      await sleep(detection + DEAD_SLACK_MS)
      expect(watcher.state).toBe('disconnected')
      expect(deaths).toEqual([])
      expect(watcher.deaths).toBe(0)
      expect(watcher.lastSeen).toBeUndefined()
      watcher.stop()
      expect(watcher.state).toBe('stopped')
    })

    it('stop(): idempotent and final; nothing emitted after it; the connection left open', async () => {
      expectNoLeaks()
      const { watcher, proxy } = await start()
      const emitted: string[] = []
      for (const event of events) watcher.on(event as 'dead', () => emitted.push(event))
      watcher.stop()
      watcher.stop()
      expect(watcher.state).toBe('stopped')
      proxy.silence()
      await sleep(detection + DEAD_SLACK_MS)
      expect(emitted).toEqual([])
      expect(watcher.state).toBe('stopped')
      expect(watcher.deaths).toBe(0)
      expect(proxy.clientCount()).toBe(1)
    })
  })
}

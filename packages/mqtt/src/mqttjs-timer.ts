/**
 * Who runs mqtt.js's own keepalive timer.
 *
 * mqtt.js's KeepaliveManager counts ticks of one `setInterval(K/2)`: PINGREQ on the 2nd tick, and on the 3rd
 * `_cleanUp(true)` + `'error' Keepalive timeout` unless a PINGRESP was *handled* in between. A PINGRESP queued
 * behind a slow message handler is not handled, so that timer kills live brokers (mqtt.js #1935). While a watcher
 * runs, that timer must not fire at all; when the watcher stops, mqtt.js's keepalive must come back.
 *
 * `TimerGate` is a public `timerVariant` (`{ set, clear }`, mqtt.js ≥ 5.8.0): it passes `set`/`clear` through to
 * real timers until a watcher `claim()`s it, holds every interval inert while claimed, and re-arms them on
 * `release()`. `mqttOptions` puts one in the client's options, so a watched client needs nothing private.
 *
 * `useGate` is the one place that goes beyond mqtt.js's documented options, for clients created without
 * `mqttOptions`: it swaps the client's live `keepaliveManager` (a public field) for a new `KeepaliveManager`
 * (a public export) built on a gate. It checks the mqtt.js version first; `test/mqttjs-timer.test.ts` fails
 * loudly when a new mqtt.js changes what this relies on.
 */
import type { Policy } from '@keepalive/core'
import { MqttUnsupportedError } from './errors.js'

/** The shape of mqtt.js's custom timer (`timerVariant: { set, clear }`); ours hands out numbers, as mqtt.js types it. */
export interface MqttjsTimer {
  set(callback: () => void, ms: number): number
  clear(id: number): void
}

/** A timer the caller gave in `timerVariant`, or Node's: its ids are whatever it returns. */
interface InnerTimer {
  set(callback: () => void, ms: number): unknown
  clear(id: unknown): void
}

const nativeTimer: InnerTimer = {
  set: (callback, ms) => setInterval(callback, ms),
  clear: (id) => clearInterval(id as ReturnType<typeof setInterval>),
}

const GATE = Symbol.for('keepalive.mqtt.timerGate')

interface Handle {
  readonly callback: () => void
  readonly ms: number
  /** The real timer while the gate is open; undefined while claimed. */
  real: unknown
}

export class TimerGate implements MqttjsTimer {
  /** The policy `mqttOptions` was called with: what `watchMqtt(client)` uses when given none. */
  readonly policy: Policy | undefined
  readonly #inner: InnerTimer
  readonly #live = new Map<number, Handle>()
  #nextId = 1
  #claims = 0

  constructor(policy: Policy | undefined, inner: unknown) {
    this.policy = policy
    this.#inner = isInnerTimer(inner) ? inner : nativeTimer
    Object.defineProperty(this, GATE, { value: true })
    // mqtt.js calls `this.timer.set(...)`: bound, so a caller that detaches them still works.
    this.set = this.set.bind(this)
    this.clear = this.clear.bind(this)
  }

  set(callback: () => void, ms: number): number {
    const handle: Handle = { callback, ms, real: undefined }
    if (this.#claims === 0) handle.real = this.#inner.set(callback, ms)
    const id = this.#nextId++
    this.#live.set(id, handle)
    return id
  }

  clear(id: number): void {
    const handle = this.#live.get(id)
    if (handle === undefined) return
    this.#live.delete(id)
    if (handle.real !== undefined) this.#inner.clear(handle.real)
  }

  /** While claimed, mqtt.js's keepalive intervals exist but never fire. */
  claim(): void {
    if (this.#claims++ > 0) return
    for (const handle of this.#live.values()) {
      if (handle.real !== undefined) this.#inner.clear(handle.real)
      handle.real = undefined
    }
  }

  /** The last release re-arms every live interval: mqtt.js's own keepalive runs again. */
  release(): void {
    if (this.#claims === 0 || --this.#claims > 0) return
    for (const handle of this.#live.values()) handle.real = this.#inner.set(handle.callback, handle.ms)
  }

  /** Real timers armed now (0 while claimed). */
  get armed(): number {
    let n = 0
    for (const handle of this.#live.values()) if (handle.real !== undefined) n++
    return n
  }

  get claimed(): boolean {
    return this.#claims > 0
  }
}

export function isTimerGate(value: unknown): value is TimerGate {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[GATE] === true
}

function isInnerTimer(value: unknown): value is InnerTimer {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as InnerTimer).set === 'function' &&
    typeof (value as InnerTimer).clear === 'function'
  )
}

/** The mqtt.js versions `useGate` was verified against: custom timers exist from 5.8.0; 6 may change anything. */
export const MQTTJS_SUPPORTED = { min: [5, 8, 0], below: 6 } as const

interface ManagerLike {
  destroy(): void
  constructor: new (client: unknown, timer: MqttjsTimer) => ManagerLike
}
interface ClientLike {
  keepaliveManager: ManagerLike | null
  keepalive?: number
  options: { timerVariant?: unknown }
  constructor: { VERSION?: unknown }
}

/**
 * Makes `gate` the timer of the client's current keepalive manager, if the client has one that is not already
 * on a gate. For clients whose options came from `mqttOptions` this is a no-op (their manager already uses the
 * gate); for others it must run after every CONNACK, because mqtt.js builds a new manager on each connection.
 * Throws `MqttUnsupportedError` on an mqtt.js outside `MQTTJS_SUPPORTED` or a manager of an unexpected shape.
 */
export function useGate(client: unknown, gate: TimerGate): void {
  const c = client as ClientLike
  if (isTimerGate(c.options?.timerVariant)) return
  checkVersion(c.constructor?.VERSION)
  const manager = c.keepaliveManager
  if (manager === null || manager === undefined) return
  if (typeof manager !== 'object' || typeof manager.destroy !== 'function') {
    throw new MqttUnsupportedError(
      `mqtt.js ${String(c.constructor.VERSION)}: client.keepaliveManager is not a KeepaliveManager (got ${typeof manager}); @keepalive/mqtt cannot take over its timer`,
    )
  }
  if ((manager as unknown as { timer?: unknown }).timer === gate) return
  const Manager = manager.constructor
  manager.destroy()
  // new KeepaliveManager(client, timer) arms its interval at once, through our gate.
  const replacement = new Manager(client, gate)
  if ((replacement as unknown as { timer?: unknown }).timer !== gate) {
    replacement.destroy()
    throw new MqttUnsupportedError(
      `mqtt.js ${String(c.constructor.VERSION)}: KeepaliveManager(client, timer) did not take the custom timer; @keepalive/mqtt cannot take over its timer`,
    )
  }
  c.keepaliveManager = replacement
}

export function checkVersion(version: unknown): void {
  const match = typeof version === 'string' ? /^(\d+)\.(\d+)\.(\d+)/.exec(version) : null
  const [major, minor, patch] = match ? match.slice(1).map(Number) : []
  const [minMajor, minMinor, minPatch] = MQTTJS_SUPPORTED.min
  const ok =
    major !== undefined &&
    minor !== undefined &&
    patch !== undefined &&
    major < MQTTJS_SUPPORTED.below &&
    (major > minMajor ||
      (major === minMajor && (minor > minMinor || (minor === minMinor && patch >= minPatch))))
  if (!ok) {
    throw new MqttUnsupportedError(
      `mqtt.js ${String(version)} is not supported: @keepalive/mqtt needs mqtt >=${MQTTJS_SUPPORTED.min.join('.')} <${MQTTJS_SUPPORTED.below} (client.constructor.VERSION)`,
    )
  }
}

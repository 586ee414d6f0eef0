/**
 * The watcher contract: what every `watch*` function of the @keepalive/* adapters returns (`watchMqtt`,
 * `watchSsh`, `watchWebSocket`, …). Someone who has learned one watcher knows them all: the same states, the
 * same counters, the same `on`/`off`/`once` checks, the same `dead` event and `stop()`. A watcher adds only what
 * its protocol needs (mqtt's `keepalive` event, ssh's `by`).
 *
 * A watcher is a monitor (./monitor) wired to one protocol connection: bytes received touch it, its probe sends
 * the protocol's ping, its death destroys the connection. Its states extend the monitor's four
 * (`idle | probing | dead | stopped`) with the three a connection adds: not yet able to probe (`connecting`),
 * not reading (`stalled`), and gone for a reason other than silence (`disconnected`).
 *
 * `WatcherEmitter` is the shared implementation of the listener half, so that the adapters do not each
 * re-implement the checks; it is exported from `@keepalive/core/internal`.
 */
import { EventEmitter } from 'node:events'
import { InvalidArgumentError, type KeepaliveError } from './errors.js'
import type { AliveEvent, ProbeErrorEvent, ProbeEvent } from './monitor/monitor.js'
import { describeValue } from './schema/describe-value.js'
import { didYouMean } from './schema/suggest.js'
import type { Policy } from './types.js'

/**
 * Where a watcher is, one name for every protocol:
 * - `connecting`: the connection is not yet at the point where a probe may be sent (MQTT before CONNACK, SSH
 *   before authentication, a WebSocket before open). Where the protocol allows it, silence is already timed.
 * - `idle`: watching; the peer was heard from within the policy's `idle`, no probe outstanding.
 * - `probing`: the peer has been silent past `idle`; `probesSent` probes are unanswered.
 * - `stalled`: we stopped reading the connection (the application's handlers are backlogged), so the peer's
 *   silence is not counted; the deadline restarts when reading resumes. Only watchers that can tell report it.
 * - `disconnected`: no connection, for a reason other than the peer's silence (closed, reset, network error).
 * - `dead`: the watcher declared the connection dead of silence and destroyed it (the `dead` event said why).
 * - `stopped`: `stop()` was called (or the watched client was ended by its owner). Final.
 *
 * A watcher that follows a reconnecting client (mqtt.js) leaves `disconnected` and `dead` for `connecting` at
 * the next connection; a watcher of one connection (ssh2, ws) stays in them. `stopped` is always final.
 */
export type WatcherState = 'connecting' | 'idle' | 'probing' | 'stalled' | 'disconnected' | 'dead' | 'stopped'

/** Every watcher state, in the order of a connection's life. */
export const WATCHER_STATES: readonly WatcherState[] = Object.freeze([
  'connecting',
  'idle',
  'probing',
  'stalled',
  'disconnected',
  'dead',
  'stopped',
] satisfies WatcherState[])

/** The `dead` event: the connection was declared dead of silence and is being destroyed. */
export interface WatcherDeadEvent {
  /**
   * The adapter's timeout error (`KA_ERR_<PROTOCOL>_…_TIMEOUT`, e.g. `KA_ERR_MQTT_PINGRESP_TIMEOUT`), whose
   * message names the silence, the probes and the detection time; `cause` is what noticed (the monitor's
   * `ProbeTimeoutError`, or the protocol library's own timeout error).
   */
  readonly reason: KeepaliveError
  /** Silence since the last byte received (or since reading resumed), ms. */
  readonly silenceMs: number
  /** Probes sent in that silence and left unanswered. */
  readonly probesSent: number
  /** The detection time in force for this connection (idle + interval × probes, after protocol limits), ms. */
  readonly detectionMs: number
}

/** The events every watcher emits. An adapter's own event map extends this one. */
export interface WatcherEvents {
  /** A probe is due: `attempt` counts from 1 within the current silence. */
  probe: ProbeEvent
  /** The peer showed life while probes were unanswered; `rttMs` where known. */
  alive: AliveEvent
  /** The peer is dead; the connection is being destroyed. Emitted once per connection. */
  dead: WatcherDeadEvent
  /** Sending a probe failed (the connection was not writable, the library threw). Only silence kills. */
  probeError: ProbeErrorEvent
}

/** The names of `WatcherEvents`, for adapters listing their own. */
export const WATCHER_EVENTS: readonly (keyof WatcherEvents)[] = Object.freeze([
  'probe',
  'alive',
  'dead',
  'probeError',
] satisfies (keyof WatcherEvents)[])

/**
 * What every `watch*` function returns. `Events` is the adapter's event map (the common four plus its own).
 *
 * `on`, `off` and `once` throw `InvalidArgumentError` (`KA_ERR_INVALID_ARGUMENT`) for an event name the watcher
 * does not emit (the message names it and the known ones) and for a listener that is not a function. `'error'`
 * is accepted and never emitted, so that `events.once(watcher, 'dead')` and `events.on(watcher, 'probe')` work:
 * a watcher reports failures as events with a `KeepaliveError`, never as an `'error'` that would crash.
 */
export interface Watcher<Events extends WatcherEvents = WatcherEvents> {
  on<E extends keyof Events>(event: E, listener: (event: Events[E]) => void): this
  once<E extends keyof Events>(event: E, listener: (event: Events[E]) => void): this
  off<E extends keyof Events>(event: E, listener: (event: Events[E]) => void): this
  /**
   * Stops watching. Idempotent. Leaves no timer and no listener on the connection behind, and leaves the
   * connection open: the watcher owns its liveness, not its life.
   */
  stop(): void
  readonly state: WatcherState
  /** The validated policy the watcher was given (protocol limits may shorten what is in force: see `dead`). */
  readonly policy: Policy
  /** Probes sent in the current silence (0 while the peer talks); for a dead connection, before it died. */
  readonly probesSent: number
  /** Probes sent since the watcher started, over every connection it watched. */
  readonly probesTotal: number
  /**
   * Round-trip time of the last answered probe, ms: from sending the last probe to the first byte received after
   * it (an upper bound: what arrived need not be the reply). Undefined before any probe was answered.
   */
  readonly lastRttMs: number | undefined
  /**
   * Monotonic ms (`performance.now()` base) of the last byte received (or of reading resuming, or of the
   * connection starting to be timed), as the monitor stamps it: an upper bound, at most one scheduler tick after
   * it, so it may be a little ahead of `performance.now()`; undefined while no connection is being timed (`stalled`, `disconnected`,
   * `dead`, `stopped`, and `connecting` where the protocol does not time silence before it is ready).
   */
  readonly lastSeen: number | undefined
  /** Connections this watcher declared dead (0 or 1 for a watcher of one connection). */
  readonly deaths: number
}

// biome-ignore lint/suspicious/noExplicitAny: listeners of every event type share one emitter.
type AnyListener = (...args: any[]) => void

/**
 * The listener half of a watcher, checked: an EventEmitter whose `on`, `once`, `off` (and their long names
 * `addListener`, `removeListener`, `prependListener`, `prependOnceListener`) accept only the watcher's events.
 * `what` names the watcher in messages (`'MqttWatcher'`); `events` lists its events (the common four first).
 *
 * An adapter extends it and emits with `emit`, which EventEmitter keeps synchronous. `hasListeners(event)` lets
 * the hot paths skip building a payload nobody reads.
 */
export class WatcherEmitter extends EventEmitter {
  readonly #what: string
  readonly #events: readonly string[]
  /** EventEmitter's `once` adds through `this.on`: `listenerAdded` is called by the outermost add only. */
  #depth = 0

  constructor(what: string, events: readonly string[] = WATCHER_EVENTS) {
    super()
    if (typeof what !== 'string' || what === '') {
      throw new InvalidArgumentError(
        `WatcherEmitter: what must be a watcher's name, got ${describeValue(what)}`,
      )
    }
    this.#what = what
    // A copy: the caller's array cannot change the checks afterwards.
    this.#events = copyNames(events)
  }

  override on(event: string | symbol, listener: AnyListener): this {
    this.checkListener(event, listener)
    this.#depth++
    try {
      super.on(event, listener)
    } finally {
      this.#depth--
    }
    if (this.#depth === 0) this.listenerAdded(event as string)
    return this
  }
  override addListener(event: string | symbol, listener: AnyListener): this {
    return this.on(event, listener)
  }
  override prependListener(event: string | symbol, listener: AnyListener): this {
    this.checkListener(event, listener)
    this.#depth++
    try {
      super.prependListener(event, listener)
    } finally {
      this.#depth--
    }
    if (this.#depth === 0) this.listenerAdded(event as string)
    return this
  }
  override once(event: string | symbol, listener: AnyListener): this {
    this.checkListener(event, listener)
    this.#depth++
    try {
      super.once(event, listener)
    } finally {
      this.#depth--
    }
    if (this.#depth === 0) this.listenerAdded(event as string)
    return this
  }
  override prependOnceListener(event: string | symbol, listener: AnyListener): this {
    this.checkListener(event, listener)
    this.#depth++
    try {
      super.prependOnceListener(event, listener)
    } finally {
      this.#depth--
    }
    if (this.#depth === 0) this.listenerAdded(event as string)
    return this
  }
  override off(event: string | symbol, listener: AnyListener): this {
    this.checkListener(event, listener)
    return super.off(event, listener)
  }
  override removeListener(event: string | symbol, listener: AnyListener): this {
    return this.off(event, listener)
  }

  /**
   * Called after a listener was added, by every way in (`on`, `once`, `prepend…`): an adapter that passes a
   * monitor's event on only once someone listens starts passing it here. Does nothing by default.
   */
  protected listenerAdded(_event: string): void {}

  /** True when `event` has a listener: build its payload only then. */
  hasListeners(event: string): boolean {
    return this.listenerCount(event) > 0
  }

  /** Throws `InvalidArgumentError` unless `event` is one of this watcher's events (or 'error') and `listener` a function. */
  protected checkListener(event: unknown, listener: unknown): void {
    if (typeof event !== 'string' || (event !== 'error' && !this.#events.includes(event))) {
      const suggestion = typeof event === 'string' ? didYouMean(event, this.#events) : ''
      throw new InvalidArgumentError(
        `${this.#what} events are ${listNames(this.#events)}; got ${describeValue(event)}${suggestion}`,
      )
    }
    if (typeof listener !== 'function') {
      throw new InvalidArgumentError(
        `${this.#what}: a ${event} listener must be a function, got ${describeValue(listener)}`,
      )
    }
  }
}

/** A frozen copy of `events`, or `InvalidArgumentError` (also when reading it throws: a hostile Proxy). */
function copyNames(events: unknown): readonly string[] {
  let copy: unknown[] | undefined
  try {
    // Array.isArray throws on a revoked Proxy: inside the try too.
    if (Array.isArray(events)) copy = Array.from(events as unknown[])
  } catch (error) {
    throw new InvalidArgumentError('WatcherEmitter: could not read the event names', { cause: error })
  }
  if (copy === undefined || copy.length === 0 || !copy.every((e) => typeof e === 'string')) {
    throw new InvalidArgumentError(
      `WatcherEmitter: events must be a non-empty array of event names, got ${describeValue(events)}`,
    )
  }
  return Object.freeze(copy as string[])
}

/** `probe, alive, dead and probeError` */
function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('')
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
}

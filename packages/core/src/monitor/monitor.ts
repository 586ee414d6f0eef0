/**
 * The protocol-neutral liveness engine: `createMonitor`.
 *
 * A monitor runs from creation. `touch()` on anything received; when silence reaches `idle` (up to
 * `jitter` earlier for the first probe) it calls `probe()` and emits `probe`, then again every `interval`
 * while still silent; an answer (a resolved probe promise, or any touch while probing) emits `alive`; and
 * `detectionTime = idle + interval × probes` after the last sign of life, with no probe answered, it emits
 * `dead` once and stops itself.
 *
 * Cost. A million monitors is a normal broker, so a monitor is one small object (8 fields, 88 bytes on
 * 64-bit Node) that sits in the shared timing wheel (./scheduler.ts) through its own `next`/`prev` fields.
 * Every time-valued field is a small integer (ticks or wrapped ms, see ./clock.ts), listeners and the name
 * live in a lazily allocated side object, and `touch()` is one store of the scheduler's cached `stamp`
 * plus one predictable branch. Work happens only when the wheel reaches a monitor's `due` tick: at most
 * once per idle period for a healthy peer, however often it is touched.
 *
 * Precision. `stamp` is the tick of the scheduler's next run, so a stored touch is never earlier than the
 * real one; when that run fires late, the scheduler knows by how much (`touchBoundMs`), and death is
 * declared only once the fresh clock has passed that bound + detectionTime: never early, and no later than
 * one tick after (when detectionTime is a whole number of ticks; otherwise it is rounded up to one).
 * A late timer is compared against the clock, not trusted: see `expire` for stalls.
 */
import { channels } from '../diagnostics.js'
import { InvalidArgumentError, type KeepaliveError, ProbeFailedError, ProbeTimeoutError } from '../errors.js'
import type { Policy, PolicyLike } from '../types.js'
import { monotonicNow, tickDiff, wrapTick } from './clock.js'
import {
  type AnyListener,
  addListener,
  type EventName,
  Extras,
  emit,
  hasListeners,
  removeListener,
} from './events.js'
import {
  acquire,
  deferMs,
  link,
  release,
  runLateByMs,
  runNowMs,
  runTick,
  type SchedulerInfo,
  type SchedulerOptions,
  schedulerInfo,
  setTickMs,
  stamp,
  type TimerEntry,
  tickAtMs,
  touchBoundMs,
  unlink,
} from './scheduler.js'
import { type TickPolicy, tickPolicyFor } from './tick-policy.js'

export interface ProbeContext {
  /** 1 for the first probe of a silent period. */
  readonly attempt: number
}

export interface MonitorOptions {
  policy?: PolicyLike
  /**
   * Sends one probe. May return a promise (any thenable): resolving counts as an answer (alive, with round-trip time);
   * rejecting or throwing is reported (the peer is not declared dead for it before the deadline).
   * Anything received should also be reported with `touch()`.
   */
  probe: (context: ProbeContext) => unknown
  /** A label for diagnostics. */
  name?: string
}

export interface AliveEvent {
  /**
   * Round-trip time in ms. For a probe whose promise resolved: from sending to resolution. For a touch
   * while probing: the time since the last probe was sent (an upper bound: what arrived need not be the
   * reply). Undefined where unknown.
   */
  readonly rttMs: number | undefined
}
export interface ProbeEvent {
  readonly attempt: number
  readonly silenceMs: number
}
export interface DeadEvent {
  /** A `ProbeTimeoutError` (`KA_ERR_PROBE_TIMEOUT`) naming the silence and the probes sent. */
  readonly reason: KeepaliveError
  readonly silenceMs: number
  readonly probesSent: number
}
export interface ProbeErrorEvent {
  /** A `ProbeFailedError` (`KA_ERR_PROBE_FAILED`) whose `cause` is what the probe threw or rejected with. */
  readonly error: KeepaliveError
  readonly attempt: number
}
export interface MonitorEvents {
  probe: ProbeEvent
  alive: AliveEvent
  dead: DeadEvent
  /** The probe function threw or its promise rejected. The deadline is unchanged: only silence kills. */
  probeError: ProbeErrorEvent
}

export type MonitorState = 'idle' | 'probing' | 'dead' | 'stopped'

export interface Monitor {
  /** Call on anything received. About as cheap as storing a number. */
  touch(): void
  on<E extends keyof MonitorEvents>(event: E, listener: (event: MonitorEvents[E]) => void): this
  off<E extends keyof MonitorEvents>(event: E, listener: (event: MonitorEvents[E]) => void): this
  /** Idempotent; leaves no timer behind. */
  stop(): void
  readonly state: MonitorState
  /** The label given in the options. */
  readonly name: string | undefined
  /** The validated policy. */
  readonly policy: Policy
  /**
   * Monotonic time (`performance.now()` base, ms) of the last sign of life as recorded: an upper bound of
   * the real one, at most one tick (plus the scheduler run's own lateness) after it. The monitor's death
   * deadline is `lastSeen + detectionTime`.
   */
  readonly lastSeen: number
  /** Milliseconds since `lastSeen`. */
  readonly silence: number
  /** Probes sent in the current silent period (for a dead monitor: before it died). */
  readonly probesSent: number
}

export type { SchedulerInfo, SchedulerOptions }
export { schedulerInfo }

/**
 * Sets the shared scheduler's tick (default 10 ms): the precision of every deadline and how often the
 * process wakes while monitors exist. Only while no monitor is running; throws otherwise.
 */
export function configureScheduler(options: SchedulerOptions): SchedulerInfo {
  const tickMs = options?.tickMs
  if (tickMs !== undefined) {
    if (!Number.isInteger(tickMs) || tickMs < 1 || tickMs > 1000) {
      throw new InvalidArgumentError(
        `configureScheduler: tickMs must be an integer from 1 to 1000 (ms), got ${String(tickMs)}`,
      )
    }
    if (!setTickMs(tickMs)) {
      throw new InvalidArgumentError(
        `configureScheduler: cannot change the tick while ${schedulerInfo().monitors} monitors are running`,
      )
    }
  }
  return schedulerInfo()
}

type Probe = MonitorOptions['probe']

/*
 * `sent` holds the state and the probe count in one small integer:
 *   0 idle · k > 0 probing, k probes sent · DEAD − k dead after k probes · STOPPED − k stopped after k.
 */
const DEAD = -1
const STOPPED = -(2 ** 28)

const EVENTS: ReadonlySet<string> = new Set<EventName>(['probe', 'alive', 'dead', 'probeError'])

function noProbe(): void {}

class LivenessMonitor implements Monitor, TimerEntry {
  // `seen` and `sent` first: the two fields `touch()` reads and writes then share a cache line with the
  // object header (which the call reads anyway), so a touch on a cold monitor costs one cache miss, not two.
  /** Wrapped tick of the last sign of life: an upper bound of its real time. */
  seen = stamp
  sent = 0
  // Wheel links and the tick this monitor is due at (see ./scheduler.ts).
  next: TimerEntry | null = null
  prev: TimerEntry | null = null
  due = 0
  readonly tp: TickPolicy
  probeFn: Probe
  extras: Extras | undefined

  constructor(tp: TickPolicy, probe: Probe, name: string | undefined) {
    this.tp = tp
    this.probeFn = probe
    this.extras = name === undefined ? undefined : new Extras(name)
  }

  touch(): void {
    this.seen = stamp
    if (this.sent > 0) answeredByTouch(this)
  }

  /** Called by the scheduler when `due` has come. */
  fire(): void {
    expire(this)
  }

  on<E extends keyof MonitorEvents>(event: E, listener: (event: MonitorEvents[E]) => void): this {
    checkListener(event, listener)
    this.extras ??= new Extras(undefined)
    addListener(this.extras, event, listener as AnyListener)
    return this
  }

  off<E extends keyof MonitorEvents>(event: E, listener: (event: MonitorEvents[E]) => void): this {
    checkListener(event, listener)
    if (this.extras !== undefined) removeListener(this.extras, event, listener as AnyListener)
    return this
  }

  stop(): void {
    if (this.sent < 0) return
    unlink(this)
    this.sent = STOPPED - this.sent
    this.probeFn = noProbe
    release()
    if (channels.monitorStop.hasSubscribers) channels.monitorStop.publish({ monitor: this })
  }

  get state(): MonitorState {
    const sent = this.sent
    if (sent === 0) return 'idle'
    if (sent > 0) return 'probing'
    return sent <= STOPPED ? 'stopped' : 'dead'
  }

  get name(): string | undefined {
    return this.extras?.name
  }

  get policy(): Policy {
    return this.tp.policy
  }

  get lastSeen(): number {
    return touchBoundMs(this.seen)
  }

  get silence(): number {
    return Math.max(0, monotonicNow() - touchBoundMs(this.seen))
  }

  get probesSent(): number {
    const sent = this.sent
    if (sent >= 0) return sent
    return sent <= STOPPED ? STOPPED - sent : DEAD - sent
  }

  get [Symbol.toStringTag](): string {
    return 'Monitor'
  }
}

/**
 * Creates a running monitor on the shared scheduler.
 *
 * ```ts
 * const monitor = createMonitor({ policy: 'fast', probe: () => client.ping() })
 * socket.on('data', () => monitor.touch())
 * monitor.on('dead', ({ reason }) => socket.destroy(reason))
 * ```
 */
export function createMonitor(options: MonitorOptions): Monitor {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`createMonitor: options must be an object, got ${typeof options}`)
  }
  const { probe, name } = options
  if (typeof probe !== 'function') {
    throw new InvalidArgumentError(`createMonitor: options.probe must be a function, got ${typeof probe}`)
  }
  if (name !== undefined && typeof name !== 'string') {
    throw new InvalidArgumentError(`createMonitor: options.name must be a string, got ${typeof name}`)
  }
  const tp = tickPolicyFor(options.policy)
  acquire()
  const monitor = new LivenessMonitor(tp, probe, name)
  scheduleIdle(monitor)
  if (channels.monitorCreate.hasSubscribers) {
    channels.monitorCreate.publish({ monitor, policy: tp.policy })
  }
  return monitor
}

function checkListener(event: string, listener: unknown): void {
  if (!EVENTS.has(event)) {
    throw new InvalidArgumentError(
      `Monitor events are probe, alive, dead and probeError; got ${JSON.stringify(event)}`,
    )
  }
  if (typeof listener !== 'function') {
    throw new InvalidArgumentError(`A ${event} listener must be a function, got ${typeof listener}`)
  }
}

/** Due for the first probe of a silent period: idle after the last touch, minus a random share of the jitter. */
function scheduleIdle(m: LivenessMonitor): void {
  const tp = m.tp
  const early = tp.jitterTicks === 0 ? 0 : Math.floor(Math.random() * (tp.jitterTicks + 1))
  link(m, wrapTick(m.seen + tp.idleTicks - early))
}

/** Answered: the next check is the first probe of a new silent period, whatever was planned while probing. */
function replan(m: LivenessMonitor): void {
  unlink(m)
  scheduleIdle(m)
}

/**
 * The monitor's tick has come. Each case compares the fresh clock (the run's tick) with a deadline computed
 * from the recorded last touch; nothing is counted.
 *
 * Stalls. If the run fired later than the policy's stall threshold (max(1 tick, interval / 4)), the process
 * itself was not running: a reply may be sitting unread in a socket buffer, because timers run before
 * I/O callbacks. A monitor whose death deadline passed meanwhile is therefore probed once more and given a
 * fresh `interval` instead of being declared dead (`keepalive:monitor:stall`); a live peer answers, a dead
 * one is declared dead when that interval is up. The same applies to a monitor past its deadline that has
 * not sent a single probe (only a stall can cause that): nobody is declared dead without being asked.
 */
function expire(m: LivenessMonitor): void {
  const tp = m.tp
  const now = runTick
  if (m.sent === 0 && tickDiff(now, m.seen) < tp.idleTicks - tp.jitterTicks) {
    // Touched since this check was planned: plan the next one from the new last touch.
    scheduleIdle(m)
    return
  }
  // The exact bound of the last touch (see touchBoundMs): the wheel waits for its tick, the ms check below
  // for the rest of it.
  const bound = touchBoundMs(m.seen)
  const deadline = wrapTick(tickAtMs(bound) + tp.deathTicks)
  if (tickDiff(now, deadline) >= 0) {
    const stalled = runLateByMs > tp.stallMs
    if (m.sent > 0 && !stalled) {
      // The wheel counts whole ticks from the tick the touch was stored under; the run that replaced that
      // stamp may have fired a little late (within timer noise), and the touch with it. Compare the fresh
      // clock with the exact bound: if short, wait the difference (a fraction of a tick), never die early.
      const shortBy = bound + tp.detectionMs - runNowMs
      if (shortBy > 0) {
        deferMs(m, shortBy)
        return
      }
      die(m)
      return
    }
    link(m, wrapTick(now + tp.intervalTicks))
    if (stalled && channels.monitorStall.hasSubscribers) {
      channels.monitorStall.publish({ monitor: m, lateByMs: runLateByMs })
    }
    sendProbe(m)
    return
  }
  if (m.sent >= tp.probes) {
    // All probes out; only a stall correction can bring us here before the deadline.
    link(m, deadline)
    return
  }
  if (m.sent + 1 < tp.probes) {
    // Probes are spaced from when they were planned, so a slightly late run does not push the rest back.
    let next = wrapTick(m.due + tp.intervalTicks)
    if (tickDiff(next, now) <= 0) next = wrapTick(now + tp.intervalTicks)
    link(m, tickDiff(next, deadline) < 0 ? next : deadline)
  } else {
    link(m, deadline)
  }
  sendProbe(m)
}

function sendProbe(m: LivenessMonitor): void {
  const attempt = ++m.sent
  const sentAt = runNowMs
  // Kept off the monitor (probing is the rare case): the round-trip time of a touch that answers it.
  m.extras ??= new Extras(undefined)
  m.extras.probeAt = sentAt
  if (channels.monitorProbe.hasSubscribers || hasListeners(m.extras, 'probe')) {
    const silenceMs = silenceAt(m, sentAt)
    if (channels.monitorProbe.hasSubscribers) {
      channels.monitorProbe.publish({ monitor: m, attempt, silenceMs })
    }
    emit(m, m.extras, 'probe', { attempt, silenceMs } satisfies ProbeEvent)
    if (m.sent < 0) return // stopped by a listener
  }
  let result: unknown
  try {
    result = m.probeFn({ attempt })
  } catch (error) {
    probeFailed(m, attempt, error)
    return
  }
  if (isThenable(result)) {
    try {
      result.then(
        () => answeredProbe(m, sentAt),
        (error: unknown) => probeFailed(m, attempt, error),
      )
    } catch (error) {
      probeFailed(m, attempt, error)
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** A probe's promise resolved: a sign of life with a measured round trip. */
function answeredProbe(m: LivenessMonitor, sentAt: number): void {
  if (m.sent < 0) return
  m.seen = stamp
  m.sent = 0
  replan(m)
  alive(m, monotonicNow() - sentAt)
}

/** Something arrived while probing (`touch` already recorded it). Kept out of `touch` so touch stays tiny. */
function answeredByTouch(m: LivenessMonitor): void {
  m.sent = 0
  replan(m)
  if (channels.monitorAlive.hasSubscribers || hasListeners(m.extras, 'alive')) {
    alive(m, m.extras === undefined ? undefined : monotonicNow() - m.extras.probeAt)
  }
}

function alive(m: LivenessMonitor, rttMs: number | undefined): void {
  if (channels.monitorAlive.hasSubscribers) channels.monitorAlive.publish({ monitor: m, rttMs })
  emit(m, m.extras, 'alive', { rttMs } satisfies AliveEvent)
}

function probeFailed(m: LivenessMonitor, attempt: number, cause: unknown): void {
  if (m.sent < 0) return
  const subscribed = channels.monitorProbeError.hasSubscribers
  if (!subscribed && !hasListeners(m.extras, 'probeError')) return
  const detail = cause instanceof Error ? cause.message : String(cause)
  const error = new ProbeFailedError(`Probe ${attempt} failed: ${detail}`, { cause })
  if (subscribed) channels.monitorProbeError.publish({ monitor: m, error, attempt })
  emit(m, m.extras, 'probeError', { error, attempt } satisfies ProbeErrorEvent)
}

function die(m: LivenessMonitor): void {
  const probesSent = m.sent
  m.sent = DEAD - probesSent
  m.probeFn = noProbe
  release()
  if (!channels.monitorDead.hasSubscribers && !hasListeners(m.extras, 'dead')) return
  const silenceMs = silenceAt(m, runNowMs)
  const reason = timeoutError(m.tp, silenceMs, probesSent)
  if (channels.monitorDead.hasSubscribers) {
    channels.monitorDead.publish({ monitor: m, reason, silenceMs, probesSent })
  }
  emit(m, m.extras, 'dead', { reason, silenceMs, probesSent } satisfies DeadEvent)
}

/** Silence as recorded: a lower bound of the real one (the recorded touch is at most a tick late). */
function silenceAt(m: LivenessMonitor, now: number): number {
  return Math.max(0, now - touchBoundMs(m.seen))
}

/**
 * The `dead` reason. Built without a stack trace: it would only name the scheduler's own frames, and
 * capturing one costs microseconds per death when many peers die together.
 */
function timeoutError(tp: TickPolicy, silenceMs: number, probesSent: number): KeepaliveError {
  const { idle, interval, probes } = tp.policy
  const message =
    `No sign of life for ${Math.round(silenceMs)} ms; ${probesSent} ${probesSent === 1 ? 'probe' : 'probes'} ` +
    `unanswered (detection time ${tp.detectionMs} ms = idle ${idle} ms + ${probes} × interval ${interval} ms)`
  const limit = Error.stackTraceLimit
  try {
    Error.stackTraceLimit = 0
  } catch {
    // Frozen by the application (hardened realms): keep the stack.
  }
  try {
    return new ProbeTimeoutError(message)
  } finally {
    try {
      Error.stackTraceLimit = limit
    } catch {}
  }
}

/**
 * The protocol-neutral liveness engine: `createMonitor`.
 *
 * A monitor runs from creation. `touch()` on anything received; when silence reaches `idle` (up to
 * `jitter` earlier for the first probe) it calls `probe()` and emits `probe`, then again every `interval`
 * while still silent; an answer (a resolved probe promise, or any touch while probing) emits `alive`; and
 * `detectionTime = idle + interval × probes` after the last sign of life, with no probe answered, it emits
 * `dead` once and stops itself.
 *
 * Invariants: never early (every deadline counts from an upper bound of the last touch, see
 * ./scheduler.ts; for an answer to a probe, the time it was handled, see lastTouchBoundMs); a death reached
 * by a late run is confirmed after the poll phase, so a reply that arrived while the process was stalled is
 * read first; a stall never makes a probe come earlier than `idle` after the last touch (after an answer,
 * exactly `idle` after it, see exactProbeAtMs; after a plain touch, on the tick grid: a touch read just before
 * a run at most `lateNoiseMs` late counts from that run's planned tick, so a first probe may come that much
 * early, see seenTick); `probesSent` is what was really sent.
 *
 * Cost. A million monitors is a normal broker, so a monitor is one small object (8 fields, 88 bytes on
 * 64-bit Node) that sits in the shared timing wheel through its own `next`/`prev` fields. Every
 * time-valued field is a small integer (wrapped ticks), listeners and the name live in a lazily allocated
 * side object (./events.ts), and `touch()` is one store of the scheduler's `stamp` plus one predictable
 * branch. Work happens only when the wheel reaches a monitor's `due` tick.
 */
import { channels } from '../diagnostics.js'
import {
  InvalidArgumentError,
  InvalidPolicyError,
  KeepaliveError,
  ProbeFailedError,
  ProbeTimeoutError,
} from '../errors.js'
import { detectionTimeOf } from '../policy.js'
import { memoizeByPolicy } from '../policy-memo.js'
import { describeValue } from '../schema/describe-value.js'
import { didYouMean } from '../schema/suggest.js'
import type { Policy, PolicyLike } from '../types.js'
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
  confirmAfterPoll,
  currentTickMs,
  deferMs,
  exactStamp,
  extendHorizon,
  lateNoiseMs,
  link,
  MAX_TRACKED_TICKS,
  monotonicNow,
  onSweepEnd,
  refreshStamp,
  release,
  runLateByMs,
  runNowMs,
  runTick,
  type SchedulerInfo,
  type SchedulerOptions,
  schedulerInfo,
  setTickMs,
  stallByMs,
  stamp,
  type TimerEntry,
  tickAfterMs,
  tickAtMs,
  tickDiff,
  tickToMs,
  touchBoundMs,
  unlink,
  wrapTick,
} from './scheduler.js'

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
  const { tickMs } = readOptions('configureScheduler', options === undefined ? {} : options, SCHEDULER_KEYS)
  if (tickMs !== undefined) {
    if (typeof tickMs !== 'number' || !Number.isInteger(tickMs) || tickMs < 1 || tickMs > 1000) {
      throw new InvalidArgumentError(
        `configureScheduler: tickMs must be an integer from 1 to 1000 (ms), got ${describeValue(tickMs)}`,
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

const MONITOR_KEYS = ['policy', 'probe', 'name'] as const
const SCHEDULER_KEYS = ['tickMs'] as const

/**
 * Reads an options object once, own enumerable keys checked against `allowed` (a typo is an error, not a
 * default). A throwing getter or Proxy trap becomes an InvalidArgumentError with the trap's error as cause.
 */
function readOptions<K extends string>(
  fn: string,
  options: unknown,
  allowed: readonly K[],
): Partial<Record<K, unknown>> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`${fn}: options must be an object, got ${describeValue(options)}`)
  }
  try {
    for (const key of Object.keys(options)) {
      if (!(allowed as readonly string[]).includes(key)) {
        throw new InvalidArgumentError(
          `${fn}: unknown option ${describeValue(key)}${didYouMean(key, allowed)}; options are ${allowed.join(', ')}`,
        )
      }
    }
    const values: Partial<Record<K, unknown>> = {}
    for (const key of allowed) values[key] = (options as Record<string, unknown>)[key]
    return values
  } catch (error) {
    if (error instanceof KeepaliveError) throw error
    throw new InvalidArgumentError(`${fn}: could not read the options (${describeValue(options)})`, {
      cause: error,
    })
  }
}

/*
 * `sent` holds the state and the probe count in one small integer:
 *   0 idle · k > 0 probing, k probes sent · DEAD − k dead after k probes · STOPPED − k stopped after k.
 */
const DEAD = -1
const STOPPED = -(2 ** 28)

const EVENTS: readonly string[] = ['probe', 'alive', 'dead', 'probeError'] satisfies EventName[]

function noProbe(): void {}

class LivenessMonitor implements Monitor, TimerEntry {
  // `seen` and `sent` first: the two fields `touch()` reads and writes then share a cache line with the
  // object header (which the call reads anyway), so a touch on a cold monitor costs one cache miss, not two.
  /** Wrapped tick of the last sign of life: an upper bound of its real time (see touchBoundMs). */
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

  /** Called in the check phase after a late run found this monitor past its deadline: still unanswered? */
  confirm(): void {
    if (this.sent > 0) die(this)
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
    leave(this)
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
    if (this.sent >= 0) refreshStamp(monotonicNow())
    return lastTouchBoundMs(this)
  }

  get silence(): number {
    const now = monotonicNow()
    if (this.sent >= 0) refreshStamp(now)
    return Math.max(0, now - lastTouchBoundMs(this))
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
  const { policy, probe, name } = readOptions('createMonitor', options, MONITOR_KEYS)
  if (typeof probe !== 'function') {
    throw new InvalidArgumentError(
      `createMonitor: options.probe must be a function, got ${describeValue(probe)}`,
    )
  }
  if (name !== undefined && typeof name !== 'string') {
    throw new InvalidArgumentError(`createMonitor: options.name must be a string, got ${describeValue(name)}`)
  }
  const tp = tickPolicyFor(policy as PolicyLike)
  acquire()
  tp.users++
  const monitor = new LivenessMonitor(tp, probe as Probe, name)
  scheduleIdle(monitor)
  if (channels.monitorCreate.hasSubscribers) {
    channels.monitorCreate.publish({ monitor, policy: tp.policy })
  }
  return monitor
}

function checkListener(event: unknown, listener: unknown): void {
  if (typeof event !== 'string' || !EVENTS.includes(event)) {
    throw new InvalidArgumentError(
      `Monitor events are probe, alive, dead and probeError; got ${describeValue(event)}`,
    )
  }
  if (typeof listener !== 'function') {
    throw new InvalidArgumentError(`A ${event} listener must be a function, got ${describeValue(listener)}`)
  }
}

/** Leaves the scheduler (dead or stopped): the timer and the tick-policy cache may let go. */
function leave(m: LivenessMonitor): void {
  release()
  releaseTickPolicy(m.tp)
}

/**
 * Due for the first probe of a silent period: idle after the last touch (its upper bound, so a touch
 * recorded during a stall counts from when it really could have been), minus a random share of the jitter.
 */
function scheduleIdle(m: LivenessMonitor): void {
  const tp = m.tp
  const exactAt = exactProbeAtMs(m)
  if (exactAt >= 0) {
    // The wheel's tick of that time (a later fraction of it is waited for in `expire`), and never a swept one.
    const tick = tickAtMs(exactAt)
    link(m, tickDiff(tick, runTick) > 0 ? tick : wrapTick(runTick + 1))
    return
  }
  const early = tp.jitterTicks === 0 ? 0 : Math.floor(Math.random() * (tp.jitterTicks + 1))
  link(m, wrapTick(seenTick(m) + tp.idleTicks - early))
}

/**
 * The tick the silent period counts from: the stored tick itself when its bound is within timer noise of
 * it (the usual case: first probes exactly `idle` after it), else the first tick at or after the bound (a
 * touch stored during a stall or an exactly stamped answer: never a probe sooner than `idle` after it).
 */
function seenTick(m: LivenessMonitor): number {
  const seen = m.seen
  if (seen === stamp) return seen
  const bound = touchBoundMs(seen)
  return bound - tickToMs(seen) <= lateNoiseMs() ? seen : tickAfterMs(bound)
}

/**
 * Monotonic ms at which the first probe of a silent period that began with an answer is due: exactly `idle` after
 * the answer was handled (its own time, see answeredAt), off the tick grid. Peers whose answers were read in one
 * burst are then probed as they answered, spread as their answers were, rather than all together on the next
 * tick: in-step connections do not stay in step round after round (their answers, and their deaths if they all
 * stop, would come in ever denser bursts). -1 when the period began with a plain touch (on the tick grid), or the
 * policy's jitter spreads first probes on the grid instead.
 */
function exactProbeAtMs(m: LivenessMonitor): number {
  const extras = m.extras
  if (m.tp.jitterTicks !== 0 || extras === undefined || extras.answeredTick !== m.seen) return -1
  return extras.answeredAt + m.tp.policy.idle
}

/** Answered: the next check is the first probe of a new silent period, whatever was planned while probing. */
function replan(m: LivenessMonitor): void {
  unlink(m)
  scheduleIdle(m)
}

/**
 * The monitor's tick has come. Each case compares the fresh clock (the run's tick) with a deadline computed
 * from the upper bound of the last touch; nothing is counted.
 *
 * Late runs. Timers run before I/O callbacks, so when a run fires late (a stall of the process, or the
 * loop busy with other work) a reply may be sitting unread in a socket buffer. A monitor past its deadline
 * in such a run is not declared dead there: its verdict is confirmed in the check phase of the same loop
 * iteration, after the poll phase has read what arrived (`confirmAfterPoll`). A live peer whose answer
 * arrived during the stall lives; a silent one dies then, about detectionTime + the stall after its last
 * touch, with the probes it was really sent. A monitor past its deadline that was never asked (a stall
 * swallowed the whole silent period: only a stall can do that) is probed once and given one interval.
 * `keepalive:monitor:stall` is published when the process itself stalled (`stallByMs`, which leaves out
 * the scheduler's own work) beyond the policy's threshold max(1 tick, interval / 4).
 */
function expire(m: LivenessMonitor): void {
  const tp = m.tp
  const now = runTick
  if (m.sent === 0) {
    const exactAt = exactProbeAtMs(m)
    if (exactAt >= 0) {
      // Nothing touched it since the answer: the first probe is due at exactly exactAt.
      if (runNowMs < exactAt) {
        const tick = tickAtMs(exactAt)
        if (tickDiff(tick, now) > 0) link(m, tick)
        else deferMs(m, exactAt - runNowMs)
        return
      }
    } else if (tickDiff(now, seenTick(m)) < tp.idleTicks - tp.jitterTicks) {
      // Touched since this check was planned (or during a stall): plan again from the touch.
      scheduleIdle(m)
      return
    }
  }
  const bound = lastTouchBoundMs(m)
  const deadline = wrapTick(tickAtMs(bound) + tp.deathTicks)
  if (tickDiff(now, deadline) >= 0) {
    if (m.sent === 0) {
      publishStall(m)
      link(m, wrapTick(now + tp.intervalTicks))
      queueProbe(m)
      return
    }
    // The wheel counts whole ticks; the exact bound may be a fraction of a tick later: wait the difference.
    const shortBy = bound + tp.detectionMs - runNowMs
    if (shortBy > 0) {
      deferMs(m, shortBy)
      return
    }
    // What may sit unread is what arrived since the poll phase last ran, and one ran after the scheduler's own
    // last work: so the window is `stallByMs`, not the lateness against the plan (a run late only because the
    // previous one handled a burst of deaths has read everything but the last `stallByMs`).
    if (stallByMs > lateNoiseMs()) {
      if (stallByMs > tp.stallMs) publishStall(m)
      confirmAfterPoll(m)
      return
    }
    die(m)
    return
  }
  if (m.sent >= tp.probes) {
    // All probes out; only a late stamp correction can bring us here before the deadline.
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
  queueProbe(m)
}

/**
 * Probes decided in this run, sent once every due monitor has been handled (`onSweepEnd`): deaths first,
 * so a tick where thousands of probes and deaths coincide does not make the deaths wait for the writes.
 * Each keeps the `due` it was linked with: if anything replanned or stopped it meanwhile, it is skipped.
 */
const probeQueue: LivenessMonitor[] = []
const probeQueueDue: number[] = []

function queueProbe(m: LivenessMonitor): void {
  probeQueue.push(m)
  probeQueueDue.push(m.due)
}

function sendQueuedProbes(): void {
  for (let i = 0; i < probeQueue.length; i++) {
    const m = probeQueue[i] as LivenessMonitor
    if (m.sent >= 0 && m.prev !== null && m.due === probeQueueDue[i]) sendProbe(m)
  }
  probeQueue.length = 0
  probeQueueDue.length = 0
}

onSweepEnd(sendQueuedProbes)

function publishStall(m: LivenessMonitor): void {
  if (channels.monitorStall.hasSubscribers) {
    channels.monitorStall.publish({ monitor: m, lateByMs: runLateByMs })
  }
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
  try {
    const result = m.probeFn({ attempt })
    // Reading `then` runs user code too (a getter): inside the same guard.
    if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
      const then = (result as { then?: unknown }).then
      if (typeof then === 'function') {
        then.call(
          result,
          () => answeredProbe(m, sentAt),
          (error: unknown) => probeFailed(m, attempt, error),
        )
      }
    }
  } catch (error) {
    probeFailed(m, attempt, error)
  }
}

/** A probe's promise resolved: a sign of life with a measured round trip. */
function answeredProbe(m: LivenessMonitor, sentAt: number): void {
  if (m.sent < 0) return
  const now = monotonicNow()
  answeredAt(m, now)
  m.sent = 0
  replan(m)
  alive(m, now - sentAt)
}

/**
 * Something arrived while probing (`touch` already stored the stamp). The clock is read here anyway, so
 * the reply is stamped with it: a reply read long after the last run (a burst of thousands) is bounded
 * by now (exactly), not by the next run. Kept out of `touch` so touch stays tiny.
 */
function answeredByTouch(m: LivenessMonitor): void {
  const now = monotonicNow()
  answeredAt(m, now)
  m.sent = 0
  replan(m)
  if (channels.monitorAlive.hasSubscribers || hasListeners(m.extras, 'alive')) {
    alive(m, m.extras === undefined ? undefined : now - m.extras.probeAt)
  }
}

/**
 * Stores an answer handled at `now`: as the tick it falls in (which the wheel bounds by the latest answer of
 * that tick) and, on the side object probing already allocated, as `now` itself. Thousands of answers read in
 * one burst then keep their own times, and their deaths come each at its own time + detectionTime rather
 * than all at the tick's last read + detectionTime (up to a tick later, and all at once).
 */
function answeredAt(m: LivenessMonitor, now: number): void {
  const tick = exactStamp(now)
  m.seen = tick
  m.extras ??= new Extras(undefined)
  const extras = m.extras
  extras.answeredAt = now
  extras.answeredTick = tick
}

/** Monotonic ms that bounds the last touch from above: the exact time of an answer if nothing came since. */
function lastTouchBoundMs(m: LivenessMonitor): number {
  const extras = m.extras
  if (extras !== undefined && extras.answeredTick === m.seen) return extras.answeredAt
  return touchBoundMs(m.seen)
}

function alive(m: LivenessMonitor, rttMs: number | undefined): void {
  if (channels.monitorAlive.hasSubscribers) channels.monitorAlive.publish({ monitor: m, rttMs })
  emit(m, m.extras, 'alive', { rttMs } satisfies AliveEvent)
}

/** Reports a probe that threw or rejected. Never throws, whatever was thrown (it runs as a rejection handler). */
function probeFailed(m: LivenessMonitor, attempt: number, cause: unknown): void {
  if (m.sent < 0) return
  const subscribed = channels.monitorProbeError.hasSubscribers
  if (!subscribed && !hasListeners(m.extras, 'probeError')) return
  const error = new ProbeFailedError(`Probe ${attempt} failed: ${describeCause(cause)}`, { cause })
  if (subscribed) {
    try {
      channels.monitorProbeError.publish({ monitor: m, error, attempt })
    } catch (thrown) {
      process.nextTick(rethrow, thrown)
    }
  }
  emit(m, m.extras, 'probeError', { error, attempt } satisfies ProbeErrorEvent)
}

/** An Error's message, or a description of anything else; safe against throwing getters and Proxies. */
function describeCause(cause: unknown): string {
  try {
    if (cause instanceof Error) {
      const message = cause.message
      if (typeof message === 'string') return message
    }
  } catch {
    return 'an error whose message cannot be read'
  }
  return typeof cause === 'string' ? cause : describeValue(cause)
}

function rethrow(error: unknown): never {
  throw error
}

function die(m: LivenessMonitor): void {
  const probesSent = m.sent
  m.sent = DEAD - probesSent
  m.probeFn = noProbe
  leave(m)
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
  return Math.max(0, now - lastTouchBoundMs(m))
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

/*
 * Tick policies: a policy converted to scheduler ticks, shared by every monitor with the same policy (a
 * monitor holds one pointer instead of four numbers; the conversion runs once per distinct policy).
 * Rounding never detects earlier than asked: idle, interval and the detection time round UP to whole
 * ticks, the jitter window rounds DOWN. An entry lives in the cache while a monitor uses it: a broker with
 * per-client keepalives (a distinct policy per client) leaves nothing behind when its clients go.
 */

class TickPolicy {
  /** Running monitors using this entry; at 0 it leaves the cache. */
  users = 0
  readonly idleTicks: number
  /** The most the first probe may come early (jitter), in whole ticks. */
  readonly jitterTicks: number
  readonly intervalTicks: number
  /** idle + interval × probes, rounded up. */
  readonly deathTicks: number
  readonly probes: number
  /** idle + interval × probes in ms, exactly. */
  readonly detectionMs: number
  /** A stall longer than this (ms) is published: max(1 tick, interval / 4). */
  readonly stallMs: number

  constructor(
    readonly policy: Policy,
    readonly tickMs: number,
    readonly key: string,
  ) {
    this.detectionMs = detectionTimeOf(policy)
    this.deathTicks = Math.max(1, Math.ceil(this.detectionMs / tickMs))
    this.idleTicks = Math.max(1, Math.ceil(policy.idle / tickMs))
    this.jitterTicks = Math.floor((policy.idle * policy.jitter) / tickMs)
    this.intervalTicks = Math.max(1, Math.ceil(policy.interval / tickMs))
    this.probes = policy.probes
    this.stallMs = Math.max(tickMs, policy.interval / 4)
  }
}

/** Tick policies in use, by value: an entry is shared by every monitor whose policy has the same numbers. */
const byKey = new Map<string, TickPolicy>()
/** The validated policy and its value key, computed once per Policy object (core's one per-policy cache). */
const policyKey = memoizeByPolicy((policy) => ({
  policy,
  key: `${policy.idle}/${policy.interval}/${policy.probes}/${policy.jitter}`,
}))

function tickPolicyFor(input: PolicyLike): TickPolicy {
  const tickMs = currentTickMs()
  const { policy, key: policyValues } = policyKey(input)
  const key = `${policyValues}/${tickMs}`
  let tickPolicy = byKey.get(key)
  if (tickPolicy === undefined) {
    tickPolicy = new TickPolicy(policy, tickMs, key)
    if (tickPolicy.deathTicks > MAX_TRACKED_TICKS) {
      throw new InvalidPolicyError(
        `Invalid policy for a monitor: detection time ${tickPolicy.detectionMs} ms (idle + interval × probes) ` +
          `exceeds ${MAX_TRACKED_TICKS * tickMs} ms, the longest a monitor tracks at a ${tickMs} ms tick; ` +
          'a coarser tick (configureScheduler({ tickMs })) tracks longer',
      )
    }
    extendHorizon(tickPolicy.deathTicks)
    byKey.set(key, tickPolicy)
  }
  return tickPolicy
}

function releaseTickPolicy(tp: TickPolicy): void {
  if (--tp.users === 0 && byKey.get(tp.key) === tp) byKey.delete(tp.key)
}

/**
 * The rules a monitor lives by, run when the wheel reaches its `due` tick (`expire`) or when something arrives
 * while it probes (`answered`): when to probe, when to die, and how an answer is timed. Every deadline compares the
 * fresh clock with one computed from the upper bound of the last touch (./scheduler.ts); nothing is counted.
 *
 * Invariants: never early (for an answer to a probe the bound is the time it was handled, see lastTouchBoundMs); a
 * death reached by a late run is confirmed after the poll phase, so a reply that arrived while the process was
 * stalled is read first; a stall never makes a probe come earlier than `idle` after the last touch (after an answer,
 * exactly `idle` after it, see exactProbeAtMs; after a plain touch, on the tick grid: a touch read just before a run
 * at most `noiseMs` late counts from that run's planned tick, so a first probe may come that much early, see
 * seenTick); `probesSent` is what was really sent.
 */
import { channels } from '../diagnostics.js'
import { type KeepaliveError, ProbeFailedError, ProbeTimeoutError } from '../errors.js'
import { describeValue } from '../schema/describe-value.js'
import { Extras, emit, hasListeners } from './events.js'
import type { LivenessMonitor } from './monitor.js'
import { clock, tickDiff, wheel, wrapTick } from './scheduler.js'
import type { TickPolicy } from './tick-policy.js'
import type { AliveEvent, DeadEvent, ProbeErrorEvent, ProbeEvent } from './types.js'

/*
 * A monitor's `sent` holds its state and its probe count in one small integer (one field, not two, on a million
 * monitors): 0 idle · k > 0 probing, k probes sent · DEAD − k dead after k · STOPPED − k stopped after k.
 */
const DEAD = -1
const STOPPED = -(2 ** 28)

/** Idle or probing: linked in the wheel, touched, probed. */
export function isRunning(sent: number): boolean {
  return sent >= 0
}
/** Dead after `probes` probes. */
export function deadAfter(probes: number): number {
  return DEAD - probes
}
/** Stopped from a running `sent` (idle or probing with its count). */
export function stoppedFrom(sent: number): number {
  return STOPPED - sent
}
export function isStopped(sent: number): boolean {
  return sent <= STOPPED
}
/** The probes sent in the current (or, once ended, the last) silent period. */
export function probeCount(sent: number): number {
  if (sent >= 0) return sent
  return sent <= STOPPED ? STOPPED - sent : DEAD - sent
}

/**
 * Due for the first probe of a silent period: idle after the last touch (its upper bound, so a touch
 * recorded during a stall counts from when it really could have been), minus a random share of the jitter.
 */
export function scheduleIdle(m: LivenessMonitor): void {
  const tp = m.tp
  const exactAt = exactProbeAtMs(m)
  if (exactAt >= 0) {
    // The wheel's tick of that time (a later fraction of it is waited for in `expire`), and never a swept one.
    const tick = clock.tickAt(exactAt)
    wheel.link(m, tickDiff(tick, clock.runTick) > 0 ? tick : wrapTick(clock.runTick + 1))
    return
  }
  const early = tp.jitterTicks === 0 ? 0 : Math.floor(Math.random() * (tp.jitterTicks + 1))
  wheel.link(m, wrapTick(seenTick(m) + tp.idleTicks - early))
}

/**
 * The tick the silent period counts from: the stored tick itself when its bound is within timer noise of
 * it (the usual case: first probes exactly `idle` after it), else the first tick at or after the bound (a
 * touch stored during a stall or an exactly stamped answer: never a probe sooner than `idle` after it).
 */
function seenTick(m: LivenessMonitor): number {
  const seen = m.seen
  if (seen === clock.stamp) return seen
  const bound = clock.boundMs(seen)
  return bound - clock.msOf(seen) <= clock.noiseMs() ? seen : clock.tickAfter(bound)
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
export function expire(m: LivenessMonitor): void {
  const tp = m.tp
  const now = clock.runTick
  if (m.sent === 0) {
    const exactAt = exactProbeAtMs(m)
    if (exactAt >= 0) {
      // Nothing touched it since the answer: the first probe is due at exactly exactAt.
      if (clock.runNowMs < exactAt) {
        const tick = clock.tickAt(exactAt)
        if (tickDiff(tick, now) > 0) wheel.link(m, tick)
        else wheel.defer(m, exactAt - clock.runNowMs)
        return
      }
    } else if (tickDiff(now, seenTick(m)) < tp.idleTicks - tp.jitterTicks) {
      // Touched since this check was planned (or during a stall): plan again from the touch.
      scheduleIdle(m)
      return
    }
  }
  const bound = lastTouchBoundMs(m)
  const deadline = wrapTick(clock.tickAt(bound) + tp.deathTicks)
  if (tickDiff(now, deadline) >= 0) {
    if (m.sent === 0) {
      publishStall(m)
      wheel.link(m, wrapTick(now + tp.intervalTicks))
      queueProbe(m)
      return
    }
    // The wheel counts whole ticks; the exact bound may be a fraction of a tick later: wait the difference.
    const shortBy = bound + tp.detectionMs - clock.runNowMs
    if (shortBy > 0) {
      wheel.defer(m, shortBy)
      return
    }
    // What may sit unread is what arrived since the poll phase last ran, and one ran after the scheduler's own
    // last work: so the window is `stallByMs`, not the lateness against the plan (a run late only because the
    // previous one handled a burst of deaths has read everything but the last `stallByMs`).
    if (clock.stallByMs > clock.noiseMs()) {
      if (clock.stallByMs > tp.stallMs) publishStall(m)
      wheel.confirmAfterPoll(m)
      return
    }
    die(m)
    return
  }
  if (m.sent >= tp.probes) {
    // All probes out; only a late stamp correction can bring us here before the deadline.
    wheel.link(m, deadline)
    return
  }
  if (m.sent + 1 < tp.probes) {
    // Probes are spaced from when they were planned, so a slightly late run does not push the rest back.
    let next = wrapTick(m.due + tp.intervalTicks)
    if (tickDiff(next, now) <= 0) next = wrapTick(now + tp.intervalTicks)
    wheel.link(m, tickDiff(next, deadline) < 0 ? next : deadline)
  } else {
    wheel.link(m, deadline)
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
    if (isRunning(m.sent) && m.prev !== null && m.due === probeQueueDue[i]) sendProbe(m)
  }
  probeQueue.length = 0
  probeQueueDue.length = 0
}

wheel.onSweepEnd(sendQueuedProbes)

function publishStall(m: LivenessMonitor): void {
  if (channels.monitorStall.hasSubscribers) {
    channels.monitorStall.publish({ monitor: m, lateByMs: clock.runLateByMs })
  }
}

function sendProbe(m: LivenessMonitor): void {
  const attempt = ++m.sent
  const sentAt = clock.runNowMs
  // Kept off the monitor (probing is the rare case): the round-trip time of a touch that answers it.
  m.extras ??= new Extras(undefined)
  m.extras.probeAt = sentAt
  if (channels.monitorProbe.hasSubscribers || hasListeners(m.extras, 'probe')) {
    const silenceMs = silenceAt(m, sentAt)
    if (channels.monitorProbe.hasSubscribers) {
      channels.monitorProbe.publish({ monitor: m, attempt, silenceMs })
    }
    emit(m, m.extras, 'probe', { attempt, silenceMs } satisfies ProbeEvent)
    if (!isRunning(m.sent)) return // stopped by a listener
  }
  try {
    const result = m.probeFn({ attempt })
    // Reading `then` runs user code too (a getter): inside the same guard.
    if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
      const then = (result as { then?: unknown }).then
      if (typeof then === 'function') {
        then.call(
          result,
          () => answered(m, sentAt),
          (error: unknown) => probeFailed(m, attempt, error),
        )
      }
    }
  } catch (error) {
    probeFailed(m, attempt, error)
  }
}

/**
 * An answer while probing: a probe's promise resolved (`sentAt` its sending time: a measured round trip), or
 * something arrived (`touch` already stored the stamp; `sentAt` undefined: the time since the last probe is the
 * round trip's upper bound). The clock is read here anyway, so the answer is stamped with it: one read long
 * after the last run (a burst of thousands) is bounded by now (exactly), not by its stamp's bound. Kept out of
 * `touch` so touch stays tiny.
 */
export function answered(m: LivenessMonitor, sentAt?: number): void {
  if (!isRunning(m.sent)) return
  const now = clock.now()
  answeredAt(m, now)
  m.sent = 0
  // The next check is the first probe of a new silent period, whatever was planned while probing.
  wheel.unlink(m)
  scheduleIdle(m)
  if (sentAt !== undefined) alive(m, now - sentAt)
  else if (channels.monitorAlive.hasSubscribers || hasListeners(m.extras, 'alive')) {
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
  const tick = clock.exact(now)
  m.seen = tick
  m.extras ??= new Extras(undefined)
  const extras = m.extras
  extras.answeredAt = now
  extras.answeredTick = tick
}

/** Monotonic ms that bounds the last touch from above: the exact time of an answer if nothing came since. */
export function lastTouchBoundMs(m: LivenessMonitor): number {
  const extras = m.extras
  if (extras !== undefined && extras.answeredTick === m.seen) return extras.answeredAt
  return clock.boundMs(m.seen)
}

function alive(m: LivenessMonitor, rttMs: number | undefined): void {
  if (channels.monitorAlive.hasSubscribers) channels.monitorAlive.publish({ monitor: m, rttMs })
  emit(m, m.extras, 'alive', { rttMs } satisfies AliveEvent)
}

/** Reports a probe that threw or rejected. Never throws, whatever was thrown (it runs as a rejection handler). */
function probeFailed(m: LivenessMonitor, attempt: number, cause: unknown): void {
  if (!isRunning(m.sent)) return
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

/** Declared dead by the wheel (a run, or the check phase after a late one). */
export function die(m: LivenessMonitor): void {
  const probesSent = m.sent
  m.sent = deadAfter(probesSent)
  m.leave()
  if (!channels.monitorDead.hasSubscribers && !hasListeners(m.extras, 'dead')) return
  const silenceMs = silenceAt(m, clock.runNowMs)
  const reason = timeoutError(m.tp, silenceMs, probesSent)
  if (channels.monitorDead.hasSubscribers) {
    channels.monitorDead.publish({ monitor: m, reason, silenceMs, probesSent })
  }
  emit(m, m.extras, 'dead', { reason, silenceMs, probesSent } satisfies DeadEvent)
}

/** Silence as recorded: a lower bound of the real one (the recorded touch is at most a tick late). */
export function silenceAt(m: LivenessMonitor, now: number): number {
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

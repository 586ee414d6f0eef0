/**
 * The protocol-neutral liveness engine: `createMonitor`.
 *
 * A monitor runs from creation. `touch()` on anything received; when silence reaches `idle` (up to
 * `jitter` earlier for the first probe) it calls `probe()` and emits `probe`, then again every `interval`
 * while still silent; an answer (a resolved probe promise, or any touch while probing) emits `alive`; and
 * `detectionTime = idle + interval × probes` after the last sign of life, with no probe answered, it emits
 * `dead` once and stops itself. The rules are in ./liveness.ts, the shared wheel and clock in ./scheduler.ts.
 *
 * Cost. A million monitors is a normal broker, so a monitor is one small object (8 fields, 88 bytes on
 * 64-bit Node) that sits in the shared timing wheel through its own `next`/`prev` fields. Every
 * time-valued field is a small integer (wrapped ticks), listeners and the name live in a lazily allocated
 * side object (./events.ts), and `touch()` is one store of the clock's stamp plus two predictable branches.
 * Work happens only when the wheel reaches a monitor's `due` tick; a process whose monitors are quiet sleeps.
 */
import { channels } from '../diagnostics.js'
import { InvalidArgumentError } from '../errors.js'
import { describeValue } from '../schema/describe-value.js'
import { readOptions } from '../schema/read-options.js'
import type { Policy, PolicyLike } from '../types.js'
import { type AnyListener, addListener, type EventName, Extras, removeListener } from './events.js'
import {
  answered,
  die,
  expire,
  isRunning,
  isStopped,
  lastTouchBoundMs,
  probeCount,
  scheduleIdle,
  silenceAt,
  stoppedFrom,
} from './liveness.js'
import { clock, type TimerEntry, wheel } from './scheduler.js'
import { acquireTickPolicy, releaseTickPolicy, type TickPolicy } from './tick-policy.js'
import type { Monitor, MonitorEvents, MonitorOptions, MonitorState } from './types.js'

type Probe = MonitorOptions['probe']

const EVENTS: readonly string[] = ['probe', 'alive', 'dead', 'probeError'] satisfies EventName[]

function noProbe(): void {}

export class LivenessMonitor implements Monitor, TimerEntry {
  // `seen` and `sent` first: the two fields `touch()` reads and writes then share a cache line with the
  // object header (which the call reads anyway), so a touch on a cold monitor costs one cache miss, not two.
  /** Wrapped tick of the last sign of life: an upper bound of its real time (see clock.boundMs). */
  seen: number
  /** State and probe count, packed (see ./liveness.ts). */
  sent = 0
  // Wheel links and the tick this monitor is due at (see ./scheduler.ts).
  next: TimerEntry | null = null
  prev: TimerEntry | null = null
  due = 0
  readonly tp: TickPolicy
  probeFn: Probe
  extras: Extras | undefined

  constructor(tp: TickPolicy, probe: Probe, name: string | undefined) {
    if (!clock.held) clock.hold()
    this.seen = clock.stamp
    this.tp = tp
    this.probeFn = probe
    this.extras = name === undefined ? undefined : new Extras(name)
  }

  touch(): void {
    // The first touch of a callback queues the stamp's release (see ./scheduler.ts); the rest only store.
    if (!clock.held) clock.hold()
    this.seen = clock.stamp
    if (this.sent > 0) answered(this)
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
    if (!isRunning(this.sent)) return
    wheel.unlink(this)
    this.sent = stoppedFrom(this.sent)
    this.leave()
    if (channels.monitorStop.hasSubscribers) channels.monitorStop.publish({ monitor: this })
  }

  /** Dead or stopped: never probed again; the scheduler and the tick-policy cache may let go. */
  leave(): void {
    this.probeFn = noProbe
    wheel.release()
    releaseTickPolicy(this.tp)
  }

  get state(): MonitorState {
    const sent = this.sent
    if (sent === 0) return 'idle'
    if (sent > 0) return 'probing'
    return isStopped(sent) ? 'stopped' : 'dead'
  }

  get name(): string | undefined {
    return this.extras?.name
  }

  get policy(): Policy {
    return this.tp.policy
  }

  get lastSeen(): number {
    if (isRunning(this.sent)) clock.refresh(clock.now())
    return lastTouchBoundMs(this)
  }

  get silence(): number {
    const now = clock.now()
    if (isRunning(this.sent)) clock.refresh(now)
    return silenceAt(this, now)
  }

  get probesSent(): number {
    return probeCount(this.sent)
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
  if (options === undefined) {
    throw new InvalidArgumentError('createMonitor: options must be an object, got undefined')
  }
  const { policy, probe, name } = readOptions('createMonitor', options, ['policy', 'probe', 'name'])
  if (typeof probe !== 'function') {
    throw new InvalidArgumentError(
      `createMonitor: options.probe must be a function, got ${describeValue(probe)}`,
    )
  }
  if (name !== undefined && typeof name !== 'string') {
    throw new InvalidArgumentError(`createMonitor: options.name must be a string, got ${describeValue(name)}`)
  }
  const tp = acquireTickPolicy(policy as PolicyLike, clock.tickMs())
  wheel.extendHorizon(tp.deathTicks)
  wheel.acquire()
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

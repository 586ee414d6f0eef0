/** What users of `createMonitor` see: its options, its events and the monitor itself. */
import type { KeepaliveError } from '../errors.js'
import type { Policy, PolicyLike } from '../types.js'

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
   * the real one: the end of the callback it was read in, at most one tick after it. The monitor's death
   * deadline is `lastSeen + detectionTime`.
   */
  readonly lastSeen: number
  /** Milliseconds since `lastSeen`. */
  readonly silence: number
  /** Probes sent in the current silent period (for a dead monitor: before it died). */
  readonly probesSent: number
}

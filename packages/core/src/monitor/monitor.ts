// CONTRACT STUB — owned by the monitor helper.
import type { KeepaliveError } from '../errors.js'
import type { PolicyLike } from '../types.js'

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
  readonly rttMs: number | undefined
}
export interface ProbeEvent {
  readonly attempt: number
  readonly silenceMs: number
}
export interface DeadEvent {
  readonly reason: KeepaliveError
  readonly silenceMs: number
  readonly probesSent: number
}
export interface MonitorEvents {
  probe: ProbeEvent
  alive: AliveEvent
  dead: DeadEvent
}

export interface Monitor {
  /** Call on anything received. About as cheap as storing a number. */
  touch(): void
  on<E extends keyof MonitorEvents>(event: E, listener: (event: MonitorEvents[E]) => void): this
  off<E extends keyof MonitorEvents>(event: E, listener: (event: MonitorEvents[E]) => void): this
  /** Idempotent; leaves no timer behind. */
  stop(): void
  readonly state: 'idle' | 'probing' | 'dead' | 'stopped'
}

export function createMonitor(_options: MonitorOptions): Monitor {
  throw new Error('not implemented')
}

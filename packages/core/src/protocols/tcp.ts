// CONTRACT STUB — owned by the protocol-arithmetic helper.
import type { Policy } from '../types.js'

/** How TCP expresses a policy: whole seconds for idle and interval, a count, and TCP_USER_TIMEOUT in ms. */
export interface TcpSettings {
  /** TCP_KEEPIDLE in seconds (≥ 1). */
  readonly idleSeconds: number
  /** TCP_KEEPINTVL in seconds (≥ 1). */
  readonly intervalSeconds: number
  /** TCP_KEEPCNT (1..127 on Linux). */
  readonly probes: number
  /** TCP_USER_TIMEOUT in ms: equals the effective detection time. */
  readonly userTimeoutMs: number
  /** idleSeconds·1000 + intervalSeconds·1000 × probes. */
  readonly detectionTime: number
  readonly warnings: readonly string[]
}

export function tcpSettings(_policy: Policy): TcpSettings {
  throw new Error('not implemented')
}

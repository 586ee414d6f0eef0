// CONTRACT STUB — owned by the protocol-arithmetic helper.
import type { PolicyLike, Protocol } from './types.js'

export interface ExplainOptions {
  /** Only these protocols (default: all). */
  protocols?: readonly Protocol[]
  /** The shortest idle timeout on the path (ms), e.g. from config.path.idleTimeout. */
  pathIdleTimeout?: number
}

export interface ProtocolExplanation {
  readonly protocol: Protocol
  /** The native settings the adapter will use, by their native names and units. */
  readonly settings: Readonly<Record<string, number | string | boolean>>
  /** The detection time these settings really give, in ms. */
  readonly detectionTime: number
  /** Probes sent per hour on an idle connection whose peer answers. */
  readonly probesPerIdleHour: number
  readonly warnings: readonly string[]
  /** One sentence on what was chosen and why. */
  readonly summary: string
}

export interface Explanation {
  readonly policy: import('./types.js').Policy
  readonly detectionTime: number
  readonly protocols: readonly ProtocolExplanation[]
}

export function explain(_policy?: PolicyLike, _options?: ExplainOptions): Explanation {
  throw new Error('not implemented')
}

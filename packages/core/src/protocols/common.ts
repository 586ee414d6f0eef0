// Shared arithmetic for the protocol modules. Pure: no I/O, no protocol library, no clock.
import { formatDuration } from '../duration.js'

/** The largest delay a Node timer (and Linux's int-typed TCP_USER_TIMEOUT) accepts: 2³¹−1 ms, about 24.8 days. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** idle + interval × probes, the number every adapter is measured against: the one formula, from policy.ts. */
export { detectionTimeOf as askedDetectionTime } from '../policy.js'

/**
 * Milliseconds to a whole number of `unitMs` units, never more than asked (floor), within [min, max].
 * Rounding down is the direction that never detects later; `raised` reports the one case where
 * the result is more than asked (below the minimum), so callers can warn about the lateness.
 */
export function toUnits(
  ms: number,
  unitMs: number,
  min: number,
  max: number,
): { value: number; rounded: boolean; raised: boolean; capped: boolean } {
  const floored = Math.floor(ms / unitMs)
  if (floored < min) return { value: min, rounded: false, raised: true, capped: false }
  if (floored > max) return { value: max, rounded: false, raised: false, capped: true }
  return { value: floored, rounded: floored * unitMs !== ms, raised: false, capped: false }
}

/** Probes per hour on an idle connection whose peer answers: one per `periodMs` of silence. Two decimals. */
export function perHour(periodMs: number): number {
  if (!(periodMs > 0)) return 0
  return Math.round((3_600_000 / periodMs) * 100) / 100
}

/** Milliseconds for humans in warnings and summaries: 500 → "500ms", 1500 → "1.5s", 90000 → "1m30s". */
export const human: (ms: number) => string = formatDuration

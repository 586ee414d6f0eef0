/**
 * Time for the liveness engine: a monotonic clock and the small-integer tick arithmetic the scheduler stores.
 *
 * Why ticks wrap: monitors store times as tick numbers so that every field stays a V8 small integer (Smi):
 * stores need no write barrier and no boxed HeapNumber, which is what keeps `touch()` a plain store and an
 * idle monitor under 100 bytes. A Smi is only guaranteed for 31-bit signed values, so tick numbers wrap at
 * 2^30 and are compared through `tickDiff`, which is exact while two ticks are less than 2^29 apart
 * (62 days at the default 10 ms tick, far beyond any detection time).
 */

/** Monotonic milliseconds. Looked up on the global each call so fake timers that replace `performance` apply. */
export function monotonicNow(): number {
  return performance.now()
}

/** Tick numbers live in [0, 2^30). */
export const TICK_MASK = 0x3fffffff

/** An absolute tick count (any non-negative safe integer) to its stored, wrapped form. */
export function wrapTick(tick: number): number {
  // `&` works on ToInt32(tick), which keeps the low 32 bits: exactly what wrapping needs.
  return tick & TICK_MASK
}

/** a − b for wrapped ticks, as a signed number in [−2^29, 2^29). */
export function tickDiff(a: number, b: number): number {
  return ((a - b) << 2) >> 2
}

// CONTRACT STUB — owned by the policy/config helper.
/** Parses a DurationInput to whole-or-fractional milliseconds; throws InvalidPolicyError naming `field`. */
export function parseDuration(_value: unknown, _field: string): number {
  throw new Error('not implemented')
}
/** Formats milliseconds for humans: 1500 → "1.5s", 90000 → "1m30s". */
export function formatDuration(_ms: number): string {
  throw new Error('not implemented')
}

/**
 * One greppable line per measured deadline, printed right before the test asserts it, so that a failing run shows
 * the value too and `scripts/deadline-report.mjs` can find the worst of many CI logs (issue #7). No imports: core's
 * tests use this file by relative path (through their helpers.ts) without depending on the harness package.
 *
 *   [deadline] {"test":"tcp/netns: idle, vanished beyond the first hop","measured":4079,"min":3900,"max":4500,"node":"20.20.2","slack":"timer wheel, scheduling"}
 */
export interface DeadlineRecord {
  /** Stable short id, `<package or area>/<file>: <what>`; the report groups samples by it. */
  readonly test: string
  /** The value the test asserts on, in ms. */
  readonly measured: number
  /** Lower bound (ms) the test asserts, if any (inclusive or not, as the assertion says). */
  readonly min?: number
  /** Upper bound (ms) the test asserts, if any. */
  readonly max?: number
  /** Where the bound's slack comes from (tick, kernel rule, scheduling). */
  readonly slack: string
}

const round = (ms: number): number => Math.round(ms * 10) / 10

/** Prints `[deadline] {json}` for `record` and returns `record.measured`, so it can wrap the asserted value. */
export function recordDeadline(record: DeadlineRecord): number {
  const line: Record<string, string | number> = { test: record.test, measured: round(record.measured) }
  if (record.min !== undefined) line.min = round(record.min)
  if (record.max !== undefined) line.max = round(record.max)
  line.node = process.versions.node
  line.slack = record.slack
  console.log(`[deadline] ${JSON.stringify(line)}`)
  return record.measured
}

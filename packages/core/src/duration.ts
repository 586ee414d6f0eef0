/**
 * Durations: milliseconds in code, human strings ("250ms", "30s", "1h30m") only at the edges.
 *
 * The arithmetic is parse-duration's. It is lenient by design: it skips text it does not understand
 * ("abc5s" → 5000, "1,5s" → 15000, "5s garbage" → 5000), reads a bare "5" as 5 ms and returns null or
 * 0 for nonsense. A keepalive setting mis-read that way fails silently in production, so every string
 * first has to pass a strict grammar here — numbers each followed by a known unit, units largest first,
 * each unit once — and only then goes to the parser.
 */
import parse from 'parse-duration'
import { InvalidArgumentError, InvalidPolicyError } from './errors.js'
import { describeValue } from './schema/describe-value.js'

/**
 * The longest duration accepted anywhere: 2^31 − 1 ms (about 24.8 days). Node's timers overflow above
 * it (the delay silently becomes 1 ms), so a longer idle would probe in a tight loop instead of rarely.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1

/** The unit words accepted in duration strings, each with the unit parse-duration gives it. */
export const UNIT_WORDS = [
  'ms',
  'msec',
  'msecs',
  'millisecond',
  'milliseconds',
  's',
  'sec',
  'secs',
  'second',
  'seconds',
  'm',
  'min',
  'mins',
  'minute',
  'minutes',
  'h',
  'hr',
  'hrs',
  'hour',
  'hours',
  'd',
  'day',
  'days',
  'w',
  'week',
  'weeks',
] as const

// Years and months have no fixed length and micro/nanoseconds are below what a timer can do, so they
// are left out even though parse-duration knows them. Longest words first so the alternation is greedy.
const UNIT_ALTERNATION = [...UNIT_WORDS].sort((a, b) => b.length - a.length).join('|')
const NUMBER = String.raw`(?:\d+(?:\.\d+)?|\.\d+)`
const PART = String.raw`${NUMBER}\s*(?:${UNIT_ALTERNATION})`

/**
 * The grammar of a duration string as a regular expression (also published in the JSON Schema):
 * one or more `<number><unit>` parts, optionally separated by spaces. Ordering (largest unit first,
 * each once) is checked in code because a regular expression would be unreadable.
 */
export const DURATION_PATTERN = String.raw`^\s*${PART}(?:\s*${PART})*\s*$`
const DURATION_RE = new RegExp(DURATION_PATTERN)
const PART_RE = new RegExp(String.raw`(${NUMBER})\s*(${UNIT_ALTERNATION})`, 'g')

/** What a duration must look like, for error messages. */
export const DURATION_RULE = 'must be a positive duration (ms number or string like "30s", "1h30m")'

export type DurationCheck =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly rule: string }

/**
 * Checks any value against the duration rules without throwing: a positive whole number of
 * milliseconds up to MAX_DURATION_MS, given as a number or as a string in the grammar above.
 * On failure `rule` says what is allowed, tailored to what was wrong (for "<field> <rule>, got <value>").
 */
export function checkDuration(value: unknown): DurationCheck {
  if (typeof value === 'number') return checkMilliseconds(value)
  if (typeof value !== 'string') return { ok: false, rule: DURATION_RULE }
  // Trimmed first (trim() removes exactly what \s matches): two whitespace runs side by side in one pattern
  // (`^\s*[-+]?\s*…`) backtrack quadratically, and 100k spaces took seconds to reject.
  const text = value.trim()
  if (/^[-+]?\s*(?:\d+(?:\.\d+)?|\.\d+)$/.test(text)) {
    return { ok: false, rule: `${DURATION_RULE}; a string needs a unit (ms, s, m, h, d)` }
  }
  if (text.startsWith('-')) return { ok: false, rule: DURATION_RULE }
  if (!DURATION_RE.test(text)) return { ok: false, rule: DURATION_RULE }
  if (!unitsDescend(text)) {
    return { ok: false, rule: `${DURATION_RULE}; list units largest first, each once` }
  }
  const parsed = parse(text)
  if (parsed === null) return { ok: false, rule: DURATION_RULE }
  // "1.1s" is 1.1 × 1000 = 1100.0000000000002 in floating point: drop noise far below a microsecond.
  return checkMilliseconds(Math.round(parsed * 1e6) / 1e6)
}

function checkMilliseconds(ms: number): DurationCheck {
  if (!Number.isFinite(ms) || ms <= 0) return { ok: false, rule: DURATION_RULE }
  if (!Number.isInteger(ms)) return { ok: false, rule: 'must be a whole number of milliseconds' }
  if (ms > MAX_DURATION_MS) {
    return {
      ok: false,
      rule: `must be at most ${MAX_DURATION_MS} ms (about 24.8 days; Node timers overflow above that)`,
    }
  }
  return { ok: true, ms }
}

/** True when the units of a grammatical string come largest first, each once ("1h30m", not "30m1h" or "1s1s"). */
function unitsDescend(value: string): boolean {
  let previous = Number.POSITIVE_INFINITY
  for (const match of value.matchAll(PART_RE)) {
    const size = unitSize(match[2]!)
    if (!(size < previous)) return false
    previous = size
  }
  return true
}

/** The unit's length in ms, taken from parse-duration's own table so both always agree. */
export function unitSize(word: string): number {
  const table = parse.unit
  const size = table[word] ?? (word.endsWith('s') ? table[word.slice(0, -1)] : undefined)
  // Unreachable for words in UNIT_WORDS; NaN makes unitsDescend fail closed if the table ever changes.
  return typeof size === 'number' ? size : Number.NaN
}

/**
 * Parses a DurationInput (ms number or string like "30s") to milliseconds: a positive whole number
 * no larger than MAX_DURATION_MS. Throws InvalidPolicyError naming `field`, the value and the rule.
 */
export function parseDuration(value: unknown, field: string): number {
  if (typeof field !== 'string') {
    throw new InvalidArgumentError(
      `parseDuration: field must be a string (its name), got ${describeValue(field)}`,
    )
  }
  const check = checkDuration(value)
  if (check.ok) return check.ms
  throw new InvalidPolicyError(`Invalid policy: "${field}" ${check.rule}, got ${describeValue(value)}`)
}

const UNITS_DOWN: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
]

/**
 * Formats milliseconds for humans, in the same grammar parseDuration reads back:
 * 250 → "250ms", 1500 → "1.5s", 90000 → "1m30s", 7200000 → "2h", 60250 → "1m250ms".
 */
export function formatDuration(ms: number): string {
  if (typeof ms !== 'number') {
    throw new InvalidArgumentError(`formatDuration: ms must be a number, got ${describeValue(ms)}`)
  }
  if (!Number.isFinite(ms)) return String(ms)
  if (ms < 0) return `-${formatDuration(-ms)}`
  if (ms === 0) return '0ms'
  let rest = ms
  let out = ''
  for (const [unit, size] of UNITS_DOWN) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`
      rest %= size
    }
  }
  const seconds = Math.floor(rest / 1000)
  const millis = roundMillis(rest - seconds * 1000)
  if (seconds > 0 && Number.isInteger(millis)) {
    // Whole-millisecond remainders read best as a decimal of the second: "1.5s", "1.005s".
    const fraction = millis === 0 ? '' : `.${String(millis).padStart(3, '0').replace(/0+$/, '')}`
    return `${out}${seconds}${fraction}s`
  }
  if (seconds > 0) out += `${seconds}s`
  return millis === 0 ? out : `${out}${millis}ms`
}

/** Keeps sub-millisecond parts readable ("0.5ms") without floating-point tails. */
function roundMillis(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

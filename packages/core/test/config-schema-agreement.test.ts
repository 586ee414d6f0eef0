/**
 * The published JSON Schema (keepalive.schema.json, `@keepalive/core/schema.json`) says what loadConfig says: a
 * standard validator (ajv, draft 2020-12) and the parser agree on the same generated configs. Where they may differ
 * is written in the schema's own text, and the test checks every difference is one of those: the cross-field rule
 * `path.idleTimeout` and a total above the longest duration (parser only), and two exotic spellings the pattern
 * leaves out although they give whole milliseconds.
 */
import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../src/config/parse-config.js'
import { checkDuration, formatDuration, MAX_DURATION_MS, UNIT_WORDS, unitSize } from '../src/duration.js'
import { KeepaliveError } from '../src/errors.js'

const schema = JSON.parse(readFileSync(new URL('../keepalive.schema.json', import.meta.url), 'utf8'))
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema)

/** The parser's verdict: undefined when it accepts, else its message. */
function parserVerdict(config: unknown): string | undefined {
  try {
    parseConfig(JSON.stringify(config), { format: 'json', env: {} })
    return undefined
  } catch (error) {
    expect(error).toBeInstanceOf(KeepaliveError)
    return (error as KeepaliveError).message
  }
}

const PART = /(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)/g

/**
 * The two spellings the schema's pattern leaves out although the parser accepts them: more than 5 decimals of a day
 * or week, and parts whose fractions of a millisecond add up to whole ones. Exact arithmetic on the digits.
 */
function exoticButWhole(value: string): boolean {
  let anyPartFractional = false
  for (const [, number = '', unit = ''] of value.matchAll(PART)) {
    const [whole = '', fraction = ''] = number.split('.')
    const digits = fraction.replace(/0+$/, '')
    const size = BigInt(unitSize(unit))
    const scaled = BigInt(`${whole || '0'}${digits}`) * size
    if (scaled % 10n ** BigInt(digits.length) !== 0n) anyPartFractional = true
    if (size >= 86_400_000n && digits.length > 5) return true
  }
  return anyPartFractional
}

/** True when a duration string's exact total is above the longest duration (exact arithmetic on the digits). */
function totalAboveMax(value: string): boolean {
  const parts = [...value.matchAll(PART)].map(([, number = '', unit = '']) => {
    const [whole = '', fraction = ''] = number.split('.')
    return { digits: `${whole || '0'}${fraction}`, decimals: fraction.length, size: BigInt(unitSize(unit)) }
  })
  const scale = Math.max(0, ...parts.map((p) => p.decimals))
  const total = parts.reduce(
    (sum, p) => sum + BigInt(p.digits) * p.size * 10n ** BigInt(scale - p.decimals),
    0n,
  )
  return total > BigInt(MAX_DURATION_MS) * 10n ** BigInt(scale)
}

/** Every duration string in a generated config (the schema and the parser differ only on those). */
function durationStrings(config: unknown): string[] {
  if (typeof config === 'string') return [config]
  if (config && typeof config === 'object') return Object.values(config).flatMap(durationStrings)
  return []
}

const number = fc.oneof(
  fc.nat({ max: 100 }).map(String),
  fc.bigInt({ min: 0n, max: 10n ** 12n }).map(String),
  fc.tuple(fc.nat({ max: 99 }), fc.stringMatching(/^\d{1,6}$/)).map(([i, f]) => `${i}.${f}`),
  fc.stringMatching(/^\d{1,6}$/).map((f) => `.${f}`),
  fc.constantFrom('0', '0.0', '0.4', '0.5', '.5', '1.5', '0.001', '0.00005', '0.000025'),
)
const part = fc.tuple(number, fc.constantFrom('', ' '), fc.constantFrom(...UNIT_WORDS))
/** Duration strings: 1–3 parts, often in the required order (largest unit first), sometimes not. */
const durationString = fc
  .tuple(fc.array(part, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.constantFrom('', ' '))
  .map(([parts, ordered, separator]) => {
    const list = ordered ? [...parts].sort((a, b) => unitSize(b[2]) - unitSize(a[2])) : parts
    return list.map(([n, space, unit]) => `${n}${space}${unit}`).join(separator)
  })
const duration = fc.oneof(
  // Valid ones most of the time (as written by formatDuration, or as ms), so whole configs are often valid too.
  { weight: 8, arbitrary: fc.integer({ min: 1, max: MAX_DURATION_MS }).map(formatDuration) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: MAX_DURATION_MS }) },
  { weight: 6, arbitrary: durationString },
  fc.integer({ min: -5, max: MAX_DURATION_MS + 5 }),
  fc.constantFrom(
    0,
    1.5,
    MAX_DURATION_MS,
    MAX_DURATION_MS + 1,
    '0s',
    '0ms',
    '0.4ms',
    '0.5ms',
    '24d20h31m23s647ms',
    '25d',
  ),
)
const policyFields = {
  idle: duration,
  interval: duration,
  probes: fc.constantFrom(1, 3),
}
const config = fc.record(
  {
    policy: fc.record(policyFields, { requiredKeys: [] }),
    path: fc.record({ idleTimeout: duration }, { requiredKeys: [] }),
    tcp: fc.record(
      { ...policyFields, userTimeout: fc.oneof(fc.constant(false), duration) },
      { requiredKeys: [] },
    ),
    http: fc.record({ maxSocketAge: duration, serverKeepAliveTimeout: duration }, { requiredKeys: [] }),
    mqtt: fc.record({ idle: duration, pingrespTimeout: duration }, { requiredKeys: [] }),
    ssh: fc.record({ interval: duration }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
)

describe('keepalive.schema.json and loadConfig agree', () => {
  it('on the durations the parser rejects: zero, fractions of a millisecond, units out of order or repeated', () => {
    for (const value of [
      '0s',
      '0ms',
      '0.4ms',
      '0.5ms',
      '0m0s',
      '.0s',
      '30m1h',
      '1s1s',
      '5',
      '0.0005s',
      '1.00001m',
    ]) {
      const cfg = { policy: { idle: value } }
      expect(validate(cfg), `schema on ${value}`).toBe(false)
      expect(parserVerdict(cfg), `parser on ${value}`).toBeDefined()
    }
    for (const value of [
      '1ms',
      '0.001s',
      '1.5s',
      '0.5m',
      '0.00005m',
      '0.000025h',
      '1h30m',
      '2 days 3 hours',
      '.5s',
    ]) {
      const cfg = { policy: { idle: value } }
      expect(validate(cfg), `schema on ${value}`).toBe(true)
      expect(parserVerdict(cfg), `parser on ${value}`).toBeUndefined()
    }
  })

  it('on generated configs, except where the schema says the parser alone decides', () => {
    let bothAccept = 0
    let bothReject = 0
    fc.assert(
      fc.property(config, (cfg) => {
        const bySchema = validate(cfg)
        const byParser = parserVerdict(cfg)
        if (bySchema && byParser === undefined) bothAccept++
        else if (!bySchema && byParser !== undefined) bothReject++
        else if (bySchema) {
          // Accepted by the schema, rejected by the parser: only the rules the schema's text leaves to the parser
          // (the cross-field rule, or a total above the longest duration).
          const crossField = /path\.idleTimeout/.test(byParser ?? '')
          expect(crossField || durationStrings(cfg).some(totalAboveMax), byParser).toBe(true)
        } else {
          // Rejected by the schema, accepted by the parser: only the exotic spellings the schema's text names.
          const differ = durationStrings(cfg).filter((value) => {
            const alone = validate({ policy: { idle: value } })
            return !alone && checkDuration(value).ok
          })
          expect(differ.length, JSON.stringify(validate.errors)).toBeGreaterThan(0)
          for (const value of differ) expect(exoticButWhole(value), value).toBe(true)
        }
      }),
      { numRuns: 2_000 },
    )
    // Both verdicts occur often, so the agreement is not vacuous.
    expect(bothAccept).toBeGreaterThan(50)
    expect(bothReject).toBeGreaterThan(50)
  })

  it('says in its text what only the parser checks', () => {
    const text = JSON.stringify(schema)
    expect(text).toContain(`a total above ${MAX_DURATION_MS} ms`)
    expect(text).toContain('Every idle must stay below it.')
  })
})

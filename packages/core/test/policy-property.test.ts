import { definePolicy, detectionTime, KeepaliveError, type PolicyLike } from '@keepalive/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const RUNS = 300

/** Either a valid frozen policy with a finite positive detection time, or a KeepaliveError: nothing else. */
function checkOutcome(input: unknown): void {
  let policy: ReturnType<typeof definePolicy>
  try {
    policy = definePolicy(input as PolicyLike)
  } catch (error) {
    expect(error).toBeInstanceOf(KeepaliveError)
    expect((error as KeepaliveError).code).toBe('KA_ERR_INVALID_POLICY')
    return
  }
  expect(Object.isFrozen(policy)).toBe(true)
  const time = detectionTime(policy)
  expect(Number.isFinite(time) && time > 0).toBe(true)
  expect(policy.jitter >= 0 && policy.jitter <= 0.5).toBe(true)
}

const durationLike = fc.oneof(
  fc.integer({ min: -10, max: 2 ** 32 }),
  fc.double(),
  fc.constantFrom('30s', '1h30m', '250ms', '1.5s', 'ten seconds', '', '5', '-1s', '1e3s', '25d'),
  fc.string(),
  fc.jsonValue(),
)

/** Objects with the real field names (and sometimes a stray one) holding arbitrary values. */
const policyShaped = fc.record(
  {
    preset: fc.oneof(fc.constantFrom('fast', 'balanced', 'battery', 'linux-default', 'fsat'), fc.jsonValue()),
    idle: durationLike,
    interval: durationLike,
    probes: fc.oneof(fc.integer({ min: -5, max: 2_000 }), fc.double(), fc.jsonValue()),
    jitter: fc.oneof(fc.double({ min: -1, max: 1 }), fc.jsonValue()),
    idel: fc.jsonValue(),
  },
  { requiredKeys: [] },
)

describe('definePolicy over arbitrary input', () => {
  it('arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), checkOutcome), { numRuns: RUNS })
  })

  it('arbitrary JavaScript values', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withMap: true, withDate: true }), checkOutcome),
      {
        numRuns: RUNS,
      },
    )
  })

  it('objects with the real field names and arbitrary values', () => {
    fc.assert(fc.property(policyShaped, checkOutcome), { numRuns: RUNS })
  })

  it('valid input always gives the fields it asked for', () => {
    const valid = fc.record(
      {
        idle: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        interval: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        probes: fc.integer({ min: 1, max: 1000 }),
        jitter: fc.double({ min: 0, max: 0.5, noNaN: true }),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(valid, (input) => {
        const policy = definePolicy(input)
        expect(Object.isFrozen(policy)).toBe(true)
        for (const [key, value] of Object.entries(input))
          expect(policy[key as keyof typeof input]).toBe(value)
        expect(detectionTime(policy)).toBe(policy.idle + policy.interval * policy.probes)
      }),
      { numRuns: RUNS },
    )
  })
})

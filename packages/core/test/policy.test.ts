import {
  definePolicy,
  detectionTime,
  InvalidPolicyError,
  isKeepaliveError,
  type Policy,
  type PolicyLike,
  presets,
} from '@keepalive/core'
import { describe, expect, it } from 'vitest'

describe('presets', () => {
  it('are exactly the four of the design, with jitter 0', () => {
    expect(presets).toEqual({
      fast: { idle: 5_000, interval: 1_000, probes: 3, jitter: 0, preset: 'fast' },
      balanced: { idle: 30_000, interval: 10_000, probes: 3, jitter: 0, preset: 'balanced' },
      battery: { idle: 210_000, interval: 30_000, probes: 3, jitter: 0, preset: 'battery' },
      'linux-default': { idle: 7_200_000, interval: 75_000, probes: 9, jitter: 0, preset: 'linux-default' },
    })
  })

  it('are frozen, as is the table', () => {
    expect(Object.isFrozen(presets)).toBe(true)
    for (const policy of Object.values(presets)) expect(Object.isFrozen(policy)).toBe(true)
  })
})

describe('definePolicy', () => {
  it('gives balanced for undefined and an empty object', () => {
    expect(definePolicy()).toBe(presets.balanced)
    expect(definePolicy({})).toEqual(presets.balanced)
  })

  it('accepts a preset name', () => {
    expect(definePolicy('linux-default')).toBe(presets['linux-default'])
  })

  it('returns a policy it made as it is', () => {
    const policy = definePolicy({ idle: '20s' })
    expect(definePolicy(policy)).toBe(policy)
  })

  it('re-validates a policy-shaped object it did not make', () => {
    const copy: Policy = { ...presets.fast, probes: 5 }
    expect(definePolicy(copy)).toEqual({ idle: 5_000, interval: 1_000, probes: 5, jitter: 0, preset: 'fast' })
    expect(() => definePolicy({ ...presets.fast, probes: 0 })).toThrow(InvalidPolicyError)
  })

  it('fills omitted fields from the named preset, else from balanced, and normalises strings to ms', () => {
    expect(definePolicy({ preset: 'fast', probes: 5 })).toEqual({
      idle: 5_000,
      interval: 1_000,
      probes: 5,
      jitter: 0,
      preset: 'fast',
    })
    expect(definePolicy({ idle: '1m', jitter: 0.2 })).toEqual({
      idle: 60_000,
      interval: 10_000,
      probes: 3,
      jitter: 0.2,
      preset: 'balanced',
    })
  })

  it('records no preset when the input sets idle, interval and probes itself', () => {
    expect(definePolicy({ idle: '1h30m', interval: '250ms', probes: 2 }).preset).toBeUndefined()
    expect(definePolicy({ preset: 'battery', idle: 1, interval: 1, probes: 1 }).preset).toBe('battery')
  })

  it('returns a frozen object', () => {
    const policy = definePolicy({ idle: 10_000 })
    expect(Object.isFrozen(policy)).toBe(true)
    expect(() => {
      ;(policy as { idle: number }).idle = 1
    }).toThrow(TypeError)
  })

  it('treats explicit undefined fields as omitted', () => {
    expect(definePolicy({ idle: undefined, preset: undefined })).toEqual(presets.balanced)
  })

  const bad: [string, unknown, string][] = [
    [
      'a duration nobody can read',
      { idle: 'ten seconds' },
      '"idle" must be a positive duration (ms number or string like "30s", "1h30m"), got "ten seconds"',
    ],
    ['a negative duration', { interval: -1 }, '"interval" must be a positive duration'],
    ['a zero idle', { idle: 0 }, '"idle" must be a positive duration'],
    ['a zero interval', { interval: '0s' }, '"interval" must be a positive duration'],
    ['NaN', { idle: Number.NaN }, 'got NaN'],
    ['Infinity', { interval: Number.POSITIVE_INFINITY }, 'got Infinity'],
    ['a duration past the timer limit', { idle: 2 ** 31 }, '"idle" must be at most 2147483647 ms'],
    ['a unitless string', { idle: '30' }, 'a string needs a unit'],
    ['fractional probes', { probes: 2.5 }, '"probes" must be a whole number from 1 to 1000, got 2.5'],
    ['zero probes', { probes: 0 }, '"probes" must be a whole number from 1 to 1000, got 0'],
    ['too many probes', { probes: 1001 }, 'got 1001'],
    ['probes as a string', { probes: '3' }, '"probes" must be a whole number from 1 to 1000, got "3"'],
    ['jitter above 0.5', { jitter: 0.6 }, '"jitter" must be a number from 0 to 0.5, got 0.6'],
    ['negative jitter', { jitter: -0.1 }, '"jitter" must be a number from 0 to 0.5'],
    [
      'an unknown preset',
      'fsat',
      '"preset" must be one of "fast", "balanced", "battery", "linux-default", got "fsat" (did you mean "fast"?)',
    ],
    ['an unknown preset field', { preset: 'Balanced' }, '(did you mean "balanced"?)'],
    [
      'a typo in a field name',
      { idel: 5_000 },
      'unknown field "idel" (did you mean "idle"?); allowed: preset, idle, interval, probes, jitter',
    ],
    ['an unrelated field', { retries: 5 }, 'unknown field "retries"; allowed'],
    ['an array', [1, 2], 'expected a preset name'],
    ['null', null, 'expected a preset name ("fast", "balanced", "battery", "linux-default") or an object'],
    ['a number', 42, 'got 42'],
    ['a boolean', true, 'got true'],
    ['a Date', new Date(0), 'got a Date'],
    ['a Map', new Map(), 'got a Map'],
    ['a nested object', { idle: { s: 30 } }, '"idle" must be a positive duration'],
    ['a boolean field', { probes: true }, 'got true'],
    ['a null field', { interval: null }, 'got null'],
  ]

  it.each(bad)(
    'rejects %s with KA_ERR_INVALID_POLICY, the field, the value and the rule',
    (_name, input, message) => {
      let caught: unknown
      try {
        definePolicy(input as PolicyLike)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(InvalidPolicyError)
      expect(isKeepaliveError(caught, 'KA_ERR_INVALID_POLICY')).toBe(true)
      expect((caught as Error).message).toMatch(/^Invalid policy: /)
      expect((caught as Error).message).toContain(message)
    },
  )

  it('reports every bad field at once', () => {
    expect(() => definePolicy({ idle: true, interval: null, probes: 1.5, jitter: 0.6 } as never)).toThrow(
      /"idle".*; "interval".*; "probes".*; "jitter"/,
    )
  })

  it('turns a hostile input (a Proxy whose traps throw) into InvalidPolicyError', () => {
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('boom')
        },
      },
    )
    expect(() => definePolicy(hostile)).toThrow(InvalidPolicyError)
  })
})

describe('detectionTime', () => {
  it('is idle + interval × probes', () => {
    expect(detectionTime('fast')).toBe(8_000)
    expect(detectionTime(undefined)).toBe(60_000)
    expect(detectionTime(presets.battery)).toBe(300_000)
    expect(detectionTime('linux-default')).toBe(7_875_000)
    expect(detectionTime({ idle: '1s', interval: '500ms', probes: 4 })).toBe(3_000)
  })

  it('validates what it is given', () => {
    expect(() => detectionTime({ probes: -1 })).toThrow(InvalidPolicyError)
  })
})

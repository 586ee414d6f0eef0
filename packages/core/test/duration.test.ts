import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkDuration, formatDuration, MAX_DURATION_MS, parseDuration } from '../src/duration.js'
import { InvalidPolicyError } from '../src/errors.js'

describe('parseDuration', () => {
  it.each([
    [250, 250],
    ['250ms', 250],
    ['1.5s', 1500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    [' 30s ', 30_000],
    ['30 seconds', 30_000],
    ['5 minutes', 300_000],
    ['.5s', 500],
    ['1.1s', 1100],
    ['24d', 24 * 86_400_000],
    [MAX_DURATION_MS, MAX_DURATION_MS],
  ])('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input, 'idle')).toBe(ms)
  })

  // What parse-duration itself gets wrong or lets through, and every other kind of junk.
  it.each([
    ['ten seconds', 'must be a positive duration'],
    ['', 'must be a positive duration'],
    ['5', 'a string needs a unit'],
    ['-5', 'a string needs a unit'],
    ['-1s', 'must be a positive duration'],
    ['+5s', 'must be a positive duration'],
    ['0s', 'must be a positive duration'],
    ['abc5s', 'must be a positive duration'],
    ['5s abc', 'must be a positive duration'],
    ['1,5s', 'must be a positive duration'],
    ['1.2.3s', 'must be a positive duration'],
    ['0x10s', 'must be a positive duration'],
    ['1e3s', 'must be a positive duration'],
    ['1h30', 'must be a positive duration'],
    ['30m1h', 'largest first, each once'],
    ['1s1s', 'largest first, each once'],
    ['1y', 'must be a positive duration'],
    ['1us', 'must be a positive duration'],
    ['5M', 'must be a positive duration'],
    ['1.0005s', 'whole number of milliseconds'],
    ['25d', 'at most 2147483647 ms'],
    [0, 'must be a positive duration'],
    [-1, 'must be a positive duration'],
    [1.5, 'whole number of milliseconds'],
    [Number.NaN, 'must be a positive duration'],
    [Number.POSITIVE_INFINITY, 'must be a positive duration'],
    [MAX_DURATION_MS + 1, 'at most 2147483647 ms'],
    [null, 'must be a positive duration'],
    [true, 'must be a positive duration'],
    [[30], 'must be a positive duration'],
    [{ s: 30 }, 'must be a positive duration'],
  ])('rejects %j', (input, rule) => {
    expect(() => parseDuration(input, 'idle')).toThrow(InvalidPolicyError)
    expect(() => parseDuration(input, 'idle')).toThrow(rule)
  })

  it('names the field and the value received', () => {
    expect(() => parseDuration('ten seconds', 'interval')).toThrow(
      'Invalid policy: "interval" must be a positive duration (ms number or string like "30s", "1h30m"), got "ten seconds"',
    )
  })

  it('never throws anything but InvalidPolicyError, and accepts only positive whole ms in range', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.anything()), (input) => {
        const check = checkDuration(input)
        if (check.ok) {
          expect(Number.isInteger(check.ms) && check.ms > 0 && check.ms <= MAX_DURATION_MS).toBe(true)
        } else {
          expect(() => parseDuration(input, 'idle')).toThrow(InvalidPolicyError)
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('formatDuration', () => {
  it.each([
    [250, '250ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [1005, '1.005s'],
    [90_000, '1m30s'],
    [60_250, '1m250ms'],
    [61_500, '1m1.5s'],
    [7_200_000, '2h'],
    [5_400_000, '1h30m'],
    [86_401_000, '1d1s'],
    [0, '0ms'],
    [0.5, '0.5ms'],
    [-1500, '-1.5s'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ])('formats %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  it('writes what parseDuration reads back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_DURATION_MS }), (ms) => {
        expect(parseDuration(formatDuration(ms), 'idle')).toBe(ms)
      }),
      { numRuns: 500 },
    )
  })
})

// HTTP arithmetic: idle-socket timeouts below the server's and the path's, server timeouts above them,
// and a Keep-Alive header parser that never throws.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { InvalidArgumentError } from '../src/errors.js'
import { presets } from '../src/policy.js'
import {
  httpClientSettings,
  httpServerTimeouts,
  parseKeepAliveHeader,
  rttSafetyMargin,
} from '../src/protocols/http.js'
import { tcpSettings } from '../src/protocols/tcp.js'
import { recordDeadline } from './helpers.js'

const balanced = presets.balanced

describe('httpClientSettings', () => {
  test('nothing known: the policy idle, TCP keepalive on every socket', () => {
    const c = httpClientSettings(balanced)
    expect(c).toMatchObject({
      freeSocketTimeout: 30_000,
      reuseSockets: true,
      limitedBy: 'policy',
      undici: { keepAliveTimeout: 30_000, keepAliveMaxTimeout: 30_000, keepAliveTimeoutThreshold: 2_000 },
      detectionTime: 60_000,
      lateBy: 0,
      probesPerIdleHour: 120,
      warnings: [],
    })
    expect(c.tcp).toEqual(tcpSettings(balanced))
  })

  test("Node's old 5 s server: 2 s below it", () => {
    const c = httpClientSettings(balanced, { serverKeepAliveTimeout: 5_000 })
    expect([c.freeSocketTimeout, c.limitedBy]).toEqual([3_000, 'server'])
    expect(c.warnings[0]).toMatch(/closed after 3s, 2s before the server's idle timeout/)
  })

  test('a Keep-Alive hint, raw or parsed', () => {
    expect(httpClientSettings(balanced, { keepAliveHint: 'max=100, timeout=5' }).freeSocketTimeout).toBe(
      3_000,
    )
    expect(httpClientSettings(balanced, { keepAliveHint: { timeoutMs: 20_000 } })).toMatchObject({
      freeSocketTimeout: 18_000,
      limitedBy: 'hint',
    })
    // A longer hint never raises the timeout past the policy.
    expect(httpClientSettings(balanced, { keepAliveHint: 'timeout=600' }).freeSocketTimeout).toBe(30_000)
  })

  test('a path idle timeout: 10% below, at least 1 s', () => {
    expect(httpClientSettings(presets.battery, { pathIdleTimeout: 60_000 })).toMatchObject({
      freeSocketTimeout: 54_000,
      limitedBy: 'path',
    })
    expect(httpClientSettings(balanced, { pathIdleTimeout: 5_000 }).freeSocketTimeout).toBe(4_000)
  })

  test('the lowest bound wins', () => {
    const c = httpClientSettings(balanced, {
      serverKeepAliveTimeout: 20_000,
      keepAliveHint: 'timeout=15',
      pathIdleTimeout: 60_000,
    })
    expect([c.freeSocketTimeout, c.limitedBy]).toEqual([13_000, 'hint'])
  })

  test('a server that keeps idle sockets 2 s or less: no reuse (as undici resets them)', () => {
    const c = httpClientSettings(balanced, { keepAliveHint: 'timeout=1' })
    expect([c.freeSocketTimeout, c.reuseSockets]).toEqual([0, false])
    expect(c.warnings[0]).toMatch(/too briefly to reuse one safely/)
  })

  test.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('a bad option throws: %s', (v) => {
    expect(() => httpClientSettings(balanced, { serverKeepAliveTimeout: v })).toThrow(InvalidArgumentError)
    expect(() => httpServerTimeouts(balanced, { pathIdleTimeout: v })).toThrow(InvalidArgumentError)
  })
})

describe('httpServerTimeouts', () => {
  test('path unknown: 65 s like the ALB advice, headersTimeout above it', () => {
    const s = httpServerTimeouts(balanced)
    expect([s.keepAliveTimeout, s.headersTimeout, s.requestTimeout]).toEqual([65_000, 66_000, 300_000])
    expect(s.warnings[0]).toMatch(/path's idle timeout is unknown/)
    expect(s.tcp).toEqual(tcpSettings(balanced))
  })

  test('behind an ALB (60 s): 5 s above it', () => {
    const s = httpServerTimeouts(balanced, { pathIdleTimeout: 60_000 })
    expect([s.keepAliveTimeout, s.headersTimeout]).toEqual([65_000, 66_000])
    expect(s.warnings).toEqual([])
  })

  test('GCP (600 s): requestTimeout follows headersTimeout past 300 s, as Node requires', () => {
    const s = httpServerTimeouts(balanced, { pathIdleTimeout: 600_000 })
    expect([s.keepAliveTimeout, s.headersTimeout, s.requestTimeout]).toEqual([605_000, 606_000, 606_000])
  })

  test('clients with a longer idle timeout than the path', () => {
    const s = httpServerTimeouts(balanced, { pathIdleTimeout: 10_000, clientIdleTimeout: 90_000 })
    expect(s.keepAliveTimeout).toBe(95_000)
  })

  test('our own clients by default: the server outlives their freeSocketTimeout', () => {
    const s = httpServerTimeouts(presets['linux-default'])
    expect(s.keepAliveTimeout).toBe(7_205_000)
  })
})

describe('parseKeepAliveHeader', () => {
  test.each([
    ['timeout=5, max=100', { timeoutMs: 5_000, max: 100 }],
    ['max=100,timeout=5', { timeoutMs: 5_000, max: 100 }],
    ['  Timeout = 5 ,  MAX = 100  ', { timeoutMs: 5_000, max: 100 }],
    ['TIMEOUT=5', { timeoutMs: 5_000 }],
    ['max=3', { max: 3 }],
    ['timeout="5"', { timeoutMs: 5_000 }],
    ['timeout=5; max=7', { timeoutMs: 5_000, max: 7 }],
    ['timeout=5, timeout=10', { timeoutMs: 5_000 }],
    ['foo=bar, timeout=0', { timeoutMs: 0 }],
    ['timeout=2147483', { timeoutMs: 2_147_483_000 }],
  ])('%j', (value, expected) => {
    expect(parseKeepAliveHeader(value)).toEqual(expected)
  })

  test.each([
    undefined,
    null,
    5,
    {},
    '',
    'timeout',
    'timeout=',
    'timeout=-1',
    'timeout=5.5',
    'timeout=5s',
    'timeout=0x10',
    'timeout=1e3',
    'timeout=2147484',
    'timeout=99999999999999999999',
    'max=99999999999',
    'timeout=NaN',
    'close',
  ])('ignores %j', (value) => {
    expect(parseKeepAliveHeader(value)).toBeUndefined()
  })

  test('the array form node:http may give', () => {
    expect(parseKeepAliveHeader(['timeout=5'])).toEqual({ timeoutMs: 5_000 })
  })

  test('a megabyte of junk is cut, quickly', () => {
    const start = performance.now()
    expect(parseKeepAliveHeader(`${'x,'.repeat(500_000)}timeout=5`)).toBeUndefined()
    expect(parseKeepAliveHeader(`timeout=5,${'='.repeat(1_000_000)}`)).toEqual({ timeoutMs: 5_000 })
    // Not a speed target: a backtracking parser takes seconds on this input, a linear scan a few ms; 200 ms is
    // scheduling headroom on a shared 2-core machine.
    recordDeadline({
      test: 'core/protocols-http: a megabyte of Keep-Alive junk parsed',
      measured: performance.now() - start,
      max: 200,
      slack: 'scheduling on a shared 2-core machine (strict <)',
    })
    expect(performance.now() - start).toBeLessThan(200)
  })

  test('property: never throws, and whatever it returns is in range', () => {
    const header = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc
        .array(
          fc.tuple(
            fc.constantFrom('timeout', 'TIMEOUT', 'max', ' Max ', 'x', ''),
            fc.oneof(fc.bigInt().map(String), fc.double().map(String), fc.string()),
          ),
        )
        .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(', ')),
    )
    fc.assert(
      fc.property(fc.oneof(header, fc.anything()), (value) => {
        const hint = parseKeepAliveHeader(value)
        if (hint === undefined) return
        expect(hint.timeoutMs === undefined || hint.max === undefined ? 1 : 2).toBe(Object.keys(hint).length)
        if (hint.timeoutMs !== undefined) {
          expect(Number.isSafeInteger(hint.timeoutMs) && hint.timeoutMs >= 0).toBe(true)
          expect(hint.timeoutMs).toBeLessThanOrEqual(2 ** 31 - 1)
        }
        if (hint.max !== undefined) expect(Number.isSafeInteger(hint.max) && hint.max >= 0).toBe(true)
      }),
      { numRuns: 1_000 },
    )
    // 1,000 runs of fc.anything take ~2 s alone; beside the other core test files on two shared cores, more than
    // vitest's default 5 s. The test asserts no time, so its timeout only has to outlast a loaded machine.
  }, 30_000)
})

describe('safety margin sized for the round trip', () => {
  test('rttSafetyMargin: two round trips, at least 250 ms', () => {
    expect(rttSafetyMargin(0)).toBe(250)
    expect(rttSafetyMargin(60)).toBe(250)
    expect(rttSafetyMargin(200.2)).toBe(401)
    expect(() => rttSafetyMargin(-1)).toThrow(InvalidArgumentError)
    expect(() => rttSafetyMargin(Number.NaN)).toThrow(/roundTripTime must be .* got NaN/)
  })

  test('a Keep-Alive: timeout=1 hint stays usable with a known round trip (a fixed 2 s margin forbids reuse)', () => {
    expect(httpClientSettings(balanced, { keepAliveHint: 'timeout=1' }).reuseSockets).toBe(false)
    const c = httpClientSettings(balanced, { keepAliveHint: 'timeout=1', safetyMargin: rttSafetyMargin(60) })
    expect(c).toMatchObject({ freeSocketTimeout: 750, limitedBy: 'hint', reuseSockets: true })
    expect(c.undici.keepAliveTimeoutThreshold).toBe(250)
    expect(c.warnings[0]).toMatch(/closed after 750ms, 250ms before the server's announced idle timeout/)
  })

  test('the margin applies to a configured server timeout too; a bad margin throws naming it', () => {
    expect(
      httpClientSettings(balanced, { serverKeepAliveTimeout: 400, safetyMargin: 250 }).freeSocketTimeout,
    ).toBe(150)
    expect(
      httpClientSettings(balanced, { serverKeepAliveTimeout: 400, safetyMargin: 400 }).reuseSockets,
    ).toBe(false)
    expect(() => httpClientSettings(balanced, { safetyMargin: -5 })).toThrow(/safetyMargin must be .* got -5/)
  })
})

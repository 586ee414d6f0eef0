// Pool arithmetic (@keepalive/pg): the pool's idle timeout stays below the path's, by HTTP's margin.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { InvalidArgumentError } from '../src/errors.js'
import { presets } from '../src/policy.js'
import { PG_POOL_IDLE_TIMEOUT, poolSettings } from '../src/protocols/pg.js'
import { tcpSettings } from '../src/protocols/tcp.js'

describe('poolSettings', () => {
  test("nothing known: pg-pool's default idle timeout, full TCP keepalive", () => {
    const s = poolSettings(presets.balanced)
    expect(s.idleTimeoutMillis).toBe(PG_POOL_IDLE_TIMEOUT)
    expect(s.limitedBy).toBe('pool')
    expect(s.tcp).toEqual(tcpSettings(presets.balanced))
    expect(s.detectionTime).toBe(60_000)
    expect(s.warnings).toEqual([])
  })

  test("the caller's idle timeout is kept when the path allows it", () => {
    expect(poolSettings('balanced', { idleTimeoutMillis: 30_000, pathIdleTimeout: 350_000 })).toMatchObject({
      idleTimeoutMillis: 30_000,
      limitedBy: 'pool',
    })
  })

  test('a path bounds it by max(1 s, 10 %): AWS NAT 350 s → 315 s; 5 s → 4 s; never (0) → the bound', () => {
    const nat = poolSettings('balanced', { idleTimeoutMillis: 600_000, pathIdleTimeout: 350_000 })
    expect(nat.idleTimeoutMillis).toBe(315_000)
    expect(nat.limitedBy).toBe('path')
    expect(nat.warnings[0]).toMatch(/closed after 5m15s, before the path's idle timeout of 5m50s/)
    expect(poolSettings('fast', { pathIdleTimeout: 5000 }).idleTimeoutMillis).toBe(4000)
    expect(poolSettings('fast', { idleTimeoutMillis: 0, pathIdleTimeout: 60_000 }).idleTimeoutMillis).toBe(
      54_000,
    )
  })

  test("a policy idle at or above the path's timeout is warned about", () => {
    const s = poolSettings({ idle: '60s' }, { pathIdleTimeout: 60_000 })
    expect(s.warnings.some((w) => /policy's idle 1m is at or above the path's idle timeout/.test(w))).toBe(
      true,
    )
  })

  test('always below the path, never above what was asked (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1001, max: 10_000_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        (path, own) => {
          const s = poolSettings('balanced', { pathIdleTimeout: path, idleTimeoutMillis: own })
          expect(s.idleTimeoutMillis).toBeLessThan(path)
          expect(s.idleTimeoutMillis).toBeGreaterThan(0)
          if (own > 0) expect(s.idleTimeoutMillis).toBeLessThanOrEqual(own)
        },
      ),
    )
  })

  test('bad input: typed errors naming the field and the value', () => {
    expect(() => poolSettings('balanced', { idleTimeoutMillis: -1 })).toThrow(InvalidArgumentError)
    expect(() => poolSettings('balanced', { idleTimeoutMillis: Number.NaN })).toThrow(
      /idleTimeoutMillis must be a number of milliseconds .* got NaN/,
    )
    expect(() => poolSettings('balanced', { pathIdleTimeout: '60s' as never })).toThrow(
      /pathIdleTimeout .* got "60s"/,
    )
    expect(() => poolSettings('balanced', { pathIdleTimeout: 1000 })).toThrow(/leaves no room for the margin/)
    expect(() => poolSettings('balanced', 'x' as never)).toThrow(InvalidArgumentError)
    expect(() => poolSettings({ idle: -1 })).toThrow(
      expect.objectContaining({ code: 'KA_ERR_INVALID_POLICY' }),
    )
  })
})

/**
 * Bad input gets a typed KeepaliveError naming the field and the value; `base` is never written to. No server needed.
 */
import { expectNoLeaks } from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import { ioredisOptions } from '../src/index.js'

const code = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('ioredisOptions', () => {
  it("returns ioredis options with the connector and ioredis's keepAlive off; base untouched", () => {
    expectNoLeaks()
    const base = Object.freeze({ host: 'cache.internal', port: 6380, keepAlive: 10_000, db: 2 })
    const options = ioredisOptions('balanced', base)
    expect(options).toMatchObject({ host: 'cache.internal', port: 6380, db: 2, keepAlive: false })
    expect(typeof options.Connector).toBe('function')
    expect(base).toEqual({ host: 'cache.internal', port: 6380, keepAlive: 10_000, db: 2 })
    expect(ioredisOptions().Connector).not.toBe(options.Connector)
  })

  it('bad input: typed errors naming the field and the value', () => {
    expect(code(() => ioredisOptions({ probes: -1 }))).toBe('KA_ERR_INVALID_POLICY')
    expect(code(() => ioredisOptions('balanced', 'redis://x' as never))).toBe('KA_ERR_INVALID_ARGUMENT')
    expect(() => ioredisOptions('balanced', { keepAlive: 'on' as never })).toThrow(
      /base.keepAlive must be a number of ms or absent, got "on"/,
    )
    expect(code(() => ioredisOptions('balanced', { Connector: class {} }))).toBe(
      'KA_ERR_REDIS_OPTIONS_CONFLICT',
    )
    expect(code(() => ioredisOptions('balanced', { sentinels: [{ host: 'a', port: 1 }] }))).toBe(
      'KA_ERR_REDIS_OPTIONS_CONFLICT',
    )
  })
})

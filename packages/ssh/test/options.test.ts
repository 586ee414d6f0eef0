/** sshClientOptions / sshServerOptions: core's arithmetic merged into a copy; never later than asked; typed errors. */
import { definePolicy, detectionTime, presets, sshSettings } from '@keepalive/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sshClientOptions, sshServerOptions } from '../src/index.js'

describe('sshClientOptions / sshServerOptions', () => {
  it('default to the balanced preset: 15 s × (3 + 1) = 60 s', () => {
    expect(sshClientOptions()).toEqual({ keepaliveInterval: 15_000, keepaliveCountMax: 3 })
    expect(sshServerOptions()).toEqual({ keepaliveInterval: 15_000, keepaliveCountMax: 3 })
  })

  it('copy the base, override only the keepalive fields, and never touch the caller’s object', () => {
    const base = Object.freeze({
      host: 'h',
      port: 22,
      username: 'u',
      keepaliveInterval: 999_999,
      readyTimeout: 5,
    })
    const options = sshClientOptions('fast', base)
    expect(options).toEqual({
      host: 'h',
      port: 22,
      username: 'u',
      readyTimeout: 5,
      keepaliveInterval: 2000,
      keepaliveCountMax: 3,
    })
    expect(options).not.toBe(base)
    expect(base.keepaliveInterval).toBe(999_999)
    const hostKeys = ['key']
    const server = sshServerOptions(presets.fast, { hostKeys })
    expect(server.hostKeys).toBe(hostKeys)
    expect(server.keepaliveInterval).toBe(2000)
  })

  it('never detect later than the policy asks (ssh2: (count + 1) × interval, count ≥ 1)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 1, max: 20 }),
        (idle, interval, probes) => {
          const policy = { idle, interval, probes }
          for (const o of [sshClientOptions(policy), sshServerOptions(policy)]) {
            expect(o.keepaliveCountMax).toBeGreaterThanOrEqual(1)
            expect((o.keepaliveCountMax + 1) * o.keepaliveInterval).toBeLessThanOrEqual(detectionTime(policy))
            expect(o).toEqual(sshSettings(definePolicy(policy)).client)
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('reject a bad policy or a base that is not an object with typed errors', () => {
    expect(() => sshClientOptions('nope' as never)).toThrow(
      expect.objectContaining({ code: 'KA_ERR_INVALID_POLICY' }),
    )
    expect(() => sshServerOptions({ probes: 0 })).toThrow(
      expect.objectContaining({ code: 'KA_ERR_INVALID_POLICY' }),
    )
    for (const bad of [42, 'x', null, [1]]) {
      expect(() => sshClientOptions('fast', bad as never)).toThrow(
        expect.objectContaining({ code: 'KA_ERR_INVALID_ARGUMENT' }),
      )
    }
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap')
        },
      },
    )
    expect(() => sshServerOptions('fast', hostile)).toThrow(
      expect.objectContaining({ code: 'KA_ERR_INVALID_ARGUMENT' }),
    )
  })
})

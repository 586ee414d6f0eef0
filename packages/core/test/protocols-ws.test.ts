// WebSocket and socket.io / engine.io arithmetic: exact numbers for each preset and for the edges.
import { describe, expect, test } from 'vitest'
import { InvalidPolicyError } from '../src/errors.js'
import { detectionTime, presets } from '../src/policy.js'
import { socketIoSettings, wsSettings } from '../src/protocols/ws.js'

describe('wsSettings', () => {
  test.each([
    ['fast', 8_000, 720],
    ['balanced', 60_000, 120],
    ['battery', 300_000, 17.14],
  ] as const)('%s: the watcher runs the policy as it is, detection %i ms', (name, detection, perHour) => {
    const s = wsSettings(presets[name])
    expect(s.watch).toEqual(presets[name])
    expect([s.detectionTime, s.lateBy, s.probesPerIdleHour]).toEqual([detection, 0, perHour])
  })

  test('a bad policy is an InvalidPolicyError naming the field', () => {
    expect(() => wsSettings({ idle: -1 })).toThrow(InvalidPolicyError)
    expect(() => wsSettings({ idle: -1 })).toThrow(/idle/)
  })
})

describe('socketIoSettings', () => {
  test.each([
    ['fast', 5_000, 3_000],
    ['balanced', 30_000, 30_000],
    ['battery', 210_000, 90_000],
  ] as const)(
    '%s → pingInterval %i ms, pingTimeout %i ms: the policy detection time exactly',
    (name, pingInterval, pingTimeout) => {
      const s = socketIoSettings(presets[name])
      expect([s.pingInterval, s.pingTimeout]).toEqual([pingInterval, pingTimeout])
      expect(s.detectionTime).toBe(detectionTime(presets[name]))
      expect(s.lateBy).toBe(0)
      expect(s.warnings.join('\n')).toMatch(/one wait of/)
      expect(s.warnings.join('\n')).toMatch(/counts only a pong as life/)
    },
  )

  test('one probe: no warning about collapsed probes; never later than asked for any policy', () => {
    const one = socketIoSettings({ idle: 1_000, interval: 500, probes: 1 })
    expect([one.pingInterval, one.pingTimeout, one.detectionTime]).toEqual([1_000, 500, 1_500])
    expect(one.warnings.join('\n')).not.toMatch(/one wait of/)
    for (const idle of [1, 999, 25_000])
      for (const interval of [1, 333, 20_000])
        for (const probes of [1, 2, 7]) {
          const s = socketIoSettings({ idle, interval, probes })
          expect(s.detectionTime).toBeLessThanOrEqual(idle + interval * probes)
          expect(s.pingTimeout).toBeGreaterThanOrEqual(1)
        }
  })

  test('a bad policy is an InvalidPolicyError', () => {
    expect(() => socketIoSettings({ probes: 0 })).toThrow(InvalidPolicyError)
  })
})

/** mqttOptions: the Keep Alive a policy puts in CONNECT, and the caller's options kept as they were. */
import { definePolicy, mqttSettings } from '@keepalive/core'
import { mqttOptions } from '@keepalive/mqtt'
import { describe, expect, it } from 'vitest'
import { isTimerGate } from '../src/mqttjs-timer.js'

describe('mqttOptions', () => {
  it('Keep Alive = idle floored to whole seconds, 1..65535, never 0', () => {
    expect(mqttOptions().keepalive).toBe(30)
    expect(mqttOptions('fast').keepalive).toBe(5)
    expect(mqttOptions('battery').keepalive).toBe(210)
    expect(mqttOptions({ idle: '2500ms' }).keepalive).toBe(2)
    expect(mqttOptions({ idle: '300ms' }).keepalive).toBe(1)
    expect(mqttOptions({ idle: '20h' }).keepalive).toBe(65535)
    for (const idle of [1, 999, 1000, 1001, 59_999, 65_535_000, 86_400_000]) {
      const k = mqttOptions({ idle }).keepalive
      expect(k).toBe(mqttSettings(definePolicy({ idle })).keepalive)
      expect(k).toBeGreaterThanOrEqual(1)
      expect(k).toBeLessThanOrEqual(65535)
      // Never later than asked (except the 1 s floor, where the watcher probes at the exact idle).
      if (idle >= 1000) expect(k * 1000).toBeLessThanOrEqual(idle)
    }
  })

  it("merges over the caller's options without touching them (deep-frozen base)", () => {
    const base = Object.freeze({
      clientId: 'c',
      keepalive: 60,
      clean: false,
      properties: Object.freeze({ sessionExpiryInterval: 10 }),
    })
    const options = mqttOptions('fast', base)
    expect(options).toMatchObject({
      clientId: 'c',
      clean: false,
      keepalive: 5,
      properties: { sessionExpiryInterval: 10 },
    })
    expect(options.properties).not.toBe(base.properties)
    expect(isTimerGate(options.timerVariant)).toBe(true)
    expect(options.timerVariant.policy).toBe(definePolicy('fast'))
    expect(base.keepalive).toBe(60)
    // Each call: its own gate (one per client).
    expect(mqttOptions('fast', base).timerVariant).not.toBe(options.timerVariant)
  })
})

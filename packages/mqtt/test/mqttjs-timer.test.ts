/**
 * What @keepalive/mqtt relies on in mqtt.js, checked against the installed mqtt.js so that a new release that
 * changes it fails here, loudly, instead of silently letting mqtt.js's own timer kill watched connections:
 * the version range, the custom `timerVariant` ({ set, clear }, 5.8.0+) driving KeepaliveManager, and `useGate`
 * swapping the keepalive manager of a client created without mqttOptions. Plus TimerGate's own contract.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { mqttOptions, TimerGate, watchMqtt } from '@keepalive/mqtt'
import { expectNoLeaks, startAedes } from '@keepalive/test-harness'
import mqtt, { KeepaliveManager, type MqttClient } from 'mqtt'
import { describe, expect, it } from 'vitest'
import { checkVersion, isTimerGate, MQTTJS_SUPPORTED } from '../src/mqttjs-timer.js'

const end = (client: MqttClient) => new Promise<void>((resolve) => client.end(true, () => resolve()))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('the mqtt.js this package was verified against', () => {
  it('the installed mqtt is inside the supported range, and the version check rejects the others', () => {
    const require = createRequire(import.meta.url)
    const manifest = JSON.parse(readFileSync(require.resolve('mqtt/package.json'), 'utf8')) as {
      version: string
    }
    expect(mqtt.MqttClient.VERSION).toBe(manifest.version)
    expect(() => checkVersion(manifest.version)).not.toThrow()
    expect(MQTTJS_SUPPORTED).toEqual({ min: [5, 8, 0], below: 6 })
    for (const bad of ['5.7.3', '4.3.8', '6.0.0', 'x', undefined]) {
      expect(() => checkVersion(bad)).toThrow(expect.objectContaining({ code: 'KA_ERR_MQTT_UNSUPPORTED' }))
    }
  })

  it('KeepaliveManager takes a { set, clear } timer and ticks it every Keep Alive / 2', () => {
    const calls: number[] = []
    const timer = {
      set: (_cb: () => void, ms: number) => calls.push(ms),
      clear: () => {},
    }
    const fake = { keepalive: 5, log: () => {} } as unknown as MqttClient
    const manager = new KeepaliveManager(fake, timer)
    expect(calls).toEqual([2500])
    expect((manager as unknown as { timer: unknown }).timer).toBe(timer)
    manager.destroy()
  })

  it('a client created without mqttOptions: watchMqtt moves its live keepalive manager onto a gate, stop() gives it back', async () => {
    expectNoLeaks()
    const aedes = await startAedes()
    const client = mqtt.connect(aedes.url, { keepalive: 1, reconnectPeriod: 0 })
    await new Promise((resolve) => client.once('connect', resolve))
    const native = client.keepaliveManager
    const watcher = watchMqtt(client, { idle: '1s', interval: '500ms', probes: 2 })
    const gated = client.keepaliveManager as unknown as { timer: TimerGate }
    expect(gated).not.toBe(native)
    expect(isTimerGate(gated.timer)).toBe(true)
    expect(gated.timer.claimed).toBe(true)
    expect(gated.timer.armed).toBe(0)
    // mqtt.js's timer (tick 500 ms, 'Keepalive timeout' on the 3rd tick without a handled PINGRESP) stays silent
    // while only the watcher pings.
    await sleep(2500)
    expect(client.connected).toBe(true)
    expect(watcher.pingreqs).toBeGreaterThanOrEqual(2)
    watcher.stop()
    expect(gated.timer.armed).toBe(1)
    await end(client)
  })
})

describe('TimerGate', () => {
  it('passes timers through until claimed, holds them while claimed, re-arms on the last release', async () => {
    let fired = 0
    const gate = new TimerGate(undefined, undefined)
    const id = gate.set(() => fired++, 20)
    await sleep(70)
    expect(fired).toBeGreaterThanOrEqual(2)
    gate.claim()
    gate.claim()
    const before = fired
    await sleep(70)
    expect(fired).toBe(before)
    gate.release()
    expect(gate.armed).toBe(0)
    gate.release()
    expect(gate.armed).toBe(1)
    await sleep(50)
    expect(fired).toBeGreaterThan(before)
    gate.clear(id)
    expect(gate.armed).toBe(0)
    gate.release() // unbalanced: ignored
    expect(gate.armed).toBe(0)
  })

  it("delegates to the caller's own { set, clear } timer", () => {
    const log: string[] = []
    const inner = {
      set: () => {
        log.push('set')
        return 7
      },
      clear: (id: unknown) => log.push(`clear ${id}`),
    }
    const options = mqttOptions('fast', { timerVariant: inner })
    const id = options.timerVariant.set(() => {}, 100)
    options.timerVariant.clear(id)
    expect(log).toEqual(['set', 'clear 7'])
  })
})

/**
 * Bad input from the broker (a scripted MQTT 5 broker: Server Keep Alive 0, 65535, absent; no CONNACK at all; a
 * PINGRESP storm) and from the caller (keepalive 0, invalid policies, not a client, a closed client): defined
 * behaviour, typed errors, nothing leaked (each test checks handles, timers and the monitor count).
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { performance } from 'node:perf_hooks'
import { isKeepaliveError, schedulerInfo } from '@keepalive/core'
import {
  type MqttDeadEvent,
  type MqttKeepaliveEvent,
  type MqttWatcher,
  mqttOptions,
  watchMqtt,
} from '@keepalive/mqtt'
import { expectNoLeaks, recordDeadline, startAedes } from '@keepalive/test-harness'
import mqtt, { type MqttClient } from 'mqtt'
import { describe, expect, it } from 'vitest'
import { PACKET, type ScriptedBroker, startScriptedBroker } from './mqtt-wire.js'

/** K = 1 s; dead 2 s after the last byte. */
const POLICY = { idle: '1s', interval: '500ms', probes: 2 }
const log = (line: string): void => console.info(`[mqtt bad input] ${line}`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const end = (client: MqttClient) => new Promise<void>((resolve) => client.end(true, () => resolve()))

async function watched(broker: ScriptedBroker, extra: object = {}) {
  const client = mqtt.connect(
    broker.url,
    mqttOptions(POLICY, { protocolVersion: 5, reconnectPeriod: 0, ...extra }),
  )
  client.on('error', () => {})
  const watcher = watchMqtt(client)
  return { client, watcher }
}

function keepaliveEvent(watcher: MqttWatcher): Promise<MqttKeepaliveEvent> {
  return new Promise((resolve) => watcher.once('keepalive', resolve))
}

function gapsOf(broker: ScriptedBroker): number[] {
  return gapsBetween(broker.pingreqs().map((p) => p.at))
}

function gapsBetween(at: number[]): number[] {
  return at.slice(1).map((t, i) => t - (at[i] as number))
}

/** On the wire, never later than 1 s of silence: the 10 ms tick plus scheduling (< 50 ms here). */
const GAP_MAX = 1000 + 50

/**
 * As sent, never sooner than 1 s − one tick (Keep Alive 1 s: the send side's idle is K − one tick, see watch.ts)
 * − `lateNoiseMs`: after the watcher's own PINGREQ the next counts from that write exactly (core's monitor,
 * exactProbeAtMs), after any other packet from the tick grid, up to `lateNoiseMs` early (seenTick). Measured at the
 * sender: the broker's read times also carry its own read delays.
 */
function sendGapMin(): number {
  const { tickMs } = schedulerInfo()
  return 1000 - tickMs - Math.max(2, tickMs / 4)
}

describe('bad input from the broker', () => {
  it('Server Keep Alive 0, 65535 and absent: honoured and reported; the receive side keeps the policy', async () => {
    expectNoLeaks()
    const keepaliveMessages: unknown[] = []
    const pingreqs: { client: unknown; cause: string; at: number }[] = []
    const onKeepalive = (m: unknown) => keepaliveMessages.push(m)
    // When the watcher wrote each PINGREQ (the channel publishes just before the synchronous write), and why.
    const onPingreq = (m: unknown) =>
      pingreqs.push({ ...(m as { client: unknown; cause: string }), at: performance.now() })
    diagnosticsChannel.subscribe('keepalive:mqtt:keepalive', onKeepalive)
    diagnosticsChannel.subscribe('keepalive:mqtt:pingreq', onPingreq)
    const run = async (serverKeepAlive: number | undefined) => {
      const broker = await startScriptedBroker({ connack: { serverKeepAlive } })
      const { client, watcher } = await watched(broker)
      const event = await keepaliveEvent(watcher)
      await sleep(3300)
      const result = {
        event,
        pingreqs: broker.pingreqs().length,
        wireGaps: gapsOf(broker),
        sendGaps: gapsBetween(pingreqs.filter((p) => p.client === client).map((p) => p.at)),
        deaths: watcher.deaths,
      }
      watcher.stop()
      await end(client)
      await broker.stop()
      return result
    }
    const [off, max, absent] = await Promise.all([run(0), run(65535), run(undefined)])
    diagnosticsChannel.unsubscribe('keepalive:mqtt:keepalive', onKeepalive)
    diagnosticsChannel.unsubscribe('keepalive:mqtt:pingreq', onPingreq)
    expect(keepaliveMessages).toHaveLength(3)
    // 0 and 65535: only the receive side pings ('silence'); absent (K = 1 s): the send side's clock runs 10 ms
    // ahead of the receive side's, so it sends them ('send-idle').
    expect(pingreqs.filter((p) => p.cause === 'silence')).toHaveLength(6)
    expect(pingreqs.filter((p) => p.cause === 'send-idle')).toHaveLength(3)
    for (const [name, r] of Object.entries({ off, max, absent })) {
      const show = (gaps: number[]) => gaps.map((g) => g.toFixed(1)).join(', ')
      log(
        `Server Keep Alive ${name}: keepalive ${r.event.keepalive}, PINGREQ gaps on the wire ${show(r.wireGaps)} ms, as sent ${show(r.sendGaps)} ms`,
      )
      for (const gap of r.wireGaps) {
        recordDeadline({
          test: `mqtt/bad-input: Server Keep Alive ${name}, PINGREQ gap on the wire`,
          measured: gap,
          max: GAP_MAX,
          slack: '10 ms tick, scheduling',
        })
      }
      for (const gap of r.sendGaps) {
        recordDeadline({
          test: `mqtt/bad-input: Server Keep Alive ${name}, PINGREQ gap as sent`,
          measured: gap,
          min: sendGapMin(),
          slack:
            'send side one 10 ms tick early; lateNoiseMs (2.5 ms) for a gap counted from a plain touch on the tick grid',
        })
      }
    }
    expect(off.event).toMatchObject({ keepalive: 0, requested: 1, serverKeepAlive: 0 })
    expect(off.event.warnings.join(' ')).toMatch(/turned Keep Alive off/)
    expect(max.event).toMatchObject({ keepalive: 65535, requested: 1, serverKeepAlive: 65535 })
    expect(absent.event).toMatchObject({ keepalive: 1, requested: 1, serverKeepAlive: undefined })
    for (const r of [off, max, absent]) {
      // 0 and 65535 leave only the receive side: a PINGREQ after each 1 s of silence (PINGRESP comes at once).
      // Absent: Keep Alive 1 s on both sides, the same rhythm. Slack: the 10 ms tick and scheduling.
      expect(r.deaths).toBe(0)
      expect(r.pingreqs).toBe(3)
      expect(r.sendGaps).toHaveLength(r.wireGaps.length)
      for (const gap of r.wireGaps) expect(gap).toBeLessThanOrEqual(GAP_MAX)
      for (const gap of r.sendGaps) expect(gap).toBeGreaterThanOrEqual(sendGapMin())
    }
    expect(schedulerInfo().monitors).toBe(0)
  })

  it('no CONNACK: KA_ERR_MQTT_CONNACK_TIMEOUT within detection time + 1 s of each CONNECT, across reconnects; diagnostics published', async () => {
    expectNoLeaks()
    const published: { name: string; message: Record<string, unknown> }[] = []
    const names = ['keepalive:mqtt:watch', 'keepalive:mqtt:dead', 'keepalive:mqtt:stop']
    const subscriber = (message: unknown, name: string | symbol) =>
      published.push({ name: String(name), message: message as Record<string, unknown> })
    for (const name of names) diagnosticsChannel.subscribe(name, subscriber)
    try {
      const broker = await startScriptedBroker({ connack: null })
      // mqtt.js reconnects 100 ms after each close: the watcher must follow it onto the new connection.
      const { client, watcher } = await watched(broker, { connectTimeout: 60_000, reconnectPeriod: 100 })
      const deaths: (MqttDeadEvent & { at: number })[] = []
      const twice = new Promise<void>((resolve) =>
        watcher.on('dead', (e) => {
          deaths.push({ ...e, at: performance.now() })
          if (deaths.length === 2) resolve()
        }),
      )
      await twice
      const connects = broker.received.filter((p) => p.type === PACKET.CONNECT).map((p) => p.at)
      const elapsed = deaths.map((d, i) => d.at - (connects[i] ?? Number.NaN))
      log(
        `no CONNACK: dead ${elapsed.map((e) => e.toFixed(0)).join(' and ')} ms after each CONNECT reached the broker`,
      )
      for (const e of elapsed) {
        recordDeadline({
          test: 'mqtt/bad-input: no CONNACK, dead after the CONNECT',
          measured: e,
          min: 2000 - 5,
          max: 2000 + 1000,
          slack: 'tick, scheduling (1 s as the issue allows)',
        })
      }
      for (const dead of deaths) {
        expect(isKeepaliveError(dead.reason, 'KA_ERR_MQTT_CONNACK_TIMEOUT')).toBe(true)
        expect(dead.reason.cause).toMatchObject({ code: 'KA_ERR_PROBE_TIMEOUT' })
      }
      // The CONNECT is timed where the broker read it, a fraction of a ms after the client wrote it; 1 s of slack
      // as the issue allows (tick, scheduling).
      for (const e of elapsed) {
        expect(e).toBeGreaterThanOrEqual(2000 - 5)
        expect(e).toBeLessThanOrEqual(2000 + 1000)
      }
      // No PINGREQ before CONNACK: mqtt.js would only queue it.
      expect(broker.pingreqs()).toHaveLength(0)
      watcher.stop()
      await end(client)
      await broker.stop()
      expect(schedulerInfo().monitors).toBe(0)
      expect(published.map((p) => p.name)).toEqual([
        'keepalive:mqtt:watch',
        'keepalive:mqtt:dead',
        'keepalive:mqtt:dead',
        'keepalive:mqtt:stop',
      ])
      expect(published[1]?.message).toMatchObject({ client, probesSent: 2 })
    } finally {
      for (const name of names) diagnosticsChannel.unsubscribe(name, subscriber)
    }
  })

  it('a PINGRESP storm: no death, no crash, no extra PINGREQs', async () => {
    expectNoLeaks()
    const broker = await startScriptedBroker({ connack: { serverKeepAlive: undefined } })
    const { client, watcher } = await watched(broker)
    await keepaliveEvent(watcher)
    const stopStorm = broker.pingrespStorm(1)
    const start = performance.now()
    await sleep(3200)
    stopStorm()
    const sent = broker.pingreqs(start).length
    log(`PINGRESP storm 3.2 s: ${sent} PINGREQs sent, state ${watcher.state}`)
    // The receive side is never silent; the send side still owes one PINGREQ per Keep Alive (1 s).
    expect(sent).toBe(3)
    expect(watcher.deaths).toBe(0)
    expect(client.connected).toBe(true)
    watcher.stop()
    await end(client)
    await broker.stop()
  })
})

describe('bad input from the caller', () => {
  it('typed errors for keepalive 0, invalid policies, a non-client, a closed client; nothing attached', async () => {
    expectNoLeaks()
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn()
      } catch (error) {
        return (error as { code?: string }).code
      }
      return undefined
    }
    expect(code(() => mqttOptions('fast', { keepalive: 0 }))).toBe('KA_ERR_MQTT_KEEPALIVE_OFF')
    expect(code(() => mqttOptions({ idle: 0 }))).toBe('KA_ERR_INVALID_POLICY')
    expect(code(() => mqttOptions('nope' as never))).toBe('KA_ERR_INVALID_POLICY')
    expect(code(() => mqttOptions('fast', 'x' as never))).toBe('KA_ERR_INVALID_ARGUMENT')
    expect(code(() => mqttOptions('fast', { keepalive: -5 }))).toBe('KA_ERR_INVALID_ARGUMENT')
    expect(code(() => watchMqtt({} as never))).toBe('KA_ERR_INVALID_ARGUMENT')
    expect(code(() => watchMqtt(null as never))).toBe('KA_ERR_INVALID_ARGUMENT')

    const aedes = await startAedes()
    const options = mqttOptions('fast', { reconnectPeriod: 0 })
    const client = mqtt.connect(aedes.url, options)
    await new Promise((resolve) => client.once('connect', resolve))
    const listeners = client.listenerCount('packetsend')
    expect(code(() => watchMqtt(client, { probes: 0 }))).toBe('KA_ERR_INVALID_POLICY')
    expect(code(() => watchMqtt(client, { interval: 'one second' }))).toBe('KA_ERR_INVALID_POLICY')
    // A rejected watch attaches nothing and leaves mqtt.js's own keepalive running.
    expect(client.listenerCount('packetsend')).toBe(listeners)
    expect(options.timerVariant.claimed).toBe(false)
    expect(options.timerVariant.armed).toBe(1)

    // Ended while watched: the watcher stops itself and hands the timer back.
    const watcher = watchMqtt(client)
    expect(options.timerVariant.armed).toBe(0)
    // One watcher per client: a second would double every PINGREQ.
    expect(code(() => watchMqtt(client))).toBe('KA_ERR_INVALID_ARGUMENT')
    await end(client)
    expect(watcher.state).toBe('stopped')
    expect(schedulerInfo().monitors).toBe(0)
    // Already closed.
    expect(code(() => watchMqtt(client))).toBe('KA_ERR_MQTT_CLIENT_CLOSED')
  })
})

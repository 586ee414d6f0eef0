/**
 * What the client puts on the wire, against real brokers: the Keep Alive in CONNECT and the PINGREQ rhythm match
 * the policy (MQTT 3.1.1 and 5 on mosquitto, 3.1.1 on aedes — aedes has no MQTT 5); mosquitto's `max_keepalive`
 * coming back as a Server Keep Alive is honoured; mqtts:// (a generated certificate) and ws:// work the same.
 * Scenarios that do not share a broker run concurrently: each measures gaps on its own connection.
 */
import { execFileSync } from 'node:child_process'
import diagnosticsChannel from 'node:diagnostics_channel'
import { chmodSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { schedulerInfo } from '@keepalive/core'
import { type MqttKeepaliveEvent, mqttOptions, watchMqtt } from '@keepalive/mqtt'
import {
  expectNoLeaks,
  freePort,
  makeTempDir,
  missingPrerequisites,
  recordDeadline,
  startAedes,
  startMosquitto,
} from '@keepalive/test-harness'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { describe, expect, it } from 'vitest'
import { startWireProxy } from './mqtt-wire.js'

const log = (line: string): void => console.info(`[mqtt wire] ${line}`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** K = 2 s: the watcher's PINGREQs come every 2 s of silence (send side one 10 ms tick early, see watch.ts). */
const POLICY = { idle: '2s', interval: '1s', probes: 2 }

function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, ...options })
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client))
    client.once('error', reject)
  })
}

function end(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(true, () => resolve()))
}

/** Gaps between consecutive times. */
function gapsBetween(at: number[]): number[] {
  return at.slice(1).map((t, i) => t - (at[i] as number))
}

/** Runs one client through a recording proxy for `ms` of idle and returns what was on the wire. */
async function idleOnWire(target: { host: string; port: number }, protocolVersion: 4 | 5, ms: number) {
  const proxy = await startWireProxy(target)
  const base = { protocolVersion, clientId: `wire-${protocolVersion}-${target.port}` }
  const frozenBase = Object.freeze({ ...base })
  const client = await connect(proxy.url, mqttOptions(POLICY, frozenBase))
  // When the watcher wrote each PINGREQ (the channel publishes just before the synchronous write).
  const sentAt: number[] = []
  const onPingreq = (message: unknown) => {
    if ((message as { client: unknown }).client === client) sentAt.push(performance.now())
  }
  diagnosticsChannel.subscribe('keepalive:mqtt:pingreq', onPingreq)
  const watcher = watchMqtt(client)
  const start = performance.now()
  try {
    await sleep(ms)
  } finally {
    diagnosticsChannel.unsubscribe('keepalive:mqtt:pingreq', onPingreq)
  }
  const result = {
    connects: proxy.connects(),
    wireGaps: gapsBetween(proxy.pingreqs().map((p) => p.at)),
    sendGaps: gapsBetween(sentAt),
    pingreqs: proxy.pingreqs(start).length,
    watcherPingreqs: watcher.pingreqs,
    deaths: watcher.deaths,
  }
  watcher.stop()
  await end(client)
  await proxy.stop()
  return result
}

/**
 * The bounds on the PINGREQ rhythm (K = 2 s).
 * - On the wire, never later than Keep Alive: the 10 ms tick plus event-loop scheduling (< 50 ms here). That is
 *   what the broker holds us to.
 * - As sent, never sooner than K − one tick (the send side's idle, see watch.ts) − `lateNoiseMs`. The watcher's
 *   own PINGREQ write answers its send clock, so the next one counts from that write exactly (core's monitor,
 *   exactProbeAtMs); a packet mqtt.js sent meanwhile is a plain touch, counted on the tick grid from the run
 *   before it when that run was at most `lateNoiseMs` late (seenTick), so a gap may be that much short. Measured
 *   at the sender, because the gap the proxy sees also carries the proxy's own read delays (a descheduled process
 *   reads one PINGREQ late and the next one on time).
 */
const K = 2000
const WIRE_MAX = K + 50
function sendMin(): number {
  const { tickMs } = schedulerInfo()
  return K - tickMs - Math.max(2, tickMs / 4)
}

function expectPolicyOnWire(result: Awaited<ReturnType<typeof idleOnWire>>, level: number): void {
  expect(result.connects).toEqual([expect.objectContaining({ level, keepalive: 2 })])
  // 6.5 s idle, a PINGREQ every 2 s (send side at 1990 ms): 3 of them, and only the watcher's (mqtt.js's own
  // timer is held by the gate: no gap is short).
  expect(result.pingreqs).toBe(3)
  expect(result.watcherPingreqs).toBe(3)
  expect(result.deaths).toBe(0)
  expect(result.sendGaps).toHaveLength(result.wireGaps.length)
  for (const gap of result.wireGaps) expect(gap).toBeLessThanOrEqual(WIRE_MAX)
  for (const gap of result.sendGaps) expect(gap).toBeGreaterThanOrEqual(sendMin())
}

describe.skipIf(missingPrerequisites('mosquitto'))('on the wire', () => {
  it('CONNECT carries the policy Keep Alive and PINGREQs follow it: mosquitto 3.1.1 and 5, aedes 3.1.1', async () => {
    expectNoLeaks()
    const mosquitto = await startMosquitto()
    const aedes = await startAedes()
    const [m4, m5, a4] = await Promise.all([
      idleOnWire(mosquitto, 4, 6500),
      idleOnWire(mosquitto, 5, 6500),
      idleOnWire(aedes, 4, 6500),
    ])
    const show = (gaps: number[]) => gaps.map((g) => g.toFixed(1)).join(', ')
    for (const [who, r] of [
      [`mosquitto ${mosquitto.version} 3.1.1`, m4],
      [`mosquitto ${mosquitto.version} 5`, m5],
      [`aedes ${aedes.version} 3.1.1`, a4],
    ] as const) {
      log(`${who} gaps on the wire ${show(r.wireGaps)} ms, as sent ${show(r.sendGaps)} ms`)
    }
    // The bounds expectPolicyOnWire asserts on each gap, all printed before the first can fail.
    for (const [who, result] of [
      ['mosquitto 3.1.1', m4],
      ['mosquitto 5', m5],
      ['aedes 3.1.1', a4],
    ] as const) {
      for (const gap of result.wireGaps) {
        recordDeadline({
          test: `mqtt/wire: PINGREQ gap on the wire, ${who}`,
          measured: gap,
          max: WIRE_MAX,
          slack: '10 ms scheduler tick, event-loop scheduling',
        })
      }
      for (const gap of result.sendGaps) {
        recordDeadline({
          test: `mqtt/wire: PINGREQ gap as sent, ${who}`,
          measured: gap,
          min: sendMin(),
          slack:
            'send side one 10 ms tick early; lateNoiseMs (2.5 ms) for a gap counted from a plain touch on the tick grid',
        })
      }
    }
    expectPolicyOnWire(m4, 4)
    expectPolicyOnWire(m5, 5)
    expectPolicyOnWire(a4, 4)
  })

  it('aedes has no MQTT 5 (aedes#836): it refuses the CONNECT, which still carried the policy Keep Alive; nothing left', async () => {
    expectNoLeaks()
    const aedes = await startAedes()
    const proxy = await startWireProxy(aedes)
    const client = mqtt.connect(proxy.url, mqttOptions(POLICY, { protocolVersion: 5, reconnectPeriod: 0 }))
    const watcher = watchMqtt(client)
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    const error = await new Promise<Error>((resolve) => client.once('error', resolve))
    expect(error.message).toMatch(/Unacceptable protocol version/)
    await closed
    expect(proxy.connects()).toEqual([expect.objectContaining({ level: 5, keepalive: 2 })])
    expect(watcher.state).toBe('disconnected')
    expect(watcher.deaths).toBe(0)
    watcher.stop()
    await end(client)
    await proxy.stop()
  })

  it("mosquitto's max_keepalive comes back as Server Keep Alive: honoured, reported, the caller's options untouched", async () => {
    expectNoLeaks()
    // mosquitto 2.0 accepts max_keepalive from 10 s.
    const mosquitto = await startMosquitto({ config: ['max_keepalive 10'] })
    const proxy = await startWireProxy(mosquitto)
    // 'balanced' asks for Keep Alive 30; mosquitto answers a v5 client with Server Keep Alive 10.
    const base = Object.freeze({ protocolVersion: 5 as const, clientId: 'max-keepalive', reconnectPeriod: 0 })
    const options = mqttOptions('balanced', base)
    const client = mqtt.connect(proxy.url, options)
    const watcher = watchMqtt(client)
    const negotiated = await new Promise<MqttKeepaliveEvent>((resolve) => watcher.once('keepalive', resolve))
    expect(negotiated).toMatchObject({ keepalive: 10, requested: 30, serverKeepAlive: 10 })
    expect(negotiated.settings.monitor.idle).toBe(10_000)
    expect(negotiated.warnings.join(' ')).toMatch(/Server Keep Alive/)
    await sleep(10_500)
    const [connect] = proxy.connects()
    expect(proxy.connects()).toEqual([expect.objectContaining({ level: 5, keepalive: 30 })])
    const first = proxy.pingreqs()[0]?.at ?? Number.NaN
    log(
      `Server Keep Alive 10 (asked 30): first PINGREQ ${(first - (connect?.at ?? 0)).toFixed(0)} ms after CONNECT`,
    )
    // Within 10 s of the last packet sent (CONNECT; SUBSCRIBE none), never the 30 s asked. Slack: the 10 ms tick
    // the send side starts early by, and scheduling.
    recordDeadline({
      test: 'mqtt/wire: Server Keep Alive 10, first PINGREQ after CONNECT',
      measured: first - (connect?.at ?? 0),
      min: 10_000 - 10 - 50,
      max: 10_000 + 50,
      slack: '10 ms tick (send side early), scheduling',
    })
    expect(first - (connect?.at ?? 0)).toBeLessThanOrEqual(10_000 + 50)
    expect(first - (connect?.at ?? 0)).toBeGreaterThanOrEqual(10_000 - 10 - 50)
    expect(proxy.pingreqs().length).toBe(1)
    expect(client.connected).toBe(true)
    expect(watcher.deaths).toBe(0)
    // Ours and the caller's: the Server Keep Alive went to the watcher, not into the options.
    expect(options.keepalive).toBe(30)
    expect(client.options.keepalive).toBe(30)
    watcher.stop()
    await end(client)
  })

  it('mqtts:// with a generated certificate and ws:// on mosquitto: same Keep Alive, same PINGREQs', async () => {
    expectNoLeaks()
    const dir = makeTempDir('mqtt-tls')
    const key = join(dir.path, 'key.pem')
    const cert = join(dir.path, 'cert.pem')
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    )
    // mosquitto drops root for its own user: it must be able to read them.
    chmodSync(dir.path, 0o755)
    chmodSync(key, 0o644)
    const tlsPort = await freePort()
    const wsPort = await freePort()
    // The harness's plain listener comes first; these two follow with their own settings.
    const mosquitto = await startMosquitto({
      config: [
        'log_type all',
        `listener ${tlsPort} 127.0.0.1`,
        `certfile ${cert}`,
        `keyfile ${key}`,
        `listener ${wsPort} 127.0.0.1`,
        'protocol websockets',
      ],
    })
    const run = async (url: string, extra: IClientOptions, clientId: string) => {
      const client = await connect(url, mqttOptions(POLICY, { clientId, ...extra }))
      const watcher = watchMqtt(client)
      await sleep(4500)
      const result = { pingreqs: watcher.pingreqs, deaths: watcher.deaths, state: watcher.state }
      watcher.stop()
      await end(client)
      return result
    }
    const [tls, ws] = await Promise.all([
      run(`mqtts://127.0.0.1:${tlsPort}`, { ca: readFileSync(cert) }, 'tls-client'),
      run(`ws://127.0.0.1:${wsPort}`, {}, 'ws-client'),
    ])
    const broker = mosquitto.log()
    for (const id of ['tls-client', 'ws-client']) {
      // mosquitto logs the Keep Alive it got: "New client connected from … as <id> (p2, c1, k2)".
      expect(broker).toMatch(new RegExp(`as ${id} \\(p\\d, c\\d, k2\\)`))
      const received = broker.split('\n').filter((l) => l.includes(`Received PINGREQ from ${id}`)).length
      log(`${id}: ${received} PINGREQs received by mosquitto in 4.5 s`)
      expect(received).toBe(2)
    }
    // PINGRESPs arrived through TLS and WebSocket framing: no death, the watcher saw the bytes.
    expect(tls).toEqual({ pingreqs: 2, deaths: 0, state: 'idle' })
    expect(ws).toEqual({ pingreqs: 2, deaths: 0, state: 'idle' })
  })
})

/**
 * The slow handler, for real (mqtt.js #1935): Keep Alive 2 s, an async message handler that takes 3 s, a live broker
 * publishing steadily for 60 s. mqtt.js alone waits for the PINGRESP behind the handler and kills the live broker;
 * ours counts the bytes as they arrive and treats "mqtt.js stopped reading" as a local stall. Alongside, on a
 * second broker: a handler is slow, mqtt.js has stopped reading, and the broker freezes; the death must come
 * within detection time + 1 s of reading resuming, not during the stall.
 */

import { schedulerInfo } from '@keepalive/core'
import { type MqttDeadEvent, type MqttWatcher, mqttOptions, watchMqtt } from '@keepalive/mqtt'
import {
  expectNoLeaks,
  missingPrerequisites,
  recordDeadline,
  spawnNode,
  startMosquitto,
} from '@keepalive/test-harness'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { describe, expect, it } from 'vitest'

const POLICY = { idle: '2s', interval: '1s', probes: 2 }
const DETECTION_MS = 4000
const HANDLER_MS = 3000
const AEDES = new URL('./fixtures/aedes-broker.ts', import.meta.url)
const log = (line: string): void => console.info(`[mqtt slow handler] ${line}`)
/** Handlers still running when a client is ended: the test's own timers, cleared at its end. */
const handlerTimers = new Set<ReturnType<typeof setTimeout>>()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function subscriber(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 1000, ...options })
  // The slow handler: mqtt.js processes the next packet (PINGRESP included) only after this callback.
  client.handleMessage = (_packet, callback) => {
    const timer = setTimeout(() => {
      handlerTimers.delete(timer)
      callback()
    }, HANDLER_MS)
    handlerTimers.add(timer)
  }
  return new Promise((resolve, reject) => {
    client.once('connect', () =>
      client.subscribe('load/#', { qos: 0 }, (e) => (e ? reject(e) : resolve(client))),
    )
    client.once('error', reject)
  })
}

const end = (client: MqttClient) => new Promise<void>((resolve) => client.end(true, () => resolve()))

/** 60 s of steady publishing on a live broker: ours must not die, mqtt.js alone must. */
async function liveBroker(url: string) {
  const ours = await subscriber(url, mqttOptions(POLICY, { clientId: 'slow-ours' }))
  const watcher = watchMqtt(ours)
  const deaths: MqttDeadEvent[] = []
  watcher.on('dead', (e) => deaths.push(e))
  let stalls = 0
  watcher.on('stall', ({ paused }) => {
    if (paused) stalls++
  })
  const alone = await subscriber(url, { clientId: 'slow-mqttjs', keepalive: 2 })
  const aloneErrors: string[] = []
  alone.on('error', (e) => aloneErrors.push(e.message))
  const publisher = mqtt.connect(url, { clientId: 'slow-publisher', reconnectPeriod: 0 })
  await new Promise((resolve) => publisher.once('connect', resolve))
  const payload = Buffer.alloc(200, 1)
  const timer = setInterval(() => publisher.publish('load/steady', payload, { qos: 0 }), 250)
  await sleep(60_000)
  clearInterval(timer)
  const result = {
    deaths: deaths.length,
    stalls,
    oursConnected: ours.connected,
    pingreqs: watcher.pingreqs,
    aloneTimeouts: aloneErrors.filter((m) => m === 'Keepalive timeout').length,
  }
  watcher.stop()
  await Promise.all([end(ours), end(alone), end(publisher)])
  return result
}

/** A handler is slow and mqtt.js has stopped reading when the broker freezes. */
async function frozenWhileSlow(url: string, freeze: () => Promise<unknown>) {
  const ours = await subscriber(url, mqttOptions(POLICY, { clientId: 'frozen-ours', reconnectPeriod: 0 }))
  const watcher: MqttWatcher = watchMqtt(ours)
  const stallAt: { paused: boolean; at: number }[] = []
  watcher.on('stall', ({ paused }) => stallAt.push({ paused, at: performance.now() }))
  const dead = new Promise<MqttDeadEvent & { at: number }>((resolve) =>
    watcher.once('dead', (e) => resolve({ ...e, at: performance.now() })),
  )
  const publisher = mqtt.connect(url, { clientId: 'frozen-publisher', reconnectPeriod: 0 })
  await new Promise((resolve) => publisher.once('connect', resolve))
  // 3 × 12 KB: more than mqtt.js's 16 KB write buffer, so its pipe pauses the socket while the first handler runs.
  const paused = new Promise<void>((resolve) => watcher.once('stall', () => resolve()))
  for (let i = 0; i < 3; i++) publisher.publish('load/big', Buffer.alloc(12 * 1024, i), { qos: 0 })
  await paused
  await end(publisher)
  const frozenAt = performance.now()
  await freeze()
  const death = await dead
  const resumed = stallAt.filter((s) => !s.paused).at(-1)
  const lastSeen = Math.max(resumed?.at ?? 0, watcher.lastSeen ?? 0)
  watcher.stop()
  await end(ours)
  return { death, frozenAt, stallAt, resumedAt: resumed?.at, lastSeen }
}

describe.skipIf(missingPrerequisites('mosquitto', 'root'))('slow message handler', () => {
  it('live broker 60 s, 3 s handler, Keep Alive 2 s: zero deaths with ours, mqtt.js alone fails; frozen while slow: detected after reading resumes', {
    timeout: 120_000,
  }, async () => {
    expectNoLeaks()
    const mosquitto = await startMosquitto()
    const aedes = spawnNode(AEDES, { args: ['127.0.0.1', '0'], label: 'aedes' })
    const { port } = await aedes.next<{ type: 'ready'; port: number }>('ready')
    const [live, frozen] = await Promise.all([
      liveBroker(mosquitto.url),
      frozenWhileSlow(`mqtt://127.0.0.1:${port}`, () => aedes.freeze()),
    ])
    log(
      `live mosquitto ${mosquitto.version}, 60 s: ours ${live.deaths} deaths (${live.stalls} stalls, ${live.pingreqs} PINGREQs, connected ${live.oursConnected}); mqtt.js alone ${live.aloneTimeouts} × "Keepalive timeout"`,
    )
    const sinceResume = frozen.death.at - (frozen.resumedAt ?? Number.NaN)
    log(
      `aedes frozen while a handler was slow: reading resumed ${((frozen.resumedAt ?? 0) - frozen.frozenAt).toFixed(0)} ms after the freeze; dead ${sinceResume.toFixed(0)} ms after that (${frozen.death.reason.code}, ${frozen.death.probesSent} PINGREQs)`,
    )
    const id = 'mqtt/slow-handler: aedes frozen while a handler was slow'
    recordDeadline({
      test: `${id}, stall (freeze to reading resumed)`,
      measured: (frozen.resumedAt ?? 0) - frozen.frozenAt,
      min: DETECTION_MS,
      slack: 'must outlast the detection time (strict >)',
    })
    recordDeadline({
      test: `${id}, dead after the last byte`,
      measured: frozen.death.at - frozen.lastSeen,
      min: DETECTION_MS - 15,
      slack: '10 ms tick, a few ms of recorded-touch order',
    })
    recordDeadline({
      test: `${id}, dead after reading resumed`,
      measured: sinceResume,
      max: DETECTION_MS + 1000,
      slack: 'one 10 ms tick plus scheduling',
    })
    for (const timer of handlerTimers) clearTimeout(timer)
    // Every watcher stopped: no monitor (and so no scheduler timer) is left.
    expect(schedulerInfo().monitors).toBe(0)
    expect(live.deaths).toBe(0)
    expect(live.oursConnected).toBe(true)
    expect(live.aloneTimeouts).toBeGreaterThan(0)
    // The stall happened and outlasted the detection time: a death counted from the freeze would have come early.
    expect(frozen.resumedAt).toBeDefined()
    expect((frozen.resumedAt ?? 0) - frozen.frozenAt).toBeGreaterThan(DETECTION_MS)
    expect(frozen.death.reason.code).toBe('KA_ERR_MQTT_PINGRESP_TIMEOUT')
    // From the later of reading resuming and the last byte read after it: never before the detection time, at
    // most 1 s after (one 10 ms tick plus scheduling).
    const sinceLast = frozen.death.at - frozen.lastSeen
    expect(sinceLast).toBeGreaterThanOrEqual(DETECTION_MS - 15)
    expect(sinceResume).toBeLessThanOrEqual(DETECTION_MS + 1000)
  })
})

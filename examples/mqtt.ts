/**
 * @keepalive/mqtt: a dead broker detected by the policy, not by mqtt.js's tick counting.
 *
 * An aedes broker on loopback; an mqtt.js client with `mqttOptions(policy)` (Keep Alive from the policy) and
 * `watchMqtt(client)`, which sends PINGREQ after `idle` of silence from the broker and, after `probes` PINGRESPs
 * missed `interval` apart, closes the connection with KA_ERR_MQTT_PINGRESP_TIMEOUT. The client reaches the broker
 * through a small in-process relay; the broker "freezes" when the relay stops passing bytes (the connection stays
 * open, nothing answers: what a hung broker or a silently dropped path looks like).
 *
 * Run: bash scripts/run-ts.sh examples/mqtt.ts
 */
import net from 'node:net'
import { definePolicy, mqttSettings } from '@keepalive/core'
import { type MqttDeadEvent, mqttOptions, watchMqtt } from '@keepalive/mqtt'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { listen, startRelay } from './lib/relay.js'

setTimeout(() => {
  console.error('example timed out')
  process.exit(1)
}, 20_000).unref()

const policy = definePolicy({ idle: '1s', interval: '500ms', probes: 2 })
const promised = mqttSettings(policy).detectionTime
console.log(`policy: idle 1s, interval 500ms, probes 2 → a silent broker is dead after ${promised} ms`)

const broker = await Aedes.createBroker()
const brokerServer = net.createServer((socket) => {
  socket.on('error', () => {})
  broker.handle(socket)
})
const relay = await startRelay(await listen(brokerServer))
const port = relay.port

// One connection, no reconnect: the example shows the death, not what mqtt.js does after it.
const client = mqtt.connect(
  mqttOptions(policy, { host: '127.0.0.1', port, protocol: 'mqtt', reconnectPeriod: 0 }),
)
client.on('error', () => {}) // the reason arrives in watcher's 'dead'
const watcher = watchMqtt(client)
await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject))
console.log(`connected to mqtt://127.0.0.1:${port}`)
watcher.on('probe', ({ attempt }) => console.log(`PINGREQ ${attempt}`))
watcher.on('alive', ({ rttMs }) => console.log(`PINGRESP after ${rttMs?.toFixed(1)} ms`))
const dead = new Promise<MqttDeadEvent>((resolve) => watcher.on('dead', resolve))

await new Promise((resolve) => setTimeout(resolve, 1_700)) // one answered PINGREQ
console.log('freezing the broker')
relay.freeze()
const { reason, silenceMs: measured } = await dead
console.log(`dead: ${reason.code}: ${reason.message}`)

watcher.stop()
client.end(true)
relay.close()
brokerServer.close()
await new Promise<void>((resolve) => broker.close(() => resolve()))

// Never earlier than promised (a false alarm); 1 s of slack above it for scheduling on a loaded machine (the tight
// bound is held by the package's tests against mosquitto).
if (
  reason.code !== 'KA_ERR_MQTT_PINGRESP_TIMEOUT' ||
  measured < promised - 1 ||
  measured > promised + 1_000
) {
  console.error(`expected KA_ERR_MQTT_PINGRESP_TIMEOUT within [${promised}, ${promised + 1_000}] ms`)
  process.exit(1)
}
console.log(
  `ok: mqtt: frozen broker detected ${measured.toFixed(0)} ms after its last byte (promised ${promised} ms)`,
)

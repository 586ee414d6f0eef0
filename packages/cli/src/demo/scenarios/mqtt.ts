/**
 * MQTT: an aedes broker as the peer; the client is mqtt.js with `mqttOptions(policy)` (Keep Alive from the policy)
 * and `watchMqtt(client, policy)`, which sends PINGREQ after `idle` of silence from the broker and declares it dead
 * after `probes` PINGRESPs missed `interval` apart. A frozen broker stops answering PINGREQ, so both modes show it.
 */
import net from 'node:net'
import { mqttSettings } from '@keepalive/core'
import { mqttOptions, watchMqtt } from '@keepalive/mqtt'
import mqtt from 'mqtt'
import type { Scenario } from '../scenario.js'
import { listen } from './listen.js'

export const mqttScenario: Scenario = {
  id: 'mqtt',
  protocol: 'mqtt',
  detector: 'PINGREQ (watchMqtt)',
  modes: ['netns', 'freeze'],
  kernel: false,
  configured: (policy) => mqttSettings(policy).detectionTime,
  async startPeer(host) {
    const { Aedes } = await import('aedes')
    const broker = await Aedes.createBroker()
    const server = net.createServer((socket) => {
      socket.on('error', () => {})
      broker.handle(socket)
    })
    return listen(server, host)
  },
  async startClient({ host, port, policy, events }) {
    // One connection, no reconnect: the demo measures the death, not what mqtt.js does after it.
    const client = mqtt.connect(
      mqttOptions(policy, { host, port, protocol: 'mqtt', reconnectPeriod: 0, connectTimeout: 10_000 }),
    )
    const watcher = watchMqtt(client, policy)
    client.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
      client.once('close', () => reject(new Error(`no CONNACK from mqtt://${host}:${port}`)))
    })
    watcher.on('probe', ({ attempt }) => events.probe(attempt))
    watcher.on('alive', ({ rttMs }) => events.alive(rttMs))
    watcher.on('dead', ({ reason }) => events.dead(`${reason.code}: ${reason.message}`))
    const socket = client.stream as net.Socket
    return {
      socket,
      stop: () => {
        watcher.stop()
        client.end(true)
      },
    }
  },
}

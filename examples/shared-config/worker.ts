/**
 * Service 2, an MQTT worker: its MQTT Keep Alive and dead-broker detection come from the shared config's `mqtt`
 * policy (`mqttOptions`, `watchMqtt`). Reads the same file as the API, the same way.
 */
import { loadConfig, mqttSettings, policyFor } from '@keepalive/core'
import { mqttOptions, watchMqtt } from '@keepalive/mqtt'
import mqtt from 'mqtt'

export async function startWorker(
  cwd: string,
  brokerPort: number,
): Promise<{ configFile: string | undefined; received: Promise<string>; close(): void }> {
  const config = await loadConfig({ cwd })
  const policy = policyFor(config, 'mqtt')
  const client = mqtt.connect(mqttOptions(policy, { host: '127.0.0.1', port: brokerPort, protocol: 'mqtt' }))
  const watcher = watchMqtt(client)
  watcher.on('dead', ({ reason }) => console.error(`worker: ${reason.message}`))
  await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject))
  const { keepalive, detectionTime } = mqttSettings(policy)
  console.log(
    `worker: ${config.source.file}: mqtt Keep Alive ${keepalive} s, dead broker found in ${detectionTime} ms`,
  )
  await client.subscribeAsync('jobs')
  const received = new Promise<string>((resolve) =>
    client.once('message', (_topic, payload) => resolve(String(payload))),
  )
  return { configFile: config.source.file, received, close: () => client.end(true) }
}

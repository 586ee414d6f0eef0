/**
 * Two services, one keepalive policy file (./keepalive.config.yaml): an HTTP API and an MQTT worker, each reading
 * it with `loadConfig` / `policyFor`, on an in-process aedes broker. Both run in this one process here so the
 * example is one command; deployed, each is its own process started in (or below) this directory.
 *
 * Run: bash scripts/run-ts.sh examples/shared-config/main.ts
 */
import http from 'node:http'
import net from 'node:net'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { startApi } from './api.js'
import { startWorker } from './worker.js'

setTimeout(() => {
  console.error('example timed out')
  process.exit(1)
}, 20_000).unref()

const here = dirname(fileURLToPath(import.meta.url))
const broker = await Aedes.createBroker()
const brokerServer = net.createServer((socket) => broker.handle(socket))
await new Promise<void>((resolve) => brokerServer.listen(0, '127.0.0.1', resolve))
const brokerPort = (brokerServer.address() as net.AddressInfo).port

const api = await startApi(here)
const worker = await startWorker(here, brokerPort)

const body = await new Promise<string>((resolve, reject) => {
  http
    .get({ host: '127.0.0.1', port: api.port, path: '/' }, (response) => {
      let text = ''
      response.on('data', (chunk) => (text += chunk)).on('end', () => resolve(text))
    })
    .on('error', reject)
})
console.log(`api answered: ${body}`)
const publisher = await mqtt.connectAsync({ host: '127.0.0.1', port: brokerPort, protocol: 'mqtt' })
await publisher.publishAsync('jobs', 'resize image 42')
const job = await worker.received
console.log(`worker received: ${job}`)

await publisher.endAsync()
worker.close()
api.close()
brokerServer.close()
await new Promise<void>((resolve) => broker.close(() => resolve()))

if (api.configFile === undefined || api.configFile !== worker.configFile) {
  console.error(`expected both services to read one file, got ${api.configFile} and ${worker.configFile}`)
  process.exit(1)
}
console.log(`ok: shared-config: the api and the worker both run on ${api.configFile}`)

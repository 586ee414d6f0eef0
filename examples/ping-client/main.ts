/**
 * The PING client library (./client.ts) against its tiny server (./server.ts): the server hangs (its process stops
 * answering, its kernel keeps acknowledging) and the client declares it dead within the policy's detection time.
 *
 * Run: bash scripts/run-ts.sh examples/ping-client/main.ts
 */
import { performance } from 'node:perf_hooks'
import { definePolicy, detectionTime } from '@keepalive/core'
import { PingClient } from './client.js'
import { startPingServer } from './server.js'

setTimeout(() => {
  console.error('example timed out')
  process.exit(1)
}, 20_000).unref()

const policy = definePolicy({ idle: '1s', interval: '500ms', probes: 2 })
const promised = detectionTime(policy)
const server = await startPingServer()
const client = await PingClient.connect({ host: '127.0.0.1', port: server.port, keepalive: policy })
let lastPong = performance.now()
client.on('pong', () => {
  lastPong = performance.now()
  console.log('+PONG')
})
const dead = new Promise<{ reason: Error & { code?: string } }>((resolve) => client.on('dead', resolve))
client.ping()

await new Promise((resolve) => setTimeout(resolve, 1_300)) // a PONG, and a keepalive PING after 1 s of silence
console.log('the server hangs')
server.hang()
const { reason } = await dead
const measured = performance.now() - lastPong
console.log(`dead: ${reason.code}: ${reason.message}`)
client.close()
server.close()

// Never earlier than promised (a false alarm); 1 s of slack above it for scheduling on a loaded machine (core's
// tests hold the tight bound: one 10 ms tick).
if (reason.code !== 'KA_ERR_PROBE_TIMEOUT' || measured < promised - 1 || measured > promised + 1_000) {
  console.error(
    `expected KA_ERR_PROBE_TIMEOUT within [${promised}, ${promised + 1_000}] ms, got ${measured.toFixed(0)} ms`,
  )
  process.exit(1)
}
console.log(
  `ok: ping-client: hung server detected ${measured.toFixed(0)} ms after its last PONG (promised ${promised} ms)`,
)

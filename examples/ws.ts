/**
 * @keepalive/ws: a dead WebSocket client found in the time the policy promises, by the server.
 *
 * A ws WebSocketServer on loopback under `watchWebSocketServer(wss, policy)`: every connection gets its own
 * deadline from its own last byte; after `idle` of silence the server pings, `probes` times `interval` apart, and
 * then terminates the connection with KA_ERR_WS_PONG_TIMEOUT. The client reaches the server through a small
 * in-process relay; the client "freezes" when the relay stops passing bytes (the TCP connection stays open,
 * nothing answers: what a frozen browser tab's machine, a suspended laptop or a silently dropped path looks like).
 *
 * Run: bash scripts/run-ts.sh examples/ws.ts
 */
import { definePolicy, detectionTime } from '@keepalive/core'
import { type WsServerDeadEvent, watchWebSocket, watchWebSocketServer } from '@keepalive/ws'
import WebSocket, { WebSocketServer } from 'ws'
import { startRelay } from './lib/relay.js'

setTimeout(() => {
  console.error('example timed out')
  process.exit(1)
}, 20_000).unref()

const policy = definePolicy({ idle: '1s', interval: '500ms', probes: 2 })
const promised = detectionTime(policy)
console.log(`policy: idle 1s, interval 500ms, probes 2 → a silent client is dead after ${promised} ms`)

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
await new Promise((resolve) => wss.once('listening', resolve))
const serverWatcher = watchWebSocketServer(wss, policy)
const dead = new Promise<WsServerDeadEvent>((resolve) => serverWatcher.on('dead', resolve))
serverWatcher.on('watch', ({ watcher }) => {
  watcher.on('probe', ({ attempt }) => console.log(`server: ping ${attempt}`))
  watcher.on('alive', () => console.log(`server: pong after ${watcher.lastRttMs?.toFixed(1) ?? '?'} ms`))
})

const relay = await startRelay((wss.address() as { port: number }).port)
const client = new WebSocket(`ws://127.0.0.1:${relay.port}`)
client.on('error', () => {}) // the relay's close at the end
// The client can watch its server too: the same policy, the same events.
const clientWatcher = watchWebSocket(client, policy)
await new Promise((resolve) => client.once('open', resolve))
console.log(`connected through ws://127.0.0.1:${relay.port}; watcher state ${clientWatcher.state}`)

await new Promise((resolve) => setTimeout(resolve, 1_700)) // one answered ping
console.log('freezing the client')
relay.freeze()
const { reason, silenceMs: measured } = await dead
console.log(`server: dead: ${reason.code}: ${reason.message}`)
console.log(`stats: ${JSON.stringify(serverWatcher.stats)}`)

clientWatcher.stop()
serverWatcher.stop()
client.terminate()
relay.close()
await new Promise((resolve) => wss.close(resolve))

// Never earlier than promised (a false alarm); 1 s of slack above it for scheduling on a loaded machine (the tight
// bound is held by the package's tests against frozen processes, namespaces and Chromium).
if (reason.code !== 'KA_ERR_WS_PONG_TIMEOUT' || measured < promised - 1 || measured > promised + 1_000) {
  console.error(`expected KA_ERR_WS_PONG_TIMEOUT within [${promised}, ${promised + 1_000}] ms`)
  process.exit(1)
}
console.log(
  `ok: ws: frozen client detected ${measured.toFixed(0)} ms after its last byte (promised ${promised} ms)`,
)

/**
 * The main job until `@keepalive/cli` arrives: `npm run demo`.
 *
 * 1. Explains a policy for every protocol (the settings each adapter would use, and why).
 * 2. Starts an embedded peer on loopback that answers PING with PONG, connects to it with full TCP keepalive
 *    (read back from the kernel) and watches it with a liveness monitor.
 * 3. Freezes the peer's application — the kernel still acknowledges, so TCP keepalive alone never notices —
 *    and measures how long the monitor takes to call it dead, against the policy's promise.
 *
 * Exits non-zero if the measured detection time breaks the promise.
 */
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { createMonitor, definePolicy, detectionTime, explain, formatDuration } from '@keepalive/core'
import { connect } from '@keepalive/tcp'

const policy = definePolicy({ idle: '1s', interval: '500ms', probes: 3 })
const promised = detectionTime(policy)

function section(title: string): void {
  console.log(`\n── ${title} ${'─'.repeat(Math.max(0, 70 - title.length))}`)
}

section(
  `policy: idle ${formatDuration(policy.idle)}, interval ${formatDuration(policy.interval)}, probes ${policy.probes}`,
)
console.log(`detection time: ${formatDuration(promised)} after the last sign of life`)
for (const p of explain(policy).protocols) {
  const settings = Object.entries(p.settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
  console.log(`\n${p.protocol.padEnd(5)} ${settings}`)
  console.log(
    `      detects in ${formatDuration(p.detectionTime)}, ${p.probesPerIdleHour} probes per idle hour`,
  )
  for (const w of p.warnings) console.log(`      ! ${w}`)
}

section('an embedded peer that answers PING with PONG')
const peerSockets = new Set<net.Socket>()
const peer = net.createServer((socket) => {
  peerSockets.add(socket)
  socket.on('close', () => peerSockets.delete(socket))
  socket.on('data', (chunk) => {
    if (chunk.includes('PING')) socket.write('PONG\n')
  })
  socket.on('error', () => {})
})
await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve))
const { port } = peer.address() as net.AddressInfo

const client = connect({ host: '127.0.0.1', port, keepalive: policy })
await new Promise<void>((resolve, reject) => {
  client.once('connect', resolve)
  client.once('error', reject)
})
const { readTcpKeepalive } = await import('@keepalive/tcp')
const kernel = readTcpKeepalive(client)
console.log(`connected to 127.0.0.1:${port}; the kernel holds`, kernel)

let lastSignOfLife = performance.now()
let pingSentAt = 0
const monitor = createMonitor({
  policy,
  name: 'demo-peer',
  probe: () => {
    pingSentAt = performance.now()
    client.write('PING\n')
  },
})
client.on('data', () => {
  lastSignOfLife = performance.now()
  monitor.touch()
})
monitor.on('probe', ({ attempt, silenceMs }) =>
  console.log(`  probe ${attempt} after ${formatDuration(Math.round(silenceMs))} of silence`),
)
monitor.on('alive', () =>
  console.log(`  alive: PONG after ${(performance.now() - pingSentAt).toFixed(2)} ms`),
)

const dead = new Promise<{ silenceMs: number; probesSent: number }>((resolve) => monitor.on('dead', resolve))
await new Promise((resolve) => setTimeout(resolve, 3_000))

section("freezing the peer's application (the kernel keeps acknowledging)")
for (const socket of peerSockets) socket.pause()
const frozenAt = performance.now()
const death = await dead
const measured = performance.now() - lastSignOfLife
console.log(
  `  dead after ${death.probesSent} unanswered probes: ${measured.toFixed(0)} ms after the last PONG ` +
    `(promised ${promised} ms; frozen ${(performance.now() - frozenAt).toFixed(0)} ms ago)`,
)
console.log(`  TCP never noticed: the socket is still ${client.destroyed ? 'closed' : 'open'}`)

monitor.stop()
client.destroy()
for (const socket of peerSockets) socket.destroy()
peer.close()

// The monitor's promise: dead within [detectionTime, detectionTime + one scheduler tick] of the last sign of life.
// The demo allows 250 ms on top for the event loop of a busy machine.
const ok = measured >= promised - 1 && measured <= promised + 250
section(ok ? 'promise kept' : 'PROMISE BROKEN')
console.log(`detected in ${measured.toFixed(0)} ms; asked for ${promised} ms`)
process.exitCode = ok ? 0 : 1

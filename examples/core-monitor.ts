/**
 * @keepalive/core's liveness monitor on its own: an application-level PING/PONG over a plain node:net socket.
 *
 * A peer on loopback answers PING with PONG; the monitor probes after `idle` of silence. Then the peer's
 * application freezes (its socket is paused; the kernel still acknowledges, so TCP alone never notices) and the
 * monitor declares it dead `idle + interval × probes` after the last PONG.
 *
 * Run: bash scripts/run-ts.sh examples/core-monitor.ts
 */
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { createMonitor, definePolicy, detectionTime } from '@keepalive/core'

const policy = definePolicy({ idle: '500ms', interval: '250ms', probes: 2 })
const promised = detectionTime(policy)
console.log(`policy: idle 500ms, interval 250ms, probes 2 → dead ${promised} ms after the last sign of life`)

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
const socket = net.connect(port, '127.0.0.1')
await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))

let lastSignOfLife = performance.now()
const monitor = createMonitor({ policy, name: 'example-peer', probe: () => socket.write('PING\n') })
socket.on('data', () => {
  lastSignOfLife = performance.now()
  monitor.touch()
})
monitor.on('probe', ({ attempt }) => console.log(`probe ${attempt} sent`))
monitor.on('alive', ({ rttMs }) => console.log(`alive: PONG after ${rttMs?.toFixed(1)} ms`))
const dead = new Promise<{ probesSent: number }>((resolve) => monitor.on('dead', resolve))

await new Promise((resolve) => setTimeout(resolve, 1_200)) // a couple of answered probes
console.log("freezing the peer's application")
for (const s of peerSockets) s.pause()
const { probesSent } = await dead
const measured = performance.now() - lastSignOfLife
console.log(`dead after ${probesSent} unanswered probes, ${measured.toFixed(0)} ms after the last PONG`)
console.log(`TCP never noticed: the socket is still ${socket.destroyed ? 'closed' : 'open'}`)

monitor.stop()
socket.destroy()
for (const s of peerSockets) s.destroy()
peer.close()

// Never earlier than promised (that would be a false alarm). The tight upper bound (one 10 ms scheduler tick) is held
// by core's tests; this example allows 1 s on top for scheduling on a loaded machine, where it may run beside others.
if (measured < promised - 1 || measured > promised + 1_000) {
  console.error(`promise broken: detected in ${measured.toFixed(0)} ms, asked for ${promised} ms`)
  process.exit(1)
}
console.log(`ok: core-monitor: dead peer detected in ${measured.toFixed(0)} ms (promised ${promised} ms)`)

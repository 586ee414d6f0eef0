/**
 * @keepalive/ssh: OpenSSH-semantics keepalive on an ssh2 client.
 *
 * An ssh2 Server on loopback (host key generated at run time, any user accepted: a throwaway peer), reached through
 * a relay that can go silent. `watchSsh(client, policy)` counts any packet received as life, sends
 * keepalive@openssh.com after `idle` of silence, and ends the connection with KA_ERR_SSH_KEEPALIVE_TIMEOUT when
 * the server stays silent for the policy's detection time.
 *
 * Run: bash scripts/run-ts.sh examples/ssh.ts
 */
import type net from 'node:net'
import { definePolicy, detectionTime } from '@keepalive/core'
import { watchSsh } from '@keepalive/ssh'
import ssh2 from 'ssh2'
import { listen, startRelay } from './lib/relay.js'

setTimeout(() => {
  console.error('example timed out')
  process.exit(1)
}, 20_000).unref()

const policy = definePolicy({ idle: '1s', interval: '500ms', probes: 2 })
const promised = detectionTime(policy) // watchSsh's; sshSettings(policy) is what ssh2's own keepalive options give
console.log(`policy: idle 1s, interval 500ms, probes 2 → a silent server is dead after ${promised} ms`)

// ssh2 1.17 makes about 1 ed25519 pair in 256 that it cannot parse itself (mscdex/ssh2#1390): draw again.
let hostKey = ssh2.utils.generateKeyPairSync('ed25519')
while (ssh2.utils.parseKey(hostKey.private) instanceof Error)
  hostKey = ssh2.utils.generateKeyPairSync('ed25519')
const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (connection) => {
  connection.on('error', () => {})
  connection.on('authentication', (ctx) => ctx.accept())
})
const relay = await startRelay(await listen(server as unknown as net.Server))

const client = new ssh2.Client()
client.on('error', () => {}) // the reason arrives in the watcher's 'dead'
await new Promise<void>((resolve, reject) => {
  client.once('ready', () => resolve())
  client.once('error', reject)
  client.connect({ host: '127.0.0.1', port: relay.port, username: 'example', hostVerifier: () => true })
})
console.log(`connected to ssh://example@127.0.0.1:${relay.port}`)
const watcher = watchSsh(client, policy)
watcher.on('probe', ({ attempt }) => console.log(`keepalive@openssh.com ${attempt}`))
watcher.on('alive', ({ rttMs }) => console.log(`answered after ${rttMs?.toFixed(1)} ms`))
const dead = new Promise<{ reason: Error & { code?: string }; silenceMs: number }>((resolve) =>
  watcher.on('dead', resolve),
)

await new Promise((resolve) => setTimeout(resolve, 1_700)) // one answered request
console.log('freezing the server')
relay.freeze()
const { reason, silenceMs } = await dead
console.log(`dead: ${reason.code}: ${reason.message}`)

watcher.stop()
client.end()
relay.close()
server.close()

// Never earlier than promised (a false alarm); 1 s of slack above it for scheduling on a loaded machine (the tight
// bound is held by the package's tests against sshd).
if (
  reason.code !== 'KA_ERR_SSH_KEEPALIVE_TIMEOUT' ||
  silenceMs < promised - 1 ||
  silenceMs > promised + 1_000
) {
  console.error(`expected KA_ERR_SSH_KEEPALIVE_TIMEOUT within [${promised}, ${promised + 1_000}] ms`)
  process.exit(1)
}
console.log(
  `ok: ssh: frozen server detected after ${silenceMs.toFixed(0)} ms of silence (promised ${promised} ms)`,
)

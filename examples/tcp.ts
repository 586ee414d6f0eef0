/**
 * @keepalive/tcp: the whole policy on a TCP socket, read back from the kernel.
 *
 * Node's `socket.setKeepAlive(true, idle)` chooses only the idle time: the interval and the probe count are whatever
 * Node's libuv picks (printed below), and no TCP_USER_TIMEOUT guards unacknowledged data. With `connect` (client) and
 * `createServer` (server side) the kernel holds idle, interval, count and TCP_USER_TIMEOUT from one policy.
 * Showing the kernel's probes find a blackholed peer needs network namespaces (root): `npm run demo` does that.
 *
 * Run: bash scripts/run-ts.sh examples/tcp.ts
 */
import net from 'node:net'
import { definePolicy, tcpSettings } from '@keepalive/core'
import { connect, createServer, readTcpKeepalive } from '@keepalive/tcp'

const policy = definePolicy({ idle: '2s', interval: '1s', probes: 3 })
const settings = tcpSettings(policy) // what the kernel should hold (Linux takes whole seconds)
console.log(
  `policy: idle 2s, interval 1s, probes 3 → a vanished peer is dropped ${settings.detectionTime} ms after it fell silent`,
)

let accepted!: (socket: net.Socket) => void
const serverSide = new Promise<net.Socket>((resolve) => (accepted = resolve))
const server = createServer({ keepalive: policy }, (socket) => {
  socket.on('error', () => {})
  accepted(socket)
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as net.AddressInfo
const client = connect({ host: '127.0.0.1', port, keepalive: policy })
await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject))
const values = readTcpKeepalive(client)
if (values === null) {
  console.error('this platform cannot read keepalive settings back from the kernel')
  process.exit(1)
}
console.log('client side, from the kernel:', values)
const accepted1 = await serverSide
console.log('server side, from the kernel:', readTcpKeepalive(accepted1))

// Node alone, for comparison: only the idle half is set.
const plain = net.connect(port, '127.0.0.1')
await new Promise((resolve, reject) => plain.once('connect', resolve).once('error', reject))
plain.setKeepAlive(true, 2_000)
console.log("Node's own setKeepAlive(true, 2000):", readTcpKeepalive(plain))

for (const s of [plain, client, accepted1]) s.destroy()
server.close()
await new Promise((resolve) => server.once('close', resolve))

const kept =
  values.enabled &&
  values.idle === settings.idleSeconds * 1_000 &&
  values.interval === settings.intervalSeconds * 1_000 &&
  values.probes === settings.probes &&
  values.userTimeout === settings.userTimeoutMs
if (!kept) {
  console.error('the kernel does not hold the policy:', settings)
  process.exit(1)
}
console.log(
  `ok: tcp: the kernel holds idle ${values.idle} ms, interval ${values.interval} ms, ${values.probes} probes, user timeout ${values.userTimeout} ms`,
)

// Cost per socket of applyTcpKeepalive, per mechanism, against the anchor of a bare socket.setKeepAlive (see the tcp
// section of bench/README.md). Run it under each Node to cover every mechanism:
//
//   npx tsc -b packages/tcp && node bench/tcp-apply.bench.mjs                              # Node 20: ffi, partial
//   npx tsc -b packages/tcp && bash scripts/with-node.sh 24 node bench/tcp-apply.bench.mjs  # Node 24: native too
//
// Measures the built package (packages/tcp/dist), as users run it. N connected loopback sockets; each round applies
// to every socket once and yields µs per socket; the figure is the median over ROUNDS rounds. Rounds alternate
// between two policies, because Node's setKeepAlive skips the syscalls when called with its previous arguments:
// every call measured here really reaches the kernel. Results are merged into bench/results/tcp-apply.json under
// the Node version, so the two runs sit side by side.
import { readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'

const core = await import(new URL('../packages/core/dist/index.js', import.meta.url).href)
const tcp = await import(new URL('../packages/tcp/dist/index.js', import.meta.url).href)
const { definePolicy } = core
const { applyTcpKeepalive, readTcpKeepalive } = tcp

const { BENCH_N = '500', BENCH_ROUNDS = '51' } = process.env
const N = Number(BENCH_N)
const ROUNDS = Number(BENCH_ROUNDS)
const RESULTS = new URL('./results/tcp-apply.json', import.meta.url)

// Two frozen policies (validated once, as an application would): idle 5 s or 6 s, interval 1 s / 2 s, 3 / 4 probes.
const policies = [
  definePolicy({ idle: '5s', interval: '1s', probes: 3 }),
  definePolicy({ idle: '6s', interval: '2s', probes: 4 }),
]

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

async function connectedSockets(n) {
  const accepted = []
  const server = net.createServer((s) => accepted.push(s))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const clients = []
  for (let i = 0; i < n; i++) {
    const socket = net.connect(port, '127.0.0.1')
    clients.push(socket)
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  }
  return {
    clients,
    close: () =>
      new Promise((resolve) => {
        for (const s of [...clients, ...accepted]) s.destroy()
        server.close(resolve)
      }),
  }
}

// Counts rounds across warm-up and measurement, so consecutive rounds always use different policies.
let tick = 0

/** µs per socket: median and min over ROUNDS rounds of `op(socket, round)` on every socket. */
function measure(name, sockets, op) {
  // Warm up (JIT, and the FFI's lazy load) on a couple of rounds first.
  for (let r = 0; r < 3; r++) {
    const t = tick++
    for (const s of sockets) op(s, t)
  }
  const perRound = []
  for (let r = 0; r < ROUNDS; r++) {
    const t = tick++
    const start = process.hrtime.bigint()
    for (const s of sockets) op(s, t)
    perRound.push(Number(process.hrtime.bigint() - start) / 1000 / sockets.length)
  }
  const result = { name, usPerSocket: round(median(perRound)), usMin: round(Math.min(...perRound)) }
  console.log(
    `${name.padEnd(58)} ${result.usPerSocket.toFixed(2).padStart(7)} µs/socket (min ${result.usMin.toFixed(2)})`,
  )
  return result
}

const round = (x) => Math.round(x * 1000) / 1000

const { clients, close } = await connectedSockets(N)
const results = {}
try {
  const probe = applyTcpKeepalive(clients[0], policies[0])
  const auto = probe.mechanism
  results.anchor = measure('anchor: socket.setKeepAlive(true, ms)', clients, (s, r) =>
    s.setKeepAlive(true, (5 + (r % 2)) * 1000),
  )
  if (net.Socket.prototype.setKeepAlive.length >= 4) {
    results.anchorFull = measure('anchor: socket.setKeepAlive(true, ms, ms, count)', clients, (s, r) =>
      s.setKeepAlive(true, (5 + (r % 2)) * 1000, (1 + (r % 2)) * 1000, 3 + (r % 2)),
    )
  }
  results.auto = measure(`applyTcpKeepalive auto (→ ${auto})`, clients, (s, r) =>
    applyTcpKeepalive(s, policies[r % 2]),
  )
  if (auto === 'native') {
    results.native = measure('applyTcpKeepalive native', clients, (s, r) =>
      applyTcpKeepalive(s, policies[r % 2], { mechanism: 'native' }),
    )
  }
  results.ffi = measure('applyTcpKeepalive ffi', clients, (s, r) =>
    applyTcpKeepalive(s, policies[r % 2], { mechanism: 'ffi' }),
  )
  results.partial = measure('applyTcpKeepalive partial (read back by FFI)', clients, (s, r) =>
    applyTcpKeepalive(s, policies[r % 2], { mechanism: 'partial' }),
  )
  results.partialNoFfi = measure('applyTcpKeepalive partial, no FFI (not read back)', clients, (s, r) =>
    applyTcpKeepalive(s, policies[r % 2], { mechanism: 'partial', ffi: false }),
  )
  results.read = measure('readTcpKeepalive (5 getsockopt)', clients, (s) => readTcpKeepalive(s))
  results.autoMechanism = auto
} finally {
  await close()
}

let all = {}
try {
  all = JSON.parse(readFileSync(RESULTS, 'utf8'))
} catch {
  // first run
}
all.command = 'npx tsc -b packages/tcp && node bench/tcp-apply.bench.mjs (and under scripts/with-node.sh 24)'
all.runs ??= {}
all.runs[process.version] = {
  date: new Date().toISOString(),
  node: process.version,
  libuv: process.versions.uv,
  platform: `${process.platform} ${process.arch}`,
  kernel: os.release(),
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model.trim(),
  sockets: N,
  rounds: ROUNDS,
  results,
}
writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`)
console.log(`wrote ${RESULTS.pathname}`)

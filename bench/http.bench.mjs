// Requests per second with keep-alive against one node:http server (small responses, loopback), 1 and 50 requests in
// flight: our agent vs agentkeepalive vs Node's default agent (keepAlive, as http.globalAgent since Node 19), and our
// dispatcher vs a plain undici Agent (the same undici copy).
//
//   npx tsc -b packages/http && node bench/http.bench.mjs                  # Node 20, undici 7
//   npx tsc -b packages/http && bash scripts/with-node.sh 26 node bench/http.bench.mjs   # Node 26, undici 8 (the
//   copy the http tests install under node_modules/.cache, installed on first use; or --undici=<dir>)
//   ... --layout=isolated                                                  # each measurement in a fresh process
//   ... --control                                  # also two identical anchors against each other: the noise floor
//
// Measures the built package (packages/http/dist), as users run it. The server runs in a child process, so client
// and server do not share one event loop. Each round runs every client for DURATION ms in turn (order rotated per
// round, so a noisy machine hits them alike); the figure is the median over ROUNDS rounds. Two layouts:
// - shared (default): every client in one process, warmed up once;
// - isolated: every measurement in a fresh client process of its own (warmed up for DURATION, then measured), as an
//   application runs one of these clients. In one process the clients share node:http's or undici's code (one
//   handler class at a call site becomes two); this layout leaves that out. Its processes are young (1 × DURATION of
//   warm-up), and from one to the next they vary more than rounds in one process do (packages/http/README.md).
// The server is pinned to the last core and the clients to the others (taskset; --pin=false leaves it to the kernel).
// Results are merged into bench/results/http.json under the Node version (and the layout, when isolated).
import { execFileSync, fork } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname } from 'node:path'

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')))
const DURATION = Number(args.duration ?? 2000)
const ROUNDS = Number(args.rounds ?? 5)
const LAYOUT = args.layout ?? 'shared'
if (LAYOUT !== 'shared' && LAYOUT !== 'isolated')
  throw new Error(`--layout must be shared or isolated, got ${LAYOUT}`)
const RESULTS = new URL('./results/http.json', import.meta.url)
const PIN = args.pin !== 'false' && os.cpus().length > 1
// --control: a second plain undici Agent and a second Node default agent, measured like the others and compared with
// the first ones: the ratio of two identical clients is how far this machine's noise alone moves a ratio.
const CONTROL = 'control' in args && args.control !== 'false'

const cpuRange = (from, to) => Array.from({ length: to - from }, (_, i) => from + i)
/** Restricts a process (and the threads it has) to the given cores, with util-linux's taskset; a no-op with --pin=false. */
function pinToCores(pid, cores) {
  if (!PIN) return
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', cores.join(','), String(pid)], {
    stdio: 'ignore',
  })
}

if (process.argv[2] === 'server') {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain')
    res.end('ok')
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
  process.on('disconnect', () => process.exit(0))
} else {
  const require = createRequire(import.meta.url)
  // undici 8 on Nodes that run it (>= 22.19), from the cache the http tests install it into (installed now if
  // missing; those Nodes load the tests' TypeScript module natively); undici 7 otherwise.
  const [major, minor] = process.versions.node.split('.').map(Number)
  let undiciDir = args.undici
  if (undiciDir === undefined && (major > 22 || (major === 22 && minor >= 19))) {
    const { undici8Entry } = await import('../packages/http/test/undici-version.ts')
    undiciDir = dirname(undici8Entry())
  }
  const undici = undiciDir ? require(undiciDir) : require('undici')
  const undiciVersion = JSON.parse(
    readFileSync(undiciDir ? `${undiciDir}/package.json` : require.resolve('undici/package.json'), 'utf8'),
  ).version
  const AgentKeepAlive = require('agentkeepalive')
  const ours = await import(new URL('../packages/http/dist/index.js', import.meta.url).href)

  const worker = process.argv[2] === 'client'
  const child = worker ? undefined : fork(new URL(import.meta.url).pathname, ['server'])
  if (child !== undefined) {
    // The server on the last core, the clients on the others, so that the two never share a core for part of a round
    // (the kernel otherwise places them as it likes; --pin=false leaves it to the kernel). On this two-core VM
    // per-round ratios still spread widely with it (packages/http/README.md): --control measures that spread.
    pinToCores(child.pid, [os.cpus().length - 1])
    pinToCores(process.pid, cpuRange(0, os.cpus().length - 1))
  }
  const port = worker
    ? Number(args.port)
    : (await new Promise((resolve) => child.once('message', resolve))).port
  const url = `http://127.0.0.1:${port}/`

  const nodeGet = (agent) =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume()
        res.on('end', resolve)
        res.on('error', reject)
      })
      req.on('error', reject)
    })
  const undiciGet = (dispatcher) => async () => {
    const res = await undici.request(url, { dispatcher })
    await res.body.text()
  }

  /**
   * Requests per second with `concurrency` loops each sending the next request as the previous completes, and the
   * client process's CPU per request (µs; user + system, the server runs in its own process).
   */
  async function measure(send, concurrency) {
    let count = 0
    const deadline = performance.now() + DURATION
    const started = performance.now()
    const cpu = process.cpuUsage()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          await send()
          count += 1
        }
      }),
    )
    const used = process.cpuUsage(cpu)
    return { rate: count / ((performance.now() - started) / 1000), cpuUs: (used.user + used.system) / count }
  }

  const makeClients = () => {
    const agent = ours.createAgent()
    const akl = new AgentKeepAlive()
    const nodeDefault = new http.Agent({ keepAlive: true, timeout: 5000 })
    const dispatcher = ours.createDispatcher(undefined, { undici })
    const plain = new undici.Agent()
    const nodeDefault2 = new http.Agent({ keepAlive: true, timeout: 5000 })
    const plain2 = new undici.Agent()
    return {
      clients: [
        ['@keepalive/http createAgent', () => nodeGet(agent)],
        ['agentkeepalive', () => nodeGet(akl)],
        ["Node's default agent", () => nodeGet(nodeDefault)],
        ['@keepalive/http createDispatcher', undiciGet(dispatcher)],
        [`plain undici ${undiciVersion} Agent`, undiciGet(plain)],
        ...(CONTROL
          ? [
              ["control: Node's default agent again", () => nodeGet(nodeDefault2)],
              [`control: plain undici ${undiciVersion} Agent again`, undiciGet(plain2)],
            ]
          : []),
      ],
      close: async () => {
        agent.destroy()
        akl.destroy()
        nodeDefault.destroy()
        nodeDefault2.destroy()
        await dispatcher.close()
        await plain.close()
        await plain2.close()
      },
    }
  }

  /**
   * One client measured in a fresh process (the isolated layout): warmed up for DURATION, then measured for DURATION.
   * The worker is this file run as `client`, against the parent's server.
   */
  const measureIsolated = (index, concurrency) =>
    new Promise((resolve, reject) => {
      const workerArgs = ['client', `--port=${port}`, `--client=${index}`, `--concurrency=${concurrency}`]
      workerArgs.push(`--duration=${DURATION}`, ...(undiciDir ? [`--undici=${undiciDir}`] : []))
      const w = fork(new URL(import.meta.url).pathname, workerArgs)
      let result
      w.once('message', (m) => {
        result = m
      })
      w.once('error', reject)
      w.once('exit', (code) => (result ? resolve(result) : reject(new Error(`client worker exited ${code}`))))
    })

  if (worker) {
    const { clients, close } = makeClients()
    const send = clients[Number(args.client)][1]
    const concurrency = Number(args.concurrency)
    await measure(send, concurrency)
    const result = await measure(send, concurrency)
    await close()
    process.send(result, () => process.exit(0))
    await new Promise(() => {})
  }

  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b)
    return sorted[Math.floor(sorted.length / 2)]
  }
  // Ours against each anchor, per round: both measured in the same round, a few seconds apart, so a ratio per round
  // cancels the machine's drift between rounds; the median of those ratios is the figure compared with the target.
  const PAIRS = [
    ['@keepalive/http createAgent', 'agentkeepalive'],
    ['@keepalive/http createAgent', "Node's default agent"],
    ['@keepalive/http createDispatcher', `plain undici ${undiciVersion} Agent`],
    ...(CONTROL
      ? [
          ["control: Node's default agent again", "Node's default agent"],
          [`control: plain undici ${undiciVersion} Agent again`, `plain undici ${undiciVersion} Agent`],
        ]
      : []),
  ]
  const results = {}
  const cpuPerRequest = {}
  const pairedRatios = {}
  for (const concurrency of [1, 50]) {
    const { clients, close } = makeClients()
    const samples = Object.fromEntries(clients.map(([name]) => [name, []]))
    if (LAYOUT === 'shared') {
      // Warm-up: sockets opened, JIT warm.
      for (const [, send] of clients) await measure(send, concurrency).catch(() => 0)
    }
    for (let round = 0; round < ROUNDS; round += 1) {
      for (let k = 0; k < clients.length; k += 1) {
        const index = (k + round) % clients.length
        const [name, send] = clients[index]
        samples[name].push(
          LAYOUT === 'shared' ? await measure(send, concurrency) : await measureIsolated(index, concurrency),
        )
      }
    }
    await close()
    for (const [name, values] of Object.entries(samples)) {
      results[`${name} | ${concurrency}`] = Math.round(median(values.map((v) => v.rate)))
      cpuPerRequest[`${name} | ${concurrency}`] = Number(median(values.map((v) => v.cpuUs)).toFixed(1))
    }
    for (const [a, b] of PAIRS) {
      const perRound = samples[a].map((v, i) => v.rate / samples[b][i].rate)
      pairedRatios[`${a} / ${b} | ${concurrency}`] = {
        median: Number(median(perRound).toFixed(3)),
        min: Number(Math.min(...perRound).toFixed(3)),
        max: Number(Math.max(...perRound).toFixed(3)),
      }
    }
  }
  child.kill()

  const line = (name, c) => results[`${name} | ${c}`]
  console.log(
    `Node ${process.version}, undici ${undiciVersion}, ${os.cpus().length} cores${PIN ? ' (server pinned to one)' : ''}, ${LAYOUT} layout, ${ROUNDS} rounds × ${DURATION} ms, median req/s`,
  )
  console.log('| client | req/s, 1 in flight | req/s, 50 in flight | client CPU µs/request, 1 | 50 |')
  console.log('|---|---:|---:|---:|---:|')
  const names = [...new Set(Object.keys(results).map((k) => k.split(' | ')[0]))]
  const cpu = (name, c) => cpuPerRequest[`${name} | ${c}`]
  for (const name of names) {
    console.log(`| ${name} | ${line(name, 1)} | ${line(name, 50)} | ${cpu(name, 1)} | ${cpu(name, 50)} |`)
  }
  console.log('')
  console.log('| req/s ratio, median of per-round ratios (min–max) | 1 in flight | 50 in flight |')
  console.log('|---|---:|---:|')
  for (const [a, b] of PAIRS) {
    const cell = (c) => {
      const r = pairedRatios[`${a} / ${b} | ${c}`]
      return `${r.median.toFixed(2)} (${r.min.toFixed(2)}–${r.max.toFixed(2)})`
    }
    console.log(`| ${a} / ${b} | ${cell(1)} | ${cell(50)} |`)
  }
  let stored = {}
  try {
    stored = JSON.parse(readFileSync(RESULTS, 'utf8'))
  } catch {}
  stored[LAYOUT === 'shared' ? process.version : `${process.version} ${LAYOUT}`] = {
    date: new Date().toISOString(),
    layout: LAYOUT,
    undici: undiciVersion,
    cpus: os.cpus().length,
    pinned: PIN,
    rounds: ROUNDS,
    durationMs: DURATION,
    reqPerSecond: results,
    clientCpuMicrosPerRequest: cpuPerRequest,
    pairedRatios,
  }
  writeFileSync(RESULTS, `${JSON.stringify(stored, null, 2)}\n`)
}

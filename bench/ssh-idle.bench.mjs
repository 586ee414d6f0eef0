// 1,000 idle SSH connections in one process, watched, against an ssh2 server in another process: the cost of
// keeping them alive with watchSsh versus ssh2's own client keepalive at the same detection time (see the
// "Benchmark" section of packages/ssh/README.md).
//
//   npx tsc -b packages/ssh && node --expose-gc bench/ssh-idle.bench.mjs
//   BENCH_N=1000 BENCH_FAST_S=30 BENCH_BALANCED_S=60 node --expose-gc bench/ssh-idle.bench.mjs   (the defaults)
//
// One file, three roles (fork + IPC): the orchestrator; `server` (ssh2 Server, its own keepalive off, counting every
// keepalive@openssh.com it receives); `client` (opens N connections, then measures while they sit idle). For each
// policy, a fresh client process per mode:
//   baseline — no keepalive at all (what the other two are measured against);
//   watchSsh — watchSsh(connection, policy), ssh2's own keepalive off;
//   ssh2     — ssh2's keepaliveInterval / keepaliveCountMax from sshClientOptions(policy), unwatched.
// Per mode: Timeout handles and heap (after gc) beyond the baseline's, CPU (user + system) of the client process over
// the idle window scaled to an hour, and keepalive requests the server received over the window scaled to an hour.
// Imports the built packages (packages/*/dist), as users run them.
import { fork } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

const role = process.argv[2] ?? 'orchestrator'
const {
  BENCH_N = '1000',
  BENCH_FAST_S = '30',
  BENCH_BALANCED_S = '60',
  BENCH_CONCURRENCY = '25',
  BENCH_POLICIES = 'fast,balanced',
} = process.env
const N = Number(BENCH_N)
const ssh2 = (await import('ssh2')).default

if (role === 'server') await server()
else if (role === 'client') await client()
else await orchestrate()

function serverKeepaliveCounter() {
  let count = 0
  return {
    debug(line) {
      if (line.endsWith('GLOBAL_REQUEST (keepalive@openssh.com)')) count++
    },
    get count() {
      return count
    },
  }
}

async function server() {
  const [hostKey, clientPublic] = JSON.parse(process.argv[3])
  const allowed = ssh2.utils.parseKey(clientPublic)
  const counter = serverKeepaliveCounter()
  const srv = new ssh2.Server(
    // ssh2's server keepalive (on by default, 15 s × 3) would ping the clients and its replies are life: off.
    { hostKeys: [hostKey], keepaliveInterval: 2 ** 31 - 1, debug: (line) => counter.debug(line) },
    (conn) => {
      conn.on('error', () => {})
      conn.on('authentication', (ctx) => {
        if (ctx.method !== 'publickey' || ctx.key.algo !== allowed.type) return ctx.reject(['publickey'])
        if (ctx.signature)
          return allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) ? ctx.accept() : ctx.reject()
        ctx.accept()
      })
    },
  )
  srv.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: srv.address().port }))
  process.on('message', (m) => {
    if (m.type === 'count') process.send({ type: 'count', count: counter.count })
  })
  process.on('disconnect', () => process.exit(0))
}

async function client() {
  const { mode, port, privateKey, policy, windowS } = JSON.parse(process.argv[3])
  const { watchSsh, sshClientOptions } = await import(
    new URL('../packages/ssh/dist/index.js', import.meta.url).href
  )
  const core = await import(new URL('../packages/core/dist/index.js', import.meta.url).href)
  // watchSsh@100ms: the same, with core's shared scheduler ticking every 100 ms instead of 10 ms (configureScheduler).
  if (mode === 'watchSsh@100ms') core.configureScheduler({ tickMs: 100 })
  const base = { host: '127.0.0.1', port, username: 'bench', privateKey, readyTimeout: 60_000 }
  const config = mode === 'ssh2' ? sshClientOptions(policy, base) : base
  const connections = []
  const watchers = []
  let deaths = 0
  const connectOne = () =>
    new Promise((resolve, reject) => {
      const c = new ssh2.Client()
      c.on('error', (e) => {
        deaths++
        reject(e)
      })
      c.once('ready', () => {
        if (mode.startsWith('watchSsh')) {
          const w = watchSsh(c, policy)
          w.on('dead', () => deaths++)
          watchers.push(w)
        }
        connections.push(c)
        resolve()
      })
      c.connect(config)
    })
  for (let i = 0; i < N; i += Number(BENCH_CONCURRENCY)) {
    await Promise.all(Array.from({ length: Math.min(Number(BENCH_CONCURRENCY), N - i) }, connectOne))
  }
  await new Promise((r) => setTimeout(r, 1000))
  globalThis.gc?.()
  globalThis.gc?.()
  const heap = process.memoryUsage()
  // Node timers: ref'd ones are listed by getActiveResourcesInfo (ssh2's setIntervals); core's scheduler is one
  // unref'd setTimeout, reported by schedulerInfo().
  const nodeTimers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  const info = core.schedulerInfo()
  const timers = nodeTimers + (info.timerArmed ? 1 : 0)
  process.send({ type: 'connected', heapUsed: heap.heapUsed, rss: heap.rss, timers, tickMs: info.tickMs })
  // The idle window: measured by the orchestrator between 'start' and our 'cpu'.
  await new Promise((resolve) => process.once('message', resolve))
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, windowS * 1000))
  const cpu = process.cpuUsage(cpu0)
  const elapsed = performance.now() - t0
  process.send({ type: 'cpu', cpuMs: (cpu.user + cpu.system) / 1000, elapsedMs: elapsed, deaths })
  for (const w of watchers) w.stop()
  for (const c of connections) c.destroy()
  setTimeout(() => process.exit(0), 200)
}

function child(args) {
  const p = fork(fileURLToPath(import.meta.url), args, { execArgv: ['--expose-gc'], stdio: 'inherit' })
  const queue = []
  const waiting = []
  p.on('message', (m) => (waiting.length ? waiting.shift()(m) : queue.push(m)))
  p.next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r)))
  return p
}

/** ssh2 1.17 makes about 1 ed25519 pair in 256 that it cannot parse (mscdex/ssh2#1390): draw such a pair again. */
function parsableKeyPair() {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519')
    if (
      !(ssh2.utils.parseKey(pair.private) instanceof Error) &&
      !(ssh2.utils.parseKey(pair.public) instanceof Error)
    )
      return pair
  }
}

async function orchestrate() {
  const hostKeys = parsableKeyPair()
  const clientKeys = parsableKeyPair()
  const srv = child(['server', JSON.stringify([hostKeys.private, clientKeys.public])])
  const { port } = await srv.next()
  const count = async () => {
    srv.send({ type: 'count' })
    return (await srv.next()).count
  }
  const { sshSettings, definePolicy, detectionTime } = await import(
    new URL('../packages/core/dist/index.js', import.meta.url).href
  )
  const runs = [
    ['fast', Number(BENCH_FAST_S), ['baseline', 'watchSsh', 'watchSsh@100ms', 'ssh2']],
    ['balanced', Number(BENCH_BALANCED_S), ['watchSsh', 'watchSsh@100ms', 'ssh2']],
  ]
  const rows = []
  let baseline
  const wanted = BENCH_POLICIES.split(',')
  for (const [policy, windowS, modes] of runs.filter(([p]) => wanted.includes(p))) {
    if (baseline === undefined && !modes.includes('baseline')) modes.unshift('baseline')
    for (const mode of modes) {
      const started = performance.now()
      const c = child([
        'client',
        JSON.stringify({ mode, port, privateKey: clientKeys.private, policy, windowS }),
      ])
      const connected = await c.next()
      const connectS = (performance.now() - started) / 1000
      const before = await count()
      c.send({ type: 'start' })
      const cpu = await c.next()
      const requests = (await count()) - before
      await new Promise((r) => c.once('exit', r))
      const perHour = 3_600_000 / cpu.elapsedMs
      const row = {
        policy,
        mode,
        n: N,
        windowS,
        connectS: +connectS.toFixed(1),
        timers: connected.timers,
        heapUsed: connected.heapUsed,
        rss: connected.rss,
        cpuMsPerHour: +(cpu.cpuMs * perHour).toFixed(0),
        keepalivesPerHour: +(requests * perHour).toFixed(0),
        deaths: cpu.deaths,
      }
      if (mode === 'baseline') baseline = row
      rows.push(row)
      console.error(`${policy} ${mode}: ${JSON.stringify(row)}`)
    }
  }
  srv.kill()

  const s = (p) => sshSettings(definePolicy(p))
  console.log(
    `\n${N} idle SSH connections in one process, ssh2 server in another; Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model}\n`,
  )
  console.log(
    '| policy (detection) | keepalive | ssh2 keepaliveInterval × CountMax | timers | heap per conn beyond baseline | CPU per idle hour (process) | keepalive requests per idle hour (per conn) |',
  )
  console.log('|---|---|---|---:|---:|---:|---:|')
  for (const r of rows) {
    const set = s(r.policy).client
    const settings = r.mode === 'ssh2' ? `${set.keepaliveInterval} ms × ${set.keepaliveCountMax}` : 'off'
    const heap = r.mode === 'baseline' ? '—' : `${((r.heapUsed - baseline.heapUsed) / N).toFixed(0)} B`
    console.log(
      `| ${r.policy} (${detectionTime(r.policy) / 1000} s) | ${r.mode} | ${settings} | ${r.timers} | ${heap} | ${(r.cpuMsPerHour / 1000).toFixed(1)} s | ${r.keepalivesPerHour} (${(r.keepalivesPerHour / N).toFixed(0)}) |`,
    )
  }
  // Merged by policy, so the policies can be run one at a time (each within the timing lock's ~5 minutes).
  const file = new URL('./results/ssh-idle.json', import.meta.url)
  let previous = {}
  try {
    previous = JSON.parse(readFileSync(file, 'utf8')).byPolicy ?? {}
  } catch {}
  for (const policy of new Set(rows.map((r) => r.policy))) {
    previous[policy] = {
      node: process.version,
      date: new Date().toISOString(),
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      rows: rows.filter((r) => r.policy === policy || r.mode === 'baseline'),
    }
  }
  writeFileSync(file, `${JSON.stringify({ byPolicy: previous }, null, 2)}\n`)
}

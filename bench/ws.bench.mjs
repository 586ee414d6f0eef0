// Idle WebSocket connections to one ws server: @keepalive/ws's watchWebSocketServer beside what users do today, the
// ws README's heartbeat recipe ("How to detect and close broken connections": one setInterval pinging every
// client, an isAlive flag reset by the pong), at the same worst-case detection time. See the "Benchmark" section
// of packages/ws/README.md and bench/README.md.
//
//   npx tsc -b packages/ws && node --expose-gc bench/ws.bench.mjs
//   BENCH_N=2000 BENCH_WINDOW_S=20 node --expose-gc bench/ws.bench.mjs        (the defaults)
//
// One file, three roles (fork + IPC): the orchestrator; `server` (a ws WebSocketServer in one of three modes);
// `clients` (opens connections and sits idle; answers pings as every ws client does). The recipe's one knob: a
// silent client is terminated one to two intervals after its last pong, so at a worst-case detection time D its
// interval is D / 2. The policy matches it ping for ping: idle 1250 ms (one ping per 1250 ms of silence, as the
// recipe's one ping per interval), interval 625 ms, 2 probes: D = 2.5 s. Modes, a fresh server and fresh clients each:
//   baseline       — no liveness at all (what the others are measured against);
//   watcher        — watchWebSocketServer(wss, policy), core's scheduler at its default 10 ms tick;
//   watcher@100ms  — the same with configureScheduler({ tickMs: 100 }): fewer wake-ups, deadlines ≤ 100 ms later;
//   recipe         — the README recipe, setInterval(1250 ms).
// Per mode, with N connections from two client processes (90 % "live", 10 % "victims"):
//   1. idle cost: server CPU (user + system) over an idle window, scaled to an hour; the live clients' CPU
//      likewise; pings per connection per hour; server heap per connection beyond the baseline (after gc);
//      Node Timeout handles listed by process.getActiveResourcesInfo();
//   2. detection: the victims' process is frozen (SIGSTOP); each death's time after that connection's last byte
//      (a tap on req.socket), p50 / p99 / max against the asked D;
//   3. false deaths, live client loop blocked 1 s (> interval, < D − idle): connections killed while alive;
//   4. false deaths, server loop stalled 3 s (> D): connections killed while alive.
// Imports the built packages (packages/*/dist), as users run them. Writes bench/results/ws.json.
import { fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

const role = process.argv[2] ?? 'orchestrator'
const {
  BENCH_N = '2000',
  BENCH_WINDOW_S = '20',
  BENCH_MODES = 'baseline,watcher,watcher@100ms,recipe',
} = process.env
const N = Number(BENCH_N)
const POLICY = { idle: 1250, interval: 625, probes: 2 }
const D = POLICY.idle + POLICY.interval * POLICY.probes
const RECIPE_INTERVAL = D / 2
const now = () => Number(process.hrtime.bigint()) / 1e6
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const { WebSocket, WebSocketServer } = await import('ws')

if (role === 'server') await server(process.argv[3])
else if (role === 'clients') await clients(Number(process.argv[3]), Number(process.argv[4]))
else await orchestrate()

async function server(mode) {
  const { watchWebSocketServer } = await import(new URL('../packages/ws/dist/index.js', import.meta.url).href)
  const core = await import(new URL('../packages/core/dist/index.js', import.meta.url).href)
  if (mode === 'watcher@100ms') core.configureScheduler({ tickMs: 100 })
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 4096 })
  const deaths = []
  const lastByte = new WeakMap()
  let pings = 0
  wss.on('connection', (ws, req) => {
    ws.on('error', () => {})
    lastByte.set(ws, now())
    req.socket.on('data', () => lastByte.set(ws, now()))
  })
  let watcher
  let interval
  if (mode.startsWith('watcher')) {
    watcher = watchWebSocketServer(wss, POLICY)
    watcher.on('dead', ({ ws }) => deaths.push(now() - lastByte.get(ws)))
  } else if (mode === 'recipe') {
    const alive = new WeakMap()
    wss.on('connection', (ws) => {
      alive.set(ws, true)
      ws.on('pong', () => alive.set(ws, true))
    })
    interval = setInterval(() => {
      for (const ws of wss.clients) {
        if (alive.get(ws) === false) {
          deaths.push(now() - lastByte.get(ws))
          ws.terminate()
          continue
        }
        alive.set(ws, false)
        ws.ping()
        pings++
      }
    }, RECIPE_INTERVAL)
  }
  const probes = () => (watcher !== undefined ? watcher.stats.probesTotal : pings)
  process.on('message', async (m) => {
    if (m.type === 'idle') {
      globalThis.gc?.()
      const heap = process.memoryUsage().heapUsed
      const timers = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
      const p0 = probes()
      const cpu0 = process.cpuUsage()
      await sleep(m.windowS * 1000)
      const cpu = process.cpuUsage(cpu0)
      process.send({
        type: 'idle',
        heap,
        timers,
        cpuMs: (cpu.user + cpu.system) / 1000,
        pings: probes() - p0,
        connections: wss.clients.size,
      })
    } else if (m.type === 'deaths') {
      process.send({ type: 'deaths', deaths: deaths.splice(0), connections: wss.clients.size })
    } else if (m.type === 'stall') {
      const end = now() + m.ms
      while (now() < end) {
        // The server's event loop is blocked: nothing is read, no timer runs.
      }
      process.send({ type: 'stalled' })
    } else if (m.type === 'stop') {
      clearInterval(interval)
      watcher?.stop()
      for (const ws of wss.clients) ws.terminate()
      wss.close(() => process.exit(0))
    }
  })
  wss.on('listening', () => process.send({ type: 'ready', port: wss.address().port }))
  process.on('disconnect', () => process.exit(0))
}

async function clients(port, count) {
  const sockets = []
  let open = 0
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`)
    ws.on('error', () => {})
    ws.on('open', () => open++)
    sockets.push(ws)
    if (i % 100 === 99) await sleep(20) // the accept backlog
  }
  while (open < count) await sleep(20)
  process.send({ type: 'open', count: open })
  process.on('message', (m) => {
    if (m.type === 'idle') {
      const cpu0 = process.cpuUsage()
      setTimeout(() => {
        const cpu = process.cpuUsage(cpu0)
        process.send({ type: 'idle', cpuMs: (cpu.user + cpu.system) / 1000 })
      }, m.windowS * 1000)
    } else if (m.type === 'block') {
      const end = now() + m.ms
      while (now() < end) {
        // The client's event loop is blocked: pings are read, and answered, only afterwards.
      }
      process.send({ type: 'blocked' })
    }
  })
  process.on('disconnect', () => process.exit(0))
}

function spawnRole(args) {
  // BENCH_PROF=<dir>: the server writes a CPU profile there (node --cpu-prof), to see where its time goes.
  const prof = args[0] === 'server' && BENCH_PROF !== '' ? ['--cpu-prof', `--cpu-prof-dir=${BENCH_PROF}`] : []
  const child = fork(fileURLToPath(import.meta.url), args, {
    execArgv: ['--expose-gc', ...prof],
    stdio: 'inherit',
  })
  const queue = []
  const waiters = []
  child.on('message', (m) => {
    const w = waiters.findIndex((x) => x.type === m.type)
    if (w >= 0) waiters.splice(w, 1)[0].resolve(m)
    else queue.push(m)
  })
  return {
    child,
    send: (m) => child.send(m),
    next(type) {
      const i = queue.findIndex((m) => m.type === type)
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0])
      return new Promise((resolve) => waiters.push({ type, resolve }))
    },
  }
}

function quantile(sorted, q) {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}

async function runMode(mode, windowS) {
  const srv = spawnRole(['server', mode])
  const { port } = await srv.next('ready')
  const victimsN = Math.round(N / 10)
  const live = spawnRole(['clients', String(port), String(N - victimsN)])
  await live.next('open')
  const victims = spawnRole(['clients', String(port), String(victimsN)])
  await victims.next('open')
  await sleep(3000) // settle: a few rounds of probes
  srv.send({ type: 'idle', windowS })
  live.send({ type: 'idle', windowS })
  const [idle, liveIdle] = await Promise.all([srv.next('idle'), live.next('idle')])
  const result = {
    mode,
    connections: idle.connections,
    heapBytes: idle.heap,
    nodeTimers: idle.timers,
    serverCpuMsPerHour: Math.round((idle.cpuMs / windowS) * 3600),
    liveClientsCpuMsPerHour: Math.round((liveIdle.cpuMs / windowS) * 3600),
    pingsPerConnectionPerHour: Math.round(((idle.pings / idle.connections / windowS) * 3600 * 10) / 10),
  }
  if (mode !== 'baseline') {
    // 2. detection: freeze the victims.
    srv.send({ type: 'deaths' })
    await srv.next('deaths') // discard anything before the freeze (there should be none)
    process.kill(victims.child.pid, 'SIGSTOP')
    await sleep(D + RECIPE_INTERVAL + 2000)
    srv.send({ type: 'deaths' })
    const { deaths } = await srv.next('deaths')
    const sorted = deaths.sort((a, b) => a - b)
    result.detection = {
      asked: D,
      dead: deaths.length,
      of: victimsN,
      p50: round(quantile(sorted, 0.5)),
      p99: round(quantile(sorted, 0.99)),
      max: round(sorted.at(-1)),
      min: round(sorted[0]),
    }
    process.kill(victims.child.pid, 'SIGKILL')
    await sleep(500)
    srv.send({ type: 'deaths' })
    await srv.next('deaths') // the victims' closes are not false deaths
    // 3. the live clients' loop blocked 1 s.
    live.send({ type: 'block', ms: 1000 })
    await live.next('blocked')
    await sleep(3000)
    srv.send({ type: 'deaths' })
    result.falseDeathsClientBlocked = (await srv.next('deaths')).deaths.length
    // 4. the server's loop stalled 3 s.
    srv.send({ type: 'stall', ms: 3000 })
    await srv.next('stalled')
    await sleep(3000)
    srv.send({ type: 'deaths' })
    const after = await srv.next('deaths')
    result.falseDeathsServerStalled = after.deaths.length
    result.liveLeft = after.connections
    result.liveOf = N - victimsN
  } else {
    victims.child.kill('SIGKILL')
  }
  srv.send({ type: 'stop' })
  live.child.kill('SIGKILL')
  await new Promise((resolve) => srv.child.once('exit', resolve))
  return result
}

function round(x) {
  return x === null || x === undefined ? null : Math.round(x * 10) / 10
}

async function orchestrate() {
  const windowS = Number(BENCH_WINDOW_S)
  const results = []
  for (const mode of BENCH_MODES.split(',')) {
    const r = await runMode(mode, windowS)
    console.log(JSON.stringify(r))
    results.push(r)
  }
  const base = results.find((r) => r.mode === 'baseline')
  if (base) {
    for (const r of results) {
      r.heapBytesPerConnection = Math.round((r.heapBytes - base.heapBytes) / r.connections)
      r.serverCpuMsPerHourBeyondBaseline = r.serverCpuMsPerHour - base.serverCpuMsPerHour
    }
  }
  const record = {
    bench: 'ws',
    node: process.version,
    date: new Date().toISOString(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model}`,
    n: N,
    windowS,
    policy: POLICY,
    detectionTime: D,
    recipeIntervalMs: RECIPE_INTERVAL,
    results,
  }
  writeFileSync(new URL('./results/ws.json', import.meta.url), `${JSON.stringify(record, null, 2)}\n`)
  console.table(
    results.map((r) => ({
      mode: r.mode,
      'server CPU ms/h': r.serverCpuMsPerHour,
      'clients CPU ms/h': r.liveClientsCpuMsPerHour,
      'pings/conn/h': r.pingsPerConnectionPerHour,
      'heap B/conn': r.heapBytesPerConnection,
      timers: r.nodeTimers,
      'detect p50': r.detection?.p50,
      'detect p99': r.detection?.p99,
      'detect max': r.detection?.max,
      'false deaths (client blocked)': r.falseDeathsClientBlocked,
      'false deaths (server stalled)': r.falseDeathsServerStalled,
    })),
  )
}

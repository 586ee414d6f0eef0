// The monitor under real load (issue #10), side by side with the hand-written baseline in the same run.
//
//   npx tsc -b packages/core
//   flock /work/locks/timing.lock node --expose-gc bench/monitor-scale.bench.mjs --policy=p1 --n=5000
//   flock /work/locks/timing.lock node --expose-gc bench/monitor-scale.bench.mjs --policy=p2 --n=5000
//
// A peer process (bench/monitor-scale-peer.mjs) answers `PING` with `PONG`. This process opens 2 × N
// connections to it: N watched by a monitor (probe = write a PING, touch on every chunk received), N by the
// baseline people write by hand (a `setTimeout` refreshed on every chunk, then a `setInterval` of probes,
// dead after `probes` unanswered), started pairwise at the same moments, so both see the same load.
// Lateness of a death = its time − (the last chunk's arrival, read in its `data` callback, + detectionTime):
// < 0 is an early death. A death of a connection whose peer still answers is a false death.
// Scenarios (`--scenarios=a,b`): live (false deaths, CPU and heap per connection: each kind alone),
// frozen-spread / frozen-step (10 % of the connections' peers stop answering; probes spread over `idle`,
// or all in step), stopped-spread / stopped-step (SIGSTOP of the whole peer), stalls-400 (10 % frozen,
// this process busy 400 ms every 3 s), stall-long (all live, one stall of detectionTime + 1 s).
// Writes bench/results/monitor-scale-<policy>.json and prints a markdown table.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { createInterface } from 'node:readline'

const core = await import(new URL('../packages/core/dist/index.js', import.meta.url).href)
const { createMonitor, definePolicy, detectionTime, schedulerInfo } = core

function option(name, fallback) {
  const found = process.argv.find((arg) => arg.startsWith(`--${name}=`))
  return found === undefined ? fallback : found.slice(name.length + 3)
}
const POLICIES = {
  p1: { idle: 1_000, interval: 500, probes: 3 },
  p2: { idle: 2_000, interval: 1_000, probes: 2 },
}
const POLICY_NAME = option('policy', 'p1')
const policy = definePolicy(POLICIES[POLICY_NAME])
const D = detectionTime(policy)
const N = Number(option('n', '5000'))
const ALL = [
  'live',
  'frozen-spread',
  'frozen-step',
  'stopped-spread',
  'stopped-step',
  'stalls-400',
  'stall-long',
]
const SCENARIOS = option('scenarios', ALL.join(',')).split(',')
const TICK = schedulerInfo().tickMs
const gc = globalThis.gc ?? (() => {})
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function busy(ms) {
  const end = performance.now() + ms
  while (performance.now() < end) {}
}

async function startPeer() {
  const peer = spawn(process.execPath, [new URL('./monitor-scale-peer.mjs', import.meta.url).pathname], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const port = await new Promise((resolve, reject) => {
    peer.once('exit', (code) => reject(new Error(`peer exited (${code})`)))
    createInterface({ input: peer.stdout }).once('line', (line) => resolve(Number(line)))
  })
  return { peer, port }
}

async function connectMany(port, count) {
  const sockets = []
  for (let i = 0; i < count; i += 500) {
    const batch = Array.from(
      { length: Math.min(500, count - i) },
      () =>
        new Promise((resolve, reject) => {
          const socket = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(socket))
          socket.once('error', reject)
        }),
    )
    sockets.push(...(await Promise.all(batch)))
  }
  for (const socket of sockets) socket.on('error', () => {})
  return sockets
}

/** A watched connection: `lastRx` is the arrival of the last chunk (read in its data callback). */
function connection(socket, kind, results) {
  const conn = { socket, kind, lastRx: performance.now(), frozen: false, dead: false, stop: () => {} }
  conn.onDead = () => {
    if (conn.dead) return
    conn.dead = true
    results.push({ conn, lateness: performance.now() - (conn.lastRx + D) })
    socket.destroy()
  }
  return conn
}

function watchWithMonitor(conn) {
  const m = createMonitor({ policy, probe: () => conn.socket.write('PING\n') })
  conn.socket.on('data', () => {
    conn.lastRx = performance.now()
    m.touch()
  })
  m.on('dead', conn.onDead)
  conn.stop = () => m.stop()
}

/** The hand-written baseline: a refreshed setTimeout, then a setInterval of probes. */
function watchWithTimers(conn) {
  let sent = 0
  let probing
  const timeout = setTimeout(() => {
    conn.socket.write('PING\n')
    sent = 1
    probing = setInterval(() => {
      if (sent >= policy.probes) {
        clearInterval(probing)
        conn.onDead()
        return
      }
      conn.socket.write('PING\n')
      sent++
    }, policy.interval)
  }, policy.idle)
  conn.socket.on('data', () => {
    conn.lastRx = performance.now()
    if (probing !== undefined) {
      clearInterval(probing)
      probing = undefined
    }
    sent = 0
    timeout.refresh()
  })
  conn.stop = () => {
    clearTimeout(timeout)
    clearInterval(probing)
  }
}

const WATCH = { monitor: watchWithMonitor, baseline: watchWithTimers }

function stats(rows, kind, expectedDeath) {
  const mine = rows.filter((r) => r.conn.kind === kind)
  const expected = mine.filter((r) => expectedDeath(r.conn)).map((r) => r.lateness)
  expected.sort((a, b) => a - b)
  const at = (p) =>
    expected.length === 0 ? null : expected[Math.min(expected.length - 1, Math.floor(p * expected.length))]
  return {
    deaths: expected.length,
    early: expected.filter((l) => l < 0).length,
    falseDeaths: mine.length - expected.length,
    p50: at(0.5),
    p99: at(0.99),
    max: expected.length === 0 ? null : expected[expected.length - 1],
    min: expected.length === 0 ? null : expected[0],
  }
}

async function start(conns, kinds, spread) {
  // Pairs (one connection of each kind) start at the same moment; spread = over `idle`, in 50 batches.
  const batches = spread ? 50 : 1
  const per = Math.ceil(conns.length / batches)
  for (let b = 0; b < batches; b++) {
    for (const conn of conns.slice(b * per, (b + 1) * per)) {
      conn.lastRx = performance.now()
      WATCH[conn.kind](conn)
    }
    if (spread) await sleep(policy.idle / batches)
  }
  void kinds
}

async function scenario(name, port, peer) {
  const rows = []
  const sockets = await connectMany(port, 2 * N)
  const conns = sockets.map((socket, i) => connection(socket, i % 2 === 0 ? 'monitor' : 'baseline', rows))
  const out = { scenario: name }
  const stopAll = () => {
    for (const c of conns) {
      c.stop()
      c.socket.destroy()
    }
  }
  try {
    if (name === 'live') {
      // Each kind alone for heap and CPU; both watch N live connections for 2 × detectionTime.
      for (const kind of ['baseline', 'monitor']) {
        const mine = conns.filter((c) => c.kind === kind)
        gc()
        gc()
        const heapBefore = process.memoryUsage().heapUsed
        for (const c of mine) {
          c.lastRx = performance.now()
          WATCH[kind](c)
        }
        gc()
        gc()
        const bytes = (process.memoryUsage().heapUsed - heapBefore) / N
        await sleep(policy.idle + 500) // every connection past its first probe
        const cpu0 = process.cpuUsage()
        const t0 = performance.now()
        await sleep(2 * D)
        const cpu = process.cpuUsage(cpu0)
        const seconds = (performance.now() - t0) / 1000
        const cpuMsPerConnHour = ((cpu.user + cpu.system) / 1000 / N / seconds) * 3600
        for (const c of mine) c.stop()
        out[kind] = {
          ...stats(rows, kind, () => false),
          bytesPerConnection: bytes,
          cpuMsPerConnectionHour: cpuMsPerConnHour,
        }
      }
      return out
    }
    const spread = !name.endsWith('-step')
    await start(conns, undefined, spread)
    await sleep(policy.idle + policy.interval) // steady state: everyone probed and answered at least once
    let expectedDeath = (c) => c.frozen
    let stallTimer
    if (name.startsWith('frozen') || name === 'stalls-400') {
      conns.forEach((c, i) => {
        if (i % 20 < 2) {
          c.frozen = true
          c.socket.write('FREEZE\n')
        }
      })
      if (name === 'stalls-400') stallTimer = setInterval(() => busy(400), 3_000)
    } else if (name.startsWith('stopped')) {
      peer.kill('SIGSTOP')
      expectedDeath = () => true
    } else if (name === 'stall-long') {
      busy(D + 1_000)
    }
    await sleep(D + 3 * policy.interval + 1_500)
    clearInterval(stallTimer)
    if (name.startsWith('stopped')) peer.kill('SIGCONT')
    for (const kind of ['monitor', 'baseline']) {
      const s = stats(rows, kind, expectedDeath)
      const shouldDie = conns.filter((c) => c.kind === kind && expectedDeath(c)).length
      out[kind] = { ...s, missed: shouldDie - s.deaths }
    }
    return out
  } finally {
    stopAll()
    await sleep(300)
  }
}

const { peer, port } = await startPeer()
const results = []
try {
  for (const name of SCENARIOS) {
    const r = await scenario(name, port, peer)
    results.push(r)
    console.error(JSON.stringify(r))
  }
} finally {
  peer.kill('SIGCONT')
  peer.kill('SIGKILL')
}

const fmt = (v) =>
  v === null || v === undefined
    ? '–'
    : typeof v === 'number'
      ? Number.isInteger(v)
        ? String(v)
        : v.toFixed(1)
      : String(v)
const lines = [
  `policy ${POLICY_NAME} = ${policy.idle} ms / ${policy.interval} ms / ${policy.probes} (detection ${D} ms), N = ${N} per kind, tick ${TICK} ms`,
  '',
  '| scenario | kind | deaths | early | false | late p50 / p99 / max (ms) | missed |',
  '|---|---|---:|---:|---:|---|---:|',
]
for (const r of results) {
  for (const kind of ['monitor', 'baseline']) {
    const s = r[kind]
    const extra =
      r.scenario === 'live'
        ? ` (${fmt(s.bytesPerConnection)} B, ${fmt(s.cpuMsPerConnectionHour)} ms CPU per connection-hour)`
        : ''
    lines.push(
      `| ${r.scenario}${extra} | ${kind} | ${s.deaths} | ${s.early} | ${s.falseDeaths} | ${fmt(s.p50)} / ${fmt(s.p99)} / ${fmt(s.max)} | ${fmt(s.missed)} |`,
    )
  }
}
console.log(lines.join('\n'))
writeFileSync(
  new URL(`./results/monitor-scale-${POLICY_NAME}.json`, import.meta.url),
  `${JSON.stringify({ node: process.version, date: new Date().toISOString(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadavg: os.loadavg(), policy, n: N, tickMs: TICK, results }, null, 2)}\n`,
)

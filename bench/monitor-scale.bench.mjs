// The monitor under real load (issue #10), side by side with the hand-written baseline in the same run.
//
//   npx tsc -b packages/core
//   flock /work/locks/timing.lock node --expose-gc bench/monitor-scale.bench.mjs --policy=p1 --n=5000
//   flock /work/locks/timing.lock node --expose-gc bench/monitor-scale.bench.mjs --policy=p2 --n=5000
//   flock /work/locks/timing.lock node --expose-gc bench/monitor-scale.bench.mjs --policy=p2 --n=5000 --layout=split
//
// A peer process (bench/monitor-scale-peer.mjs) answers `PING` with `PONG`. N connections are watched by a
// monitor (probe = write a PING, touch on every chunk received), N by the baseline people write by hand (a
// `setTimeout` refreshed on every chunk, then a `setInterval` of probes, dead after `probes` unanswered),
// started pairwise at the same moments. `--layout=shared` (default): both kinds in this one process, so each
// kind's callbacks and reads also delay the other's. `--layout=split`: each kind in its own client process
// (forked, driven over IPC), concurrently, against the same peer, with the freeze, the SIGSTOP and the
// stalls at the same instants: how a service would run either one.
// Lateness of a death = its time − (the last chunk's arrival, read in its `data` callback, + detectionTime):
// < 0 is an early death. A death of a connection whose peer still answers is a false death.
// Scenarios (`--scenarios=a,b`): live (false deaths, CPU and heap per connection: each kind alone),
// frozen-spread / frozen-step (10 % of the connections' peers stop answering; probes spread over `idle`,
// or all in step), stopped-spread / stopped-step (SIGSTOP of the whole peer), stalls-400 (10 % frozen,
// the client process busy 400 ms every 3 s, the first stall in the middle of the deaths; also reports, for the
// deaths whose deadline fell inside a stall, the time from the stall's end), stall-long (all live, one stall of
// detectionTime + 1 s).
// Other flags: --trace (stalls-400: what ran between each stall's end and the first deaths), --stall=<ms>,
// --core=<dist dir> (another build of @keepalive/core), --out=<file>.
// Writes bench/results/monitor-scale-<policy>[-split].json and prints a markdown table.
import { fork, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { createInterface } from 'node:readline'

function option(name, fallback) {
  const found = process.argv.find((arg) => arg.startsWith(`--${name}=`))
  return found === undefined ? fallback : found.slice(name.length + 3)
}
// `--core=<dir>`: another build of @keepalive/core (a dist directory) to measure instead of this checkout's.
const CORE = option('core', new URL('../packages/core/dist', import.meta.url).pathname)
const core = await import(new URL(`file://${CORE}/index.js`).href)
const { createMonitor, definePolicy, detectionTime, schedulerInfo } = core
// `--trace`: for stalls-400, a timeline of what runs between each stall's end and the deaths it delayed.
const TRACE = process.argv.includes('--trace')
const trace = {
  stalls: [],
  data: { monitor: [], baseline: [] },
  writes: { monitor: [], baseline: [] },
  runs: [],
}
if (TRACE) {
  const dc = await import('node:diagnostics_channel')
  dc.subscribe('keepalive:monitor:stall', () => {
    const now = performance.now()
    if (trace.runs.at(-1) !== now) trace.runs.push(now)
  })
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
// `--stall=<ms>`: the length of the periodic stalls of stalls-400 (a quick functional check: --stall=5).
const STALL_MS = Number(option('stall', '400'))
// `--repeat=<k>`: each scenario k times (each run as the others: fresh connections, and fresh client processes in the
// split layout); the table pools every run's deaths (see pool).
const REPEAT = Number(option('repeat', '1'))
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
    const at = performance.now()
    results.push({ conn, lateness: at - (conn.lastRx + D), at })
    socket.destroy()
  }
  return conn
}

function ping(conn) {
  if (TRACE) trace.writes[conn.kind].push(performance.now())
  return conn.socket.write('PING\n')
}

function watchWithMonitor(conn) {
  const m = createMonitor({ policy, probe: () => ping(conn) })
  conn.socket.on('data', () => {
    conn.lastRx = performance.now()
    if (TRACE) trace.data.monitor.push(conn.lastRx)
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
    ping(conn)
    sent = 1
    probing = setInterval(() => {
      if (sent >= policy.probes) {
        clearInterval(probing)
        conn.onDead()
        return
      }
      ping(conn)
      sent++
    }, policy.interval)
  }, policy.idle)
  conn.socket.on('data', () => {
    conn.lastRx = performance.now()
    if (TRACE) trace.data.baseline.push(conn.lastRx)
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

/** p50 / p99 / max (and min) of a list of ms values. */
function percentiles(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (p) =>
    sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
  return {
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.length === 0 ? null : sorted[sorted.length - 1],
    min: sorted.length === 0 ? null : sorted[0],
  }
}

function stats(rows, kind, expectedDeath) {
  const mine = rows.filter((r) => r.conn.kind === kind)
  const expectedRows = mine.filter((r) => expectedDeath(r.conn))
  const expected = expectedRows.map((r) => r.lateness)
  const times = mine.map((r) => r.at)
  // Each expected death's deadline: its last chunk's arrival + detectionTime (what the lateness counts from).
  const deadlines = expectedRows.map((r) => r.at - r.lateness)
  return {
    // When this kind's deaths began and ended (ms since the epoch, comparable across the processes of a split run).
    firstDeathEpoch: times.length === 0 ? null : performance.timeOrigin + Math.min(...times),
    lastDeathEpoch: times.length === 0 ? null : performance.timeOrigin + Math.max(...times),
    // When its deadlines began and ended: how densely its deaths were due, before any was handled.
    firstDeadlineEpoch: deadlines.length === 0 ? null : performance.timeOrigin + Math.min(...deadlines),
    lastDeadlineEpoch: deadlines.length === 0 ? null : performance.timeOrigin + Math.max(...deadlines),
    deaths: expected.length,
    early: expected.filter((l) => l < 0).length,
    falseDeaths: mine.length - expected.length,
    ...percentiles(expected),
    // Every expected death's lateness, for the statistics pooled over --repeat runs (not written to the results).
    samples: expected,
  }
}

/** Per stall: ms after its end of the first check phase, the monitor's late run, each kind's first death, and the data callbacks read before the monitor's first death. */
function timeline(rows) {
  return trace.stalls.map(({ start, end, check1 }) => {
    const after = (list) => list.find((t) => t >= end)
    const first = (kind) =>
      after(
        rows
          .filter((r) => r.conn.kind === kind)
          .map((r) => r.at)
          .sort((a, b) => a - b),
      )
    const m = first('monitor')
    const rel = (t) => (t === undefined ? null : Number((t - end).toFixed(2)))
    const count = (list, from, to) => list.filter((t) => t >= from && t < to).length
    return {
      stallMs: Number((end - start).toFixed(1)),
      check1: rel(check1),
      monitorRun: rel(after(trace.runs)),
      firstBaselineDeath: rel(first('baseline')),
      firstMonitorDeath: rel(m),
      dataBeforeCheck1: {
        monitor: count(trace.data.monitor, end, check1),
        baseline: count(trace.data.baseline, end, check1),
      },
      dataCheck1ToMonitorDeath:
        m === undefined
          ? null
          : {
              monitor: count(trace.data.monitor, check1, m),
              baseline: count(trace.data.baseline, check1, m),
            },
      // PINGs written between the stall's end and the monitor's first death (the monitor's are deferred past it).
      writesBeforeMonitorDeath:
        m === undefined
          ? null
          : { monitor: count(trace.writes.monitor, end, m), baseline: count(trace.writes.baseline, end, m) },
      deadlinesInStall: Object.fromEntries(
        ['monitor', 'baseline'].map((kind) => [
          kind,
          rows.filter((r) => r.conn.kind === kind && r.at - r.lateness >= start && r.at - r.lateness < end)
            .length,
        ]),
      ),
    }
  })
}

/**
 * The deaths whose deadline fell inside a stall, timed from the stall's end: what each kind adds after the
 * process resumes, whatever the random placement of the deadlines inside the stall (which decides most of their
 * lateness: a deadline at the stall's start is ~400 ms late for both kinds).
 */
function afterStall(rows, kind, stalls) {
  const values = []
  for (const r of rows) {
    if (r.conn.kind !== kind) continue
    const deadline = r.at - r.lateness
    const stall = stalls.find((st) => deadline >= st.start && deadline < st.end)
    if (stall !== undefined) values.push(r.at - stall.end)
  }
  const { p50, p99, max } = percentiles(values)
  return { deaths: values.length, p50, p99, max, samples: values }
}

/** Waits until local monotonic time `t` (ms, performance.now() base). */
async function until(t) {
  const wait = t - performance.now()
  if (wait > 0) await sleep(wait)
}

/** A moment both layouts agree on, as milliseconds since the epoch (sub-ms: performance's time origin). */
const epochNow = () => performance.timeOrigin + performance.now()

/** When, after the watchers start at `t0`, the peers freeze (or stop, or the process stalls), and when the scenario ends. */
function plan(name, t0) {
  const spread = !name.endsWith('-step')
  // Steady state first: everyone probed and answered at least once.
  const freezeAt = t0 + (spread ? policy.idle : 0) + policy.idle + policy.interval
  return { spread, freezeAt, endAt: freezeAt + D + 3 * policy.interval + 1_500 }
}

/**
 * One scenario in this process, for the connections of `kinds` (both in the shared layout, one in a client of
 * the split layout): `go()` resolves to the local time the watchers start at (both processes of a split run
 * get the same instant); `peerControl` stops and continues the peer (the coordinator's job in a split run).
 */
async function scenario(name, port, kinds, go, peerControl) {
  const rows = []
  const sockets = await connectMany(port, kinds.length * N)
  // Interleaved: pairs of one connection of each kind start at the same moment; `index` counts within a kind.
  const conns = sockets.map((socket, i) => {
    const conn = connection(socket, kinds[i % kinds.length], rows)
    conn.index = Math.floor(i / kinds.length)
    return conn
  })
  const out = { scenario: name }
  const stopAll = () => {
    for (const c of conns) {
      c.stop()
      c.socket.destroy()
    }
  }
  try {
    const t0 = await go()
    await until(t0)
    if (name === 'live') {
      // Each kind alone for heap and CPU; both watch N live connections for 2 × detectionTime.
      for (const kind of ['baseline', 'monitor'].filter((k) => kinds.includes(k))) {
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
        const t1 = performance.now()
        await sleep(2 * D)
        const cpu = process.cpuUsage(cpu0)
        const seconds = (performance.now() - t1) / 1000
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
    const { spread, freezeAt, endAt } = plan(name, t0)
    // Spread: 50 batches over `idle`; step: all in one tick, so probes go out in step.
    const batches = spread ? 50 : 1
    const per = Math.ceil(conns.length / batches)
    for (let b = 0; b < batches; b++) {
      await until(t0 + (b * policy.idle) / batches)
      for (const conn of conns.slice(b * per, (b + 1) * per)) {
        conn.lastRx = performance.now()
        WATCH[conn.kind](conn)
      }
    }
    await until(freezeAt)
    let expectedDeath = (c) => c.frozen
    const stallTimers = []
    const stalls = []
    if (name.startsWith('frozen') || name === 'stalls-400') {
      for (const c of conns) {
        if (c.index % 10 === 0) {
          c.frozen = true
          c.socket.write('FREEZE\n')
        }
      }
      if (name === 'stalls-400') {
        // Busy 400 ms every 3 s, at instants fixed from `freezeAt` (the same in both processes of a split run). The
        // frozen peers' deadlines fall within (freezeAt + D − idle, freezeAt + D] (each answered last within the idle
        // before the freeze): the first stall is centred on that window, so about 400 / idle of the deaths are due
        // inside it, at either policy (a first stall 3 s after the freeze came after every p1 death).
        for (let at = freezeAt + D - policy.idle / 2 - STALL_MS / 2; at < endAt; at += 3_000) {
          stallTimers.push(
            setTimeout(() => {
              const stall = { start: performance.now() }
              busy(STALL_MS)
              stall.end = performance.now()
              stalls.push(stall)
              if (TRACE) {
                trace.stalls.push(stall)
                setImmediate(() => {
                  stall.check1 = performance.now()
                })
              }
            }, at - performance.now()),
          )
        }
      }
    } else if (name.startsWith('stopped')) {
      peerControl?.stop()
      expectedDeath = () => true
    } else if (name === 'stall-long') {
      busy(D + 1_000)
    }
    await until(endAt)
    for (const timer of stallTimers) clearTimeout(timer)
    if (name.startsWith('stopped')) peerControl?.cont()
    if (TRACE && name === 'stalls-400') out.trace = timeline(rows)
    for (const kind of kinds) {
      const s = stats(rows, kind, expectedDeath)
      const shouldDie = conns.filter((c) => c.kind === kind && expectedDeath(c)).length
      out[kind] = { ...s, missed: shouldDie - s.deaths }
      if (name === 'stalls-400') out[kind].afterStall = afterStall(rows, kind, stalls)
    }
    return out
  } finally {
    stopAll()
    await sleep(300)
  }
}

/** A client of the split layout: one kind, driven by the coordinator over IPC. */
async function client() {
  const kind = option('kind', '')
  const name = option('scenario', '')
  const port = Number(option('port', '0'))
  const go = () =>
    new Promise((resolve) => {
      process.once('message', ({ goAt }) => resolve(goAt - performance.timeOrigin))
      process.send({ ready: true })
    })
  const out = await scenario(name, port, [kind], go, undefined)
  process.send({ result: out }, () => process.exit(0))
}

/** The split layout: each kind in its own client process, concurrently, same peer, same instants. */
async function splitScenario(name, port, peer) {
  const args = process.argv
    .slice(2)
    .filter((a) => !a.startsWith('--layout=') && !a.startsWith('--scenarios='))
  const clients = ['monitor', 'baseline'].map((kind) =>
    fork(
      new URL(import.meta.url).pathname,
      [...args, '--role=client', `--kind=${kind}`, `--scenario=${name}`, `--port=${port}`],
      {
        execArgv: process.execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    ),
  )
  const message = (child, key) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m[key] === undefined) return
        child.off('message', onMessage)
        resolve(m[key])
      }
      child.on('message', onMessage)
      child.once('exit', (code) => reject(new Error(`client exited (${code}) before sending ${key}`)))
    })
  try {
    await Promise.all(clients.map((c) => message(c, 'ready')))
    const goAt = epochNow() + 500
    const results = clients.map((c) => message(c, 'result'))
    for (const c of clients) c.send({ goAt })
    if (name.startsWith('stopped')) {
      const { freezeAt, endAt } = plan(name, goAt - performance.timeOrigin)
      await until(freezeAt)
      peer.kill('SIGSTOP')
      await until(endAt)
      peer.kill('SIGCONT')
    }
    const [m, b] = await Promise.all(results)
    const out = { scenario: name, monitor: m.monitor, baseline: b.baseline }
    if (m.trace !== undefined) out.trace = { monitor: m.trace, baseline: b.trace }
    return out
  } finally {
    for (const c of clients) if (c.exitCode === null) c.kill('SIGKILL')
  }
}

/** A result without the raw samples (each death's lateness), as printed and written. */
function withoutSamples(r) {
  const out = { ...r }
  for (const kind of ['monitor', 'baseline']) {
    if (r[kind] === undefined) continue
    const { samples, ...rest } = r[kind]
    if (rest.afterStall !== undefined) {
      const { samples: stallSamples, ...after } = rest.afterStall
      rest.afterStall = after
    }
    out[kind] = rest
  }
  return out
}

/**
 * A scenario's runs (--repeat) as one result: counts summed, p50 / p99 / max over every death of every run (a larger
 * sample of the same lateness, both kinds alike), each run's own p99 beside them, the deadline spans of the first run.
 */
function pool(runs) {
  if (runs.length === 1) return withoutSamples(runs[0])
  const out = { scenario: runs[0].scenario, runs: runs.length }
  for (const kind of ['monitor', 'baseline']) {
    const all = runs.map((r) => r[kind])
    const sum = (key) => (all[0][key] === undefined ? undefined : all.reduce((a, s) => a + s[key], 0))
    const mean = (key) => (all[0][key] === undefined ? undefined : sum(key) / all.length)
    const { samples, afterStall, ...first } = all[0]
    out[kind] = {
      ...first,
      deaths: sum('deaths'),
      early: sum('early'),
      falseDeaths: sum('falseDeaths'),
      missed: sum('missed'),
      ...percentiles(all.flatMap((s) => s.samples)),
      p99PerRun: all.map((s) => s.p99),
      bytesPerConnection: mean('bytesPerConnection'),
      cpuMsPerConnectionHour: mean('cpuMsPerConnectionHour'),
    }
    if (afterStall !== undefined) {
      const values = all.flatMap((s) => s.afterStall.samples)
      const { p50, p99, max } = percentiles(values)
      out[kind].afterStall = { deaths: values.length, p50, p99, max }
    }
  }
  return out
}

if (option('role', '') === 'client') {
  await client()
} else {
  const LAYOUT = option('layout', 'shared')
  if (LAYOUT !== 'shared' && LAYOUT !== 'split') throw new Error(`--layout is shared or split, got ${LAYOUT}`)
  const { peer, port } = await startPeer()
  const results = []
  try {
    for (const name of SCENARIOS) {
      const runs = []
      for (let run = 0; run < REPEAT; run++) {
        const r =
          LAYOUT === 'shared'
            ? await scenario(name, port, ['monitor', 'baseline'], async () => performance.now(), {
                stop: () => peer.kill('SIGSTOP'),
                cont: () => peer.kill('SIGCONT'),
              })
            : await splitScenario(name, port, peer)
        runs.push(r)
        console.error(JSON.stringify(withoutSamples(r)))
      }
      results.push(pool(runs))
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
    `policy ${POLICY_NAME} = ${policy.idle} ms / ${policy.interval} ms / ${policy.probes} (detection ${D} ms), N = ${N} per kind, tick ${TICK} ms, layout ${LAYOUT}${REPEAT > 1 ? `, ${REPEAT} runs per scenario pooled` : ''}`,
    '',
    `| scenario | kind | deaths | early | false | late p50 / p99 / max (ms) | missed |${REPEAT > 1 ? ' p99 of each run |' : ''}`,
    `|---|---|---:|---:|---:|---|---:|${REPEAT > 1 ? '---|' : ''}`,
  ]
  for (const r of results) {
    for (const kind of ['monitor', 'baseline']) {
      const s = r[kind]
      const extra =
        r.scenario === 'live'
          ? ` (${fmt(s.bytesPerConnection)} B, ${fmt(s.cpuMsPerConnectionHour)} ms CPU per connection-hour)`
          : ''
      lines.push(
        `| ${r.scenario}${extra} | ${kind} | ${s.deaths} | ${s.early} | ${s.falseDeaths} | ${fmt(s.p50)} / ${fmt(s.p99)} / ${fmt(s.max)} | ${fmt(s.missed)} |${REPEAT > 1 ? ` ${s.p99PerRun.map(fmt).join(', ')} |` : ''}`,
      )
    }
  }
  for (const r of results) {
    if (!r.scenario.endsWith('-step') || r.monitor.firstDeathEpoch === null) continue
    // In step, both kinds' deaths fall within a few ms: whose deaths were due first, and who handled its burst first?
    const zero = Math.min(r.monitor.firstDeadlineEpoch, r.baseline.firstDeadlineEpoch)
    const span = (k, what) =>
      `${fmt(r[k][`first${what}Epoch`] - zero)} to ${fmt(r[k][`last${what}Epoch`] - zero)} ms`
    lines.push(
      '',
      `${r.scenario}${REPEAT > 1 ? ' (run 1)' : ''}, ms after the first deadline of either kind (deadline = last chunk + detectionTime):`,
      `- deadlines: monitor ${span('monitor', 'Deadline')}, baseline ${span('baseline', 'Deadline')}`,
      `- deaths: monitor ${span('monitor', 'Death')}, baseline ${span('baseline', 'Death')}`,
    )
  }
  for (const r of results) {
    if (r.monitor.afterStall === undefined) continue
    lines.push(
      '',
      `${r.scenario}: deaths whose deadline fell inside a stall, ms from the stall's end, p50 / p99 / max:`,
    )
    for (const kind of ['monitor', 'baseline']) {
      const a = r[kind].afterStall
      lines.push(`- ${kind}: ${a.deaths} deaths, ${fmt(a.p50)} / ${fmt(a.p99)} / ${fmt(a.max)}`)
    }
  }
  console.log(lines.join('\n'))
  const file = option(
    'out',
    new URL(
      `./results/monitor-scale-${POLICY_NAME}${LAYOUT === 'split' ? '-split' : ''}.json`,
      import.meta.url,
    ).pathname,
  )
  writeFileSync(
    file,
    `${JSON.stringify({ node: process.version, date: new Date().toISOString(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadavg: os.loadavg(), layout: LAYOUT, policy, n: N, tickMs: TICK, repeat: REPEAT, results }, null, 2)}\n`,
  )
}

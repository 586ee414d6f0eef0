// What an idle connection costs a process (issue #22): wake-ups and CPU per hour of a process holding N connections
// watched three ways, side by side in one run, each in a fresh process of its own:
//   monitor   @keepalive/core's createMonitor, touch() on data (the built package, packages/core/dist)
//   timeout   one setTimeout(idle) per connection, refresh() on data: the hand-written baseline
//   interval  one setInterval(idle / 2) per connection checking a flag set on data: mqtt.js's way
// at N = 1, 100 and 10,000, for the fast, balanced and battery presets, in two modes:
//   idle      every peer silent but none due within the window (the window is cut to idle − 3 s where idle is shorter: the children settle ~2 s first)
//   traffic   every connection receives a 16-byte message every second (real loopback TCP from a peer process,
//             spread evenly over the second) and touches / refreshes / sets its flag
//
//   npx tsc -b packages/core && node bench/idle.bench.mjs
//   node bench/idle.bench.mjs --seconds=20 --n=1,10000 --policies=balanced,battery --modes=idle
//   node bench/idle.bench.mjs --seconds=10 --n=1000 --modes=traffic --rounds=5   (medians of 5 interleaved rounds)
//
// Wake-ups are counted at the event loop: the process's epoll_wait / epoll_pwait calls (one per loop iteration, the
// issue's count), counted by the kernel with `perf stat -e syscalls:sys_enter_epoll_wait,…_epoll_pwait -p <pid>`
// (tracepoints: no ptrace, so the count does not slow what it counts; needs Debian's linux-perf). The perf window
// opens 0.3 s before the measured window and closes just after it, the same for every kind. Beside it, the main
// thread's voluntary context switches (/proc/<pid>/task/<pid>/status; they include futex waits, so only a cross-check).
// CPU is the child's process.cpuUsage() (user + system, every thread) over the window. Writes bench/results/idle.json.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

const self = fileURLToPath(import.meta.url)
const arg = (name, fallback) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`))
  return found === undefined ? fallback : found.slice(name.length + 3)
}
const flag = (name) => process.argv.includes(`--${name}`)
const PRESETS = {
  fast: { idle: 5_000 },
  balanced: { idle: 30_000 },
  battery: { idle: 210_000 },
}

if (flag('child')) await child()
else if (flag('peer')) await peer()
else await main()

/** Wake-ups so far: voluntary context switches of the main (event loop) thread. */
function wakeUps(pid = process.pid) {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8')
  return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1])
}

/** The measured process: N connections watched by one kind, then one window measured on a line from stdin. */
async function child() {
  const kind = arg('kind')
  const n = Number(arg('n'))
  const policy = arg('policy')
  const port = Number(arg('port', '0'))
  const idle = PRESETS[policy].idle
  const noop = () => {}
  // Every kind loads the package, so the processes differ only in how they watch: loading it compiles code and grows
  // the heap, which later wakes the loop for V8's background GC work (the memory reducer) in any process that did.
  const { createMonitor } = await import(new URL('../packages/core/dist/index.js', import.meta.url).href)
  let onData
  if (kind === 'monitor') {
    onData = () => {
      const m = createMonitor({ policy, probe: () => m.touch() }) // a live peer answers at once
      return () => m.touch()
    }
  } else if (kind === 'timeout') {
    onData = () => {
      const t = setTimeout(noop, idle).unref()
      return () => t.refresh()
    }
  } else {
    onData = () => {
      let received = false
      setInterval(() => {
        if (!received) noop() // would send a ping
        received = false
      }, idle / 2).unref()
      return () => {
        received = true
      }
    }
  }
  const sockets = []
  for (let i = 0; i < n; i++) {
    const touch = onData()
    if (port === 0) continue
    const socket = net.connect(port, '127.0.0.1')
    socket.on('data', touch)
    sockets.push(socket)
    if (i % 500 === 499) await new Promise((resolve) => setTimeout(resolve, 20)) // the peer's accept backlog
  }
  await Promise.all(sockets.map((s) => (s.connecting ? new Promise((r) => s.once('connect', r)) : undefined)))
  // Let start-up settle: V8's compile and GC tasks posted back to the main thread wake the loop for about a second
  // after loading code. (Children run with --no-memory-reducer: otherwise V8 shrinks the heap ~8 s after start-up,
  // waking every kind ~50 times inside the window and drowning what the watching itself costs.)
  globalThis.gc?.()
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  process.stdout.write('ready\n')
  const line = await new Promise((resolve) => process.stdin.once('data', (d) => resolve(String(d))))
  const seconds = Number(line)
  process.stdin.pause()
  const cpu0 = process.cpuUsage()
  const w0 = wakeUps()
  const t0 = performance.now()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  const cpu = process.cpuUsage(cpu0)
  const result = {
    contextSwitches: wakeUps() - w0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    windowMs: performance.now() - t0,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
  // Stays until the parent has stopped counting (a second line), then exits (writing a --cpu-prof if asked).
  process.stdin.resume()
  process.stdin.once('data', () => process.exit(0))
}

/** The traffic peer: accepts connections and writes 16 bytes on each once a second, spread over the second. */
async function peer() {
  const sockets = []
  const server = net.createServer((s) => {
    s.on('error', () => {})
    sockets.push(s)
  })
  server.maxConnections = 20_000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', 511, resolve))
  process.stdout.write(`${server.address().port}\n`)
  const message = Buffer.alloc(16, 'x')
  let slice = 0
  setInterval(() => {
    // 100 slices a second; connection i is written in slice i mod 100: each connection once a second.
    for (let i = slice; i < sockets.length; i += 100) sockets[i].write(message)
    slice = (slice + 1) % 100
  }, 10)
}

function spawnNode(args) {
  return spawn(process.execPath, ['--expose-gc', '--no-memory-reducer', self, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
}

function firstLine(stream) {
  return new Promise((resolve) => {
    let text = ''
    const onData = (d) => {
      text += d
      const i = text.indexOf('\n')
      if (i !== -1) {
        stream.off('data', onData)
        resolve(text.slice(0, i))
      }
    }
    stream.on('data', onData)
  })
}

async function measure({ kind, n, policy, mode, seconds }) {
  let peerProcess
  let port = 0
  if (mode === 'traffic') {
    peerProcess = spawnNode(['--peer'])
    port = Number(await firstLine(peerProcess.stdout))
  }
  const c = spawnNode(['--child', `--kind=${kind}`, `--n=${n}`, `--policy=${policy}`, `--port=${port}`])
  await firstLine(c.stdout)
  // The loop's waits, counted by the kernel for the window (perf's syscall tracepoints: no ptrace, no slowdown).
  const counter = spawn(
    'perf',
    [
      'stat',
      '-x',
      ',',
      '-e',
      'syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait',
      '-p',
      String(c.pid),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let counted = ''
  counter.stderr.on('data', (d) => {
    counted += d
  })
  counter.on('error', () => {})
  await new Promise((resolve) => setTimeout(resolve, 300)) // attached
  c.stdin.write(`${seconds}\n`)
  const result = JSON.parse(await firstLine(c.stdout))
  counter.kill('SIGINT')
  await new Promise((resolve) => counter.once('close', resolve))
  c.kill()
  await new Promise((resolve) =>
    c.exitCode === null && c.signalCode === null ? c.once('exit', resolve) : resolve(),
  )
  const waits = [...counted.matchAll(/^(\d+),[^,]*,syscalls:sys_enter_epoll_p?wait/gm)]
  if (waits.length === 0) throw new Error(`perf stat counted nothing (is linux-perf installed?): ${counted}`)
  result.epollWaits = waits.reduce((sum, m) => sum + Number(m[1]), 0)
  peerProcess?.kill()
  const perHour = 3_600_000 / result.windowMs
  return {
    kind,
    n,
    policy,
    mode,
    seconds,
    ...result,
    wakeUps: result.epollWaits,
    wakeUpsPerHour: Math.round(result.epollWaits * perHour),
    cpuMsPerHour: Math.round(result.cpuMs * perHour),
  }
}

/** The median of each measured figure over a kind's rounds (with one round: that round). */
function medianRun(runs) {
  const median = (key) => {
    const sorted = runs.map((r) => r[key]).sort((a, b) => a - b)
    return sorted[Math.floor((sorted.length - 1) / 2)]
  }
  const row = { ...runs[0], rounds: runs.length }
  for (const key of ['wakeUps', 'contextSwitches', 'cpuMs', 'windowMs', 'wakeUpsPerHour', 'cpuMsPerHour']) {
    row[key] = median(key)
  }
  row.cpuMsEachRound = runs.map((r) => r.cpuMs)
  return row
}

async function main() {
  const seconds = Number(arg('seconds', '20'))
  const ns = arg('n', '1,100,1000,10000').split(',').map(Number)
  const policies = arg('policies', 'fast,balanced,battery').split(',')
  const modes = arg('modes', 'idle,traffic').split(',')
  const kinds = arg('kinds', 'monitor,timeout,interval').split(',')
  const rounds = Number(arg('rounds', '1'))
  const rows = []
  console.error(`idle cost: window ${seconds} s (idle mode: at most idle − 3 s), Node ${process.version}`)
  for (const mode of modes) {
    for (const policy of policies) {
      for (const n of ns) {
        // Idle mode: nothing may fall due inside the window.
        const window = mode === 'idle' ? Math.min(seconds, PRESETS[policy].idle / 1000 - 3) : seconds
        // Rounds interleave the kinds (monitor, timeout, interval, monitor, …), so a machine that gets busier or
        // quieter meanwhile weighs on each alike; each kind's figures are the medians of its rounds.
        const runs = new Map(kinds.map((kind) => [kind, []]))
        for (let round = 0; round < rounds; round++) {
          for (const kind of kinds) {
            const run = await measure({ kind, n, policy, mode, seconds: window })
            runs.get(kind).push(run)
            console.error(
              `  ${mode} ${policy} N=${n} ${kind}: ${run.wakeUps} epoll waits (${run.contextSwitches} context switches), ` +
                `${run.cpuMs.toFixed(1)} ms CPU in ${(run.windowMs / 1000).toFixed(1)} s → ${run.wakeUpsPerHour}/h, ${run.cpuMsPerHour} ms/h`,
            )
          }
        }
        for (const kind of kinds) rows.push(medianRun(runs.get(kind)))
      }
    }
  }
  // The targets, where the run covered them.
  const find = (kind, mode, policy, n) =>
    rows.find((r) => r.kind === kind && r.mode === mode && r.policy === policy && r.n === n)
  const targets = []
  for (const policy of ['balanced', 'battery']) {
    for (const n of [1, 10_000]) {
      const m = find('monitor', 'idle', policy, n)
      const t = find('timeout', 'idle', policy, n)
      if (m === undefined || t === undefined) continue
      targets.push({
        target: `idle ${policy} N=${n}: wake-ups ≤ 3 × baseline + 10, CPU ≤ 2 × baseline + 20 ms`,
        monitor: `${m.wakeUps} wake-ups, ${m.cpuMs.toFixed(1)} ms`,
        baseline: `${t.wakeUps} wake-ups, ${t.cpuMs.toFixed(1)} ms`,
        pass: m.wakeUps <= 3 * t.wakeUps + 10 && m.cpuMs <= 2 * t.cpuMs + 20,
      })
    }
  }
  for (const policy of policies) {
    const m = find('monitor', 'traffic', policy, 1_000)
    const t = find('timeout', 'traffic', policy, 1_000)
    if (m === undefined || t === undefined) continue
    targets.push({
      target: `traffic ${policy} N=1000: CPU per hour ≤ 1.1 × baseline`,
      monitor: `${m.cpuMsPerHour} ms/h`,
      baseline: `${t.cpuMsPerHour} ms/h`,
      pass: m.cpuMsPerHour <= 1.1 * t.cpuMsPerHour,
    })
  }
  console.table(
    rows.map((r) => ({
      mode: r.mode,
      policy: r.policy,
      N: r.n,
      kind: r.kind,
      'epoll waits': r.wakeUps,
      'ctx switches': r.contextSwitches,
      'CPU ms': r.cpuMs.toFixed(1),
      s: (r.windowMs / 1000).toFixed(1),
      'wake-ups/h': r.wakeUpsPerHour,
      'CPU ms/h': r.cpuMsPerHour,
    })),
  )
  for (const t of targets)
    console.error(`${t.pass ? 'PASS' : 'MISS'} ${t.target}: monitor ${t.monitor}, baseline ${t.baseline}`)
  const out = fileURLToPath(new URL('results/idle.json', import.meta.url))
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpus: os.cpus().length,
        seconds,
        rows,
        targets,
      },
      null,
      2,
    )}\n`,
  )
  console.error(`wrote ${out}`)
}

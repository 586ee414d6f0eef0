// The liveness monitor against the anchors, side by side in one run (see bench/README.md).
//
//   npx tsc -b packages/core && node --expose-gc bench/monitor.bench.mjs
//
// Measures code as users run it: the built package (packages/core/dist), not the TypeScript sources.
// 1. touch cost: 1,000,000 Node Timeouts (`refresh()`), retimers (`reschedule()`), plain objects storing a
//    cached timestamp, and monitors (`touch()`); median ns per operation over many rounds.
// 2. memory: heap bytes per idle object (heapUsed delta after gc / N).
// 3. expiry: 100,000 monitors with a short policy go silent; lateness of each `dead` against
//    last touch + detectionTime, in ms and in scheduler ticks.
// Writes bench/results/monitor.json.
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const retimer = require('retimer')
const core = await import(new URL('../packages/core/dist/index.js', import.meta.url).href)
const { createMonitor, definePolicy, detectionTime, schedulerInfo } = core

if (typeof globalThis.gc !== 'function') {
  console.error('Run with --expose-gc: node --expose-gc bench/monitor.bench.mjs')
  process.exit(1)
}

/** `--name=value` from the command line (for quick runs: --n=100000 --rounds=5 --expiring=10000). */
function option(name, fallback) {
  const found = process.argv.find((arg) => arg.startsWith(`--${name}=`))
  return found === undefined ? fallback : Number(found.slice(name.length + 3))
}

const N = option('n', 1_000_000)
const ROUNDS = option('rounds', 21)
const EXPIRING = option('expiring', 100_000)
const LONG = 3_600_000 // anchors' timeouts: never fire during the bench
const noop = () => {}

function gc() {
  globalThis.gc()
  globalThis.gc()
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** Creates N objects with `make` and measures heap bytes per object (heapUsed delta after gc / N). */
function populate(kind) {
  const items = new Array(N).fill(undefined) // the holder array is allocated before the baseline
  gc()
  const before = process.memoryUsage().heapUsed
  for (let i = 0; i < N; i++) items[i] = kind.make(i)
  gc()
  kind.items = items
  kind.bytesPerObject = (process.memoryUsage().heapUsed - before) / N
  kind.perRound = []
  console.error(`  ${kind.name}: ${kind.bytesPerObject.toFixed(0)} B/object`)
}

/**
 * Times `loop` over all N objects of each kind, ROUNDS times, the kinds taking turns within each round so
 * that noise from a shared machine hits them alike. Each kind has its own loop function, so every call
 * site stays monomorphic.
 */
function timeRounds(kinds) {
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of kinds) {
      const start = process.hrtime.bigint()
      kind.loop(kind.items)
      kind.perRound.push(Number(process.hrtime.bigint() - start) / N)
    }
  }
  for (const kind of kinds) {
    for (const item of kind.items) kind.dispose(item)
    kind.items = undefined
  }
  gc()
  return kinds.map((k) => ({
    name: k.name,
    nsPerOp: median(k.perRound),
    nsMin: Math.min(...k.perRound),
    bytesPerObject: k.bytesPerObject,
  }))
}

// The cached clock the baseline stores, as the monitor's scheduler does.
let cached = 0

function refreshAll(items) {
  for (let i = 0; i < items.length; i++) items[i].refresh()
}
function rescheduleAll(items) {
  for (let i = 0; i < items.length; i++) items[i].reschedule()
}
function storeAll(items) {
  // Reads the module-level cached value on every store, as touch() does.
  for (let i = 0; i < items.length; i++) items[i].t = cached
  cached++
}
function touchAll(items) {
  for (let i = 0; i < items.length; i++) items[i].touch()
}

class Stamp {
  constructor() {
    this.t = 0
  }
}

const balanced = 'balanced'

console.error(`touch and memory: ${N.toLocaleString('en')} objects each, ${ROUNDS} rounds`)
const kinds = [
  {
    name: 'Node Timeout + refresh()',
    make: () => setTimeout(noop, LONG).unref(),
    loop: refreshAll,
    dispose: (t) => clearTimeout(t),
  },
  {
    name: 'retimer + reschedule()',
    make: () => retimer(noop, LONG),
    loop: rescheduleAll,
    dispose: (t) => t.clear(),
  },
  { name: 'cached timestamp store', make: () => new Stamp(), loop: storeAll, dispose: () => {} },
  {
    name: 'monitor + touch()',
    make: () => createMonitor({ policy: balanced, probe: noop }),
    loop: touchAll,
    dispose: (m) => m.stop(),
  },
]
for (const kind of kinds) populate(kind)
const [timeout, retimerResult, baseline, monitor] = timeRounds(kinds)
// A monitor somebody listens to carries its listeners in a side object; measured on its own for memory.
const listened = {
  name: 'monitor with a dead listener',
  make: () => createMonitor({ policy: balanced, probe: noop }).on('dead', noop),
  loop: touchAll,
  dispose: (m) => m.stop(),
}
populate(listened)
const [withListener] = timeRounds([listened])
for (const r of [timeout, retimerResult, baseline, monitor, withListener]) {
  console.error(`  ${r.name}: ${r.nsPerOp.toFixed(1)} ns/op (min ${r.nsMin.toFixed(1)})`)
}

// Expiry: EXPIRING monitors created at once and touched every 20 ms; one batch after another falls
// silent over ~1 s, so deadlines spread the way real traffic does. Each records when it was last touched (after touch())
// and when `dead` arrived.
async function expiry(count) {
  const policy = definePolicy({ idle: 300, interval: 100, probes: 2 }) // detectionTime 500 ms
  const detection = detectionTime(policy)
  const tickMs = schedulerInfo().tickMs
  const lastTouch = new Float64Array(count)
  const deadAt = new Float64Array(count).fill(Number.NaN)
  let dead = 0
  let probes = 0
  let resolve
  const allDead = new Promise((r) => {
    resolve = r
  })
  const monitors = []
  for (let i = 0; i < count; i++) {
    const m = createMonitor({ policy, probe: () => probes++ })
    m.on('dead', () => {
      deadAt[i] = performance.now()
      if (++dead === count) resolve()
    })
    lastTouch[i] = performance.now()
    monitors.push(m)
  }
  // Every 20 ms, all monitors still "talking" are touched; then batch b falls silent after round b.
  const batches = 50
  const perBatch = Math.ceil(count / batches)
  for (let b = 0; b < batches; b++) {
    await new Promise((r) => setTimeout(r, 20))
    for (let i = b * perBatch; i < count; i++) {
      monitors[i].touch()
      lastTouch[i] = performance.now()
    }
  }
  const guard = setTimeout(() => resolve(), 10_000)
  await allDead
  clearTimeout(guard)
  const lateness = []
  for (let i = 0; i < count; i++) lateness.push(deadAt[i] - (lastTouch[i] + detection))
  const sorted = lateness.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  const ms = (p) => percentile(sorted, p)
  const result = {
    monitors: count,
    policy: { ...policy, detectionTimeMs: detection },
    tickMs,
    died: sorted.length,
    probesSent: probes,
    latenessMs: { min: sorted[0], p50: ms(50), p99: ms(99), max: sorted[sorted.length - 1] },
    latenessTicks: {
      min: sorted[0] / tickMs,
      p50: ms(50) / tickMs,
      p99: ms(99) / tickMs,
      max: sorted[sorted.length - 1] / tickMs,
    },
    early: sorted.filter((x) => x < 0).length,
    withinOneTick: sorted.filter((x) => x >= 0 && x <= tickMs).length,
  }
  console.error(
    `  expiry: p50 ${result.latenessMs.p50.toFixed(2)} ms, p99 ${result.latenessMs.p99.toFixed(2)} ms, ` +
      `min ${result.latenessMs.min.toFixed(2)} ms, max ${result.latenessMs.max.toFixed(2)} ms`,
  )
  return result
}

console.error(
  `expiry: ${EXPIRING.toLocaleString('en')} monitors going silent (after a warm-up round of a tenth)`,
)
// Warm-up: the first deaths of a process run interpreted code; a server that has run a while is warm.
await expiry(Math.ceil(EXPIRING / 10))
const expiryResult = await expiry(EXPIRING)

const fastest = Math.min(timeout.nsPerOp, retimerResult.nsPerOp)
const speedup = fastest / monitor.nsPerOp
const targets = {
  touchAtLeast7xCheaper: { speedup, pass: speedup >= 7 },
  atMost100BytesPerMonitor: { bytes: monitor.bytesPerObject, pass: monitor.bytesPerObject <= 100 },
  everyExpiryWithinOneTick: {
    p99Ticks: expiryResult.latenessTicks.p99,
    maxTicks: expiryResult.latenessTicks.max,
    early: expiryResult.early,
    pass: expiryResult.early === 0 && expiryResult.latenessTicks.max <= 1,
  },
}

const rows = [timeout, retimerResult, baseline, monitor, withListener].map((r) => ({
  what: r.name,
  'ns per touch': r.nsPerOp.toFixed(1),
  'bytes per object': r.bytesPerObject.toFixed(0),
  'vs fastest anchor': `${(fastest / r.nsPerOp).toFixed(1)}×`,
}))
console.table(rows)
const e = expiryResult
console.table([
  {
    what: `expiry lateness (${e.monitors.toLocaleString('en')} monitors, tick ${e.tickMs} ms)`,
    'p50 ms': e.latenessMs.p50.toFixed(2),
    'p99 ms': e.latenessMs.p99.toFixed(2),
    'max ms': e.latenessMs.max.toFixed(2),
    'min ms': e.latenessMs.min.toFixed(2),
    'p99 ticks': e.latenessTicks.p99.toFixed(2),
    early: e.early,
  },
])
for (const [name, t] of Object.entries(targets)) console.log(`${t.pass ? 'PASS' : 'MISS'} ${name}`)

const result = {
  date: new Date().toISOString(),
  node: process.version,
  v8: process.versions.v8,
  platform: `${process.platform} ${process.arch}`,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  n: N,
  rounds: ROUNDS,
  touch: { timeout, retimer: retimerResult, baseline, monitor, monitorWithListener: withListener },
  expiry: expiryResult,
  targets,
}
const out = fileURLToPath(new URL('./results/monitor.json', import.meta.url))
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
console.log(`wrote ${out}`)

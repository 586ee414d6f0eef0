// The liveness monitor against the anchors, side by side in one run (see bench/README.md).
//
//   npx tsc -b packages/core && node --expose-gc bench/monitor.bench.mjs
//
// Measures code as users run it: the built package (packages/core/dist), not the TypeScript sources.
// 1. touch cost: 1,000,000 Node Timeouts (`refresh()`), retimers (`reschedule()`), plain objects storing a
//    cached timestamp, and monitors (`touch()`); median ns per operation over many rounds.
// 2. memory: heap bytes per idle object (heapUsed delta after gc / N).
// 3. expiry: 100,000 monitors with a short policy go silent; lateness of each `dead` against its scheduled
//    deadline (handling) and against the real last touch + detectionTime (end-to-end), in ms and in ticks,
//    early deaths counted, and how long the scheduler's runs take during the bursts.
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
/**
 * `--before=<dir>`: another build of @keepalive/core (e.g. the previous commit's, built in a scratch
 * copy) whose `touch()` and memory are measured beside this one, in the same rounds.
 */
const BEFORE = process.argv.find((arg) => arg.startsWith('--before='))?.slice('--before='.length)
const before = BEFORE === undefined ? undefined : await import(new URL(`file://${BEFORE}/index.js`).href)
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
function touchAllBefore(items) {
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
if (before !== undefined) {
  kinds.push({
    name: `monitor + touch(), before (${BEFORE})`,
    make: () => before.createMonitor({ policy: balanced, probe: noop }),
    loop: touchAllBefore,
    dispose: (m) => m.stop(),
  })
}
for (const kind of kinds) populate(kind)
const [timeout, retimerResult, baseline, monitor, monitorBefore] = timeRounds(kinds)
if (monitorBefore !== undefined) {
  console.error(
    `  ${monitorBefore.name}: ${monitorBefore.nsPerOp.toFixed(1)} ns/op (min ${monitorBefore.nsMin.toFixed(1)})`,
  )
}
// A monitor somebody listens to carries its listeners in a side object; measured on its own for memory.
const listened = {
  name: 'monitor with a dead listener',
  make: () => createMonitor({ policy: balanced, probe: noop }).on('dead', noop),
  loop: touchAll,
  dispose: (m) => m.stop(),
}
populate(listened)
const [withListener] = timeRounds([listened])
// A monitor built from a plain policy object (the same object each time), the way most people write it: it
// shares the preset's tick policy by value, so it should cost what a preset's monitor costs (issue #22).
const literalPolicy = { idle: 30_000, interval: 10_000, probes: 3 }
const literal = {
  name: 'monitor from a policy literal',
  make: () => createMonitor({ policy: literalPolicy, probe: noop }),
  loop: touchAll,
  dispose: (m) => m.stop(),
}
populate(literal)
const [fromLiteral] = timeRounds([literal])
for (const r of [timeout, retimerResult, baseline, monitor, withListener, fromLiteral]) {
  console.error(`  ${r.name}: ${r.nsPerOp.toFixed(1)} ns/op (min ${r.nsMin.toFixed(1)})`)
}

// Expiry: EXPIRING monitors created at once and touched every 20 ms; one batch after another falls
// silent over ~1 s, so deadlines spread the way real traffic does. Each records when it was really last
// touched (performance.now() right after touch()), its scheduled deadline (`lastSeen` + detectionTime,
// read when `dead` arrives: the recorded touch bound the scheduler promises to honour) and when `dead`
// arrived. Probe calls are timestamped too, to measure how long each scheduler run takes.
async function expiry(count) {
  const policy = definePolicy({ idle: 300, interval: 100, probes: 2 }) // detectionTime 500 ms
  const detection = detectionTime(policy)
  const tickMs = schedulerInfo().tickMs
  const lastTouch = new Float64Array(count)
  const deadAt = new Float64Array(count).fill(Number.NaN)
  const deadline = new Float64Array(count).fill(Number.NaN)
  const probeAt = new Float64Array(count * policy.probes + count)
  let dead = 0
  let probes = 0
  let resolve
  const allDead = new Promise((r) => {
    resolve = r
  })
  const monitors = []
  const probe = () => {
    probeAt[probes++] = performance.now()
  }
  for (let i = 0; i < count; i++) {
    const m = createMonitor({ policy, probe })
    m.on('dead', () => {
      deadAt[i] = performance.now()
      deadline[i] = m.lastSeen + detection
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
    // The load is every touch; the clock is read only for batch b, whose last touch this is (reading it
    // 100,000 times would add ~5 ms of measurement to each round and to the touches' uncertainty).
    const silentEnd = Math.min(count, (b + 1) * perBatch)
    for (let i = b * perBatch; i < silentEnd; i++) {
      monitors[i].touch()
      lastTouch[i] = performance.now()
    }
    for (let i = silentEnd; i < count; i++) monitors[i].touch()
  }
  const guard = setTimeout(() => resolve(), 10_000)
  await allDead
  clearTimeout(guard)
  const handling = [] // dead − scheduled deadline (recorded touch bound + detectionTime)
  const endToEnd = [] // dead − (real last touch + detectionTime)
  for (let i = 0; i < count; i++) {
    if (Number.isNaN(deadAt[i])) continue
    handling.push(deadAt[i] - deadline[i])
    endToEnd.push(deadAt[i] - (lastTouch[i] + detection))
  }
  // Scheduler runs: every probe and death, in time order, split where nothing happened for 1 ms.
  const events = [
    ...probeAt.subarray(0, Math.min(probes, probeAt.length)),
    ...deadAt.filter((t) => !Number.isNaN(t)),
  ]
  events.sort((a, b) => a - b)
  const runs = []
  let start = events[0]
  let n = 1
  for (let k = 1; k <= events.length; k++) {
    if (k === events.length || events[k] - events[k - 1] > 1) {
      runs.push({ ms: events[k - 1] - start, events: n })
      start = events[k]
      n = 0
    }
    n++
  }
  const busiest = runs.reduce((a, b) => (b.events > a.events ? b : a), runs[0])
  const bigRuns = runs.filter((r) => r.events >= busiest.events / 2).map((r) => r.ms)
  const result = {
    monitors: count,
    policy: { ...policy, detectionTimeMs: detection },
    tickMs,
    died: handling.length,
    probesSent: probes,
    handling: summary(handling, tickMs),
    endToEnd: summary(endToEnd, tickMs),
    runs: {
      count: runs.length,
      busiestEvents: busiest.events,
      busiestMs: busiest.ms,
      burstRunMs: summary(bigRuns, 1).ms,
      usPerEventInBusiest: (busiest.ms * 1000) / busiest.events,
    },
  }
  const h = result.handling.ms
  const e = result.endToEnd.ms
  console.error(
    `  handling: p50 ${h.p50.toFixed(2)} p99 ${h.p99.toFixed(2)} max ${h.max.toFixed(2)} ms, early ${result.handling.early}; ` +
      `end-to-end: p50 ${e.p50.toFixed(2)} p99 ${e.p99.toFixed(2)} max ${e.max.toFixed(2)} ms, early ${result.endToEnd.early}; ` +
      `busiest run ${busiest.events} events in ${busiest.ms.toFixed(2)} ms`,
  )
  return result
}

/** p50/p99/max/min in ms and in ticks, plus how many were early (< 0) and how many within one tick. */
function summary(values, tickMs) {
  const sorted = [...values].sort((a, b) => a - b)
  const ms = {
    min: sorted[0],
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  }
  const ticks = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, v / tickMs]))
  return {
    ms,
    ticks,
    early: sorted.filter((x) => x < 0).length,
    withinOneTick: sorted.filter((x) => x >= 0 && x <= tickMs).length,
  }
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
  everyExpiryHandledWithinOneTick: {
    p99Ticks: expiryResult.handling.ticks.p99,
    maxTicks: expiryResult.handling.ticks.max,
    pass: expiryResult.handling.early === 0 && expiryResult.handling.ticks.max <= 1,
  },
  neverEarly: {
    earlyHandling: expiryResult.handling.early,
    earlyEndToEnd: expiryResult.endToEnd.early,
    pass: expiryResult.handling.early === 0 && expiryResult.endToEnd.early === 0,
  },
}

const rows = [timeout, retimerResult, baseline, monitor, withListener, fromLiteral].map((r) => ({
  what: r.name,
  'ns per touch': r.nsPerOp.toFixed(1),
  'bytes per object': r.bytesPerObject.toFixed(0),
  'vs fastest anchor': `${(fastest / r.nsPerOp).toFixed(1)}×`,
}))
console.table(rows)
const e = expiryResult
const latenessRow = (what, r) => ({
  what,
  'p50 ms': r.ms.p50.toFixed(2),
  'p99 ms': r.ms.p99.toFixed(2),
  'max ms': r.ms.max.toFixed(2),
  'min ms': r.ms.min.toFixed(2),
  'p50 ticks': r.ticks.p50.toFixed(2),
  'p99 ticks': r.ticks.p99.toFixed(2),
  'max ticks': r.ticks.max.toFixed(2),
  early: r.early,
})
console.log(`expiry: ${e.monitors.toLocaleString('en')} monitors, tick ${e.tickMs} ms`)
console.table([
  latenessRow('handling: dead − (lastSeen + detectionTime)', e.handling),
  latenessRow('end-to-end: dead − (real last touch + detectionTime)', e.endToEnd),
])
console.log(
  `scheduler runs during the bursts: busiest ${e.runs.busiestEvents} probes+deaths in ${e.runs.busiestMs.toFixed(2)} ms ` +
    `(${e.runs.usPerEventInBusiest.toFixed(2)} µs each); burst runs p50 ${e.runs.burstRunMs.p50.toFixed(2)} ms, ` +
    `max ${e.runs.burstRunMs.max.toFixed(2)} ms`,
)
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
  touch: {
    timeout,
    retimer: retimerResult,
    baseline,
    monitor,
    monitorWithListener: withListener,
    monitorFromPolicyLiteral: fromLiteral,
    monitorBefore,
  },
  expiry: expiryResult,
  targets,
}
const out = fileURLToPath(new URL('./results/monitor.json', import.meta.url))
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
console.log(`wrote ${out}`)

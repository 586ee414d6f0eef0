/**
 * The one scheduler every monitor shares: a hashed timing wheel driven by ONE unref'd `setTimeout`.
 *
 * Shape. `SLOT_COUNT` slots, one per tick, each a circular doubly-linked list threaded through the entries
 * themselves (`next`/`prev` fields, no arrays, no per-entry allocation). An entry due at tick `t` sits in
 * slot `t & SLOT_MASK`; entries due further away than one revolution (SLOT_COUNT ticks: 20 s at the default
 * tick) sit in the same slot and are skipped until their round comes. Linking and unlinking are O(1).
 *
 * The tick. The timer fires every `tickMs` (default 10 ms) while any monitor exists, on a fixed grid
 * (origin + k × tick) so that it never drifts. A fixed grid is what makes `touch()` cheap and exact:
 * a run refreshes `stamp`, the tick of the NEXT planned run, and `touch()` stores it. Every touch made
 * between two runs happened before the next run, so `stamp` is an upper bound of its real time: deadlines
 * computed from it are never early, and at most one tick late. 10 ms keeps that error at or below 0.2 % of
 * the shortest preset's detection time (fast: 8 s) while a wake-up costs microseconds; `configureScheduler`
 * takes a coarser tick for processes that would rather wake less (battery-powered clients).
 *
 * Deadlines are compared, not counted: each run reads the monotonic clock, derives the current tick from
 * it, and processes every entry due at or before that tick, however many ticks were skipped. If the timer
 * fires late (GC pause, blocked event loop, suspended machine), touches made after the planned time were
 * recorded under the old `stamp`. Every run therefore records how late it retired the stamp it replaces,
 * exactly, in a ring indexed by tick (`touchBoundMs`: the true upper bound of such a touch, in ms). Whoever
 * declares death waits for that bound's tick in the wheel, then compares the fresh clock against the bound
 * + detection time; a run that is short of it by a fraction of a tick hands the entry to `deferMs`, a
 * sub-tick timer that re-fires it when the bound has passed. So a death is never declared early, and no
 * ~1 ms late timer costs a whole tick. Beyond timer noise (max(2 ms, tick / 4)) a run also records a
 * whole-tick correction (`correctedTick`) that outlives the ring, and monitors read `runLateByMs` to
 * re-probe instead of declaring death on the strength of a stall alone.
 */
import { monotonicNow, tickDiff, wrapTick } from './clock.js'

/** What the wheel holds. Monitors implement it; `fire` runs when the entry's tick `due` has come. */
export interface TimerEntry {
  due: number
  next: TimerEntry | null
  prev: TimerEntry | null
  fire(): void
}

/** A list head: a sentinel entry whose `next`/`prev` close the circle. */
class Slot implements TimerEntry {
  due = 0
  next: TimerEntry = this
  prev: TimerEntry = this
  fire(): void {}
}

/** Default tick. */
export const DEFAULT_TICK_MS = 10
const SLOT_COUNT = 2048
const SLOT_MASK = SLOT_COUNT - 1
/** Corrections kept at most: one per late run, over the longest detection time in use (see `noteCorrection`). */
const MAX_CORRECTIONS = 4096

let tickMs = DEFAULT_TICK_MS
/** Monotonic ms of absolute tick 0 of the current session (a session lasts while any monitor exists). */
let origin = 0
/** Absolute tick of the next planned run. */
let plannedTick = 0
/** Absolute tick up to which slots have been swept. */
let sweptTick = 0
/** Monitors registered (running), not entries linked: the timer lives exactly while this is above 0. */
let active = 0
let timer: ReturnType<typeof setTimeout> | undefined
let running = false
let slots: Slot[] | undefined
/** Holds a slot's entries while they are processed, so entries can unlink themselves or others safely. */
const pending = new Slot()
/** Entries waiting a fraction of a tick (see `deferMs`), fired by a sub-tick run at `soonAt`. */
const soon = new Slot()
/** Monotonic ms at which the earliest deferred entry is due; Infinity while `soon` is empty. */
let soonAt = Number.POSITIVE_INFINITY

/**
 * Lateness of the run that retired each stamp, for `touchBoundMs`. Exact for the last RING_SIZE stamps:
 * `ringLateMs[t & RING_MASK]` is how many ms after tick `t`'s grid time the stamp `t` was replaced
 * (touches stored as `t` happened before that), valid when `ringTick[t & RING_MASK] === t`. Older stamps
 * (detection times beyond 40 s at the default tick) use their correction if the run was late beyond the
 * noise, else the largest lateness of their block of 2^BLOCK_SHIFT ticks (a correction dropped by the
 * cap is folded into its block), kept as far back as RING_SIZE blocks (2.9 h at the default tick): an
 * upper bound that is still sub-millisecond on an idle machine. Beyond that, the noise bound. 96 KB per process, allocated with the wheel.
 */
const RING_SIZE = 4096
const RING_MASK = RING_SIZE - 1
const BLOCK_SHIFT = 8
let ringLateMs: Float64Array | undefined
let ringTick: Int32Array | undefined
let blockLateMs: Float64Array | undefined
let blockId: Int32Array | undefined

/**
 * What `touch()` stores: the wrapped tick of the next planned run. Until that run, "now" is before it,
 * so the stored value is an upper bound of the real time of the touch.
 */
export let stamp = 0

/** During a run (and after it, until the next one): the wrapped current tick, from the fresh clock. */
export let runTick = 0
/** The fresh monotonic time read by the current (or last) run. */
export let runNowMs = 0
/** How late the current (or last) run fired, in ms, against its planned grid time. */
export let runLateByMs = 0

/** Late runs: wrapped stamp touches stored before the run → wrapped tick that bounds them from above. */
const corrections = new Map<number, number>()
/** The longest death deadline (in ticks) any monitor may wait for: corrections older than that are useless. */
let horizonTicks = 0

/** The current tick length in ms. */
export function currentTickMs(): number {
  return tickMs
}

export interface SchedulerOptions {
  /** Tick length in ms: an integer from 1 to 1000. Default 10. */
  tickMs?: number
}

export interface SchedulerInfo {
  /** Tick length in ms. */
  readonly tickMs: number
  /** Monitors running (neither dead nor stopped). */
  readonly monitors: number
  /** Whether the one shared timer is armed. */
  readonly timerArmed: boolean
}

/** Changes the tick. Only while no monitor runs (a running wheel cannot change its unit); returns false otherwise. */
export function setTickMs(ms: number): boolean {
  if (active > 0) return false
  tickMs = ms
  return true
}

export function schedulerInfo(): SchedulerInfo {
  return { tickMs, monitors: active, timerArmed: timer !== undefined }
}

/** Lets the scheduler know how far back a death deadline can reach, so it keeps stall corrections that long. */
export function extendHorizon(ticks: number): void {
  if (ticks > horizonTicks) horizonTicks = ticks
}

/** A monitor starts: the first one starts the session and its timer. */
export function acquire(): void {
  if (active++ > 0 || running) return
  origin = monotonicNow()
  plannedTick = 1
  sweptTick = 0
  stamp = 1
  runTick = 0
  runNowMs = origin
  runLateByMs = 0
  corrections.clear()
  if (slots === undefined) slots = Array.from({ length: SLOT_COUNT }, () => new Slot())
  if (ringTick === undefined || blockId === undefined) {
    ringLateMs = new Float64Array(RING_SIZE)
    ringTick = new Int32Array(RING_SIZE)
    blockLateMs = new Float64Array(RING_SIZE)
    blockId = new Int32Array(RING_SIZE)
  }
  // Stamps of an earlier session must not validate: tick numbers restart at 1.
  ringTick.fill(-1)
  blockId.fill(-1)
  soonAt = Number.POSITIVE_INFINITY
  arm()
}

/** A monitor stopped or died: the last one clears the timer, so nothing keeps running behind the user. */
export function release(): void {
  if (--active > 0) return
  active = 0
  if (timer !== undefined) {
    clearTimeout(timer)
    timer = undefined
  }
}

/** Links `entry` to fire at wrapped tick `due`. The entry must not be linked. */
export function link(entry: TimerEntry, due: number): void {
  entry.due = due
  appendTo((slots as Slot[])[due & SLOT_MASK] as Slot, entry)
}

/** Appends an unlinked `entry` at the tail of `list` (a wheel slot or the `soon` list). */
function appendTo(list: Slot, entry: TimerEntry): void {
  const last = list.prev
  entry.prev = last
  entry.next = list
  last.next = entry
  list.prev = entry
}

/** Unlinks `entry` if linked. */
export function unlink(entry: TimerEntry): void {
  const prev = entry.prev
  if (prev === null) return
  const next = entry.next as TimerEntry
  prev.next = next
  next.prev = prev
  entry.next = null
  entry.prev = null
}

/** Monotonic ms of a wrapped tick of this session (the tick's start on the grid). */
export function tickToMs(tick: number): number {
  return origin + (sweptTick + tickDiff(tick, wrapTick(sweptTick))) * tickMs
}

/**
 * The tick that bounds from above a touch stored as `tick`: `tick` itself, unless the run after it fired
 * so late that touches made while the process was stalled were stored with it.
 */
export function correctedTick(tick: number): number {
  return corrections.get(tick) ?? tick
}

/**
 * Monotonic ms that bounds from above the real time of a touch stored as `tick`: when the run that
 * replaced that stamp fired (the stamp is not yet replaced: its planned grid time, the best known bound).
 * Exact for stamps retired within the last RING_SIZE ticks; older ones get a coarser bound (see the ring).
 */
export function touchBoundMs(tick: number): number {
  if (tick === stamp) return tickToMs(tick)
  const at = tickToMs(tick)
  const i = tick & RING_MASK
  if ((ringTick as Int32Array)[i] === tick) return at + ((ringLateMs as Float64Array)[i] as number)
  const corrected = corrections.get(tick)
  if (corrected !== undefined) return tickToMs(corrected)
  const block = tick >> BLOCK_SHIFT
  const b = block & RING_MASK
  if ((blockId as Int32Array)[b] === block) return at + ((blockLateMs as Float64Array)[b] as number)
  return at + lateNoiseMs()
}

/** The wrapped tick whose grid time is at or before monotonic `ms` (the wheel's slot for a ms deadline). */
export function tickAtMs(ms: number): number {
  // A hair of tolerance so a grid time computed in floating point lands on its own tick, not the one before.
  return wrapTick(Math.floor((ms - origin) / tickMs + 1e-9))
}

/**
 * Fires `entry` again `ms` from the current run's clock (`runNowMs`), sooner than the next tick: for a death
 * whose wheel tick has come while the fresh clock is still short of its exact deadline (`touchBoundMs`).
 * The entry must not be linked; `fire` decides again (and may defer again).
 */
export function deferMs(entry: TimerEntry, ms: number): void {
  const at = runNowMs + ms
  if (at < soonAt) soonAt = at
  entry.due = runTick
  appendTo(soon, entry)
}

function arm(): void {
  let at = origin + plannedTick * tickMs
  if (soonAt < at) at = soonAt
  const delay = at - monotonicNow()
  // Node's timers count whole milliseconds from the loop's cached time, so they may fire a little early
  // or late against performance.now(); `run` re-arms when early and measures how late it is.
  timer = setTimeout(run, delay > 1 ? Math.ceil(delay) : 1)
  timer.unref()
}

function run(): void {
  timer = undefined
  const now = monotonicNow()
  const tick = Math.floor((now - origin) / tickMs)
  if (tick < plannedTick) {
    // Early for the grid: either Node's whole-ms timer rounding, or the sub-tick run of deferred entries.
    // The tick, the stamp and the run's lateness stay those of the last grid run.
    if (soon.next === soon || now < soonAt) {
      arm()
      return
    }
    running = true
    runNowMs = now
    try {
      sweepSoon()
    } finally {
      running = false
      if (active > 0 && timer === undefined) arm()
    }
    return
  }
  running = true
  runNowMs = now
  runLateByMs = now - (origin + plannedTick * tickMs)
  runTick = wrapTick(tick)
  const before = stamp
  stamp = wrapTick(tick + 1)
  // Touches stored with `before` may have happened up to now, `runLateByMs` after the tick they name.
  // Beyond timer noise, their upper bound becomes the new stamp (a whole tick, for the wheel); within it,
  // the exact lateness is kept for `touchBoundMs`.
  const i = before & RING_MASK
  ;(ringTick as Int32Array)[i] = before
  ;(ringLateMs as Float64Array)[i] = runLateByMs
  if (runLateByMs > lateNoiseMs()) {
    noteCorrection(before, stamp)
    noteBlockLateness(before, 0)
  } else {
    noteBlockLateness(before, runLateByMs)
  }
  const from = Math.max(sweptTick + 1, tick - SLOT_MASK)
  sweptTick = tick
  try {
    sweepSoon()
    for (let t = from; t <= tick; t++) sweep((slots as Slot[])[t & SLOT_MASK] as Slot)
  } finally {
    running = false
    if (active > 0 && timer === undefined) {
      plannedTick = tick + 1
      arm()
    }
  }
}

/** Keeps the largest small lateness of `tick`'s block (0 when a correction covers it; see noteCorrection). */
function noteBlockLateness(tick: number, late: number): void {
  const block = tick >> BLOCK_SHIFT
  const b = block & RING_MASK
  const ids = blockId as Int32Array
  const lates = blockLateMs as Float64Array
  if (ids[b] !== block) {
    ids[b] = block
    lates[b] = late
  } else if (late > (lates[b] as number)) {
    lates[b] = late
  }
}

/** Lateness (ms) below which a run counts as on time for the record of touches: max(2 ms, tick / 4). */
function lateNoiseMs(): number {
  return Math.max(2, tickMs / 4)
}

function noteCorrection(from: number, to: number): void {
  corrections.set(from, to)
  // Drop what no deadline can reach any more (older than the longest detection time), and cap the map:
  // under a lag that never ends, the oldest corrections go first.
  for (const [oldFrom, oldTo] of corrections) {
    const reachable = tickDiff(to, oldTo) <= horizonTicks + SLOT_COUNT
    if (reachable && corrections.size <= MAX_CORRECTIONS) break
    // Dropped by the cap while a deadline may still need it: its block's bound takes it over, never early.
    if (reachable) raiseBlockLateness(oldFrom, tickDiff(oldTo, oldFrom) * tickMs)
    corrections.delete(oldFrom)
  }
}

/** Raises the lateness of `tick`'s block to `late`, if that block is still the one the ring holds. */
function raiseBlockLateness(tick: number, late: number): void {
  const block = tick >> BLOCK_SHIFT
  const b = block & RING_MASK
  const lates = blockLateMs as Float64Array
  if ((blockId as Int32Array)[b] === block && late > (lates[b] as number)) lates[b] = late
}

/**
 * Moves every entry of a non-empty `list` onto `pending` (emptying `list`), so the caller can take entries off
 * `pending` one at a time: `fire` may unlink any entry (stop from a listener) or link new ones into `list`,
 * and neither disturbs that loop.
 */
function moveToPending(list: Slot): void {
  const first = list.next
  const last = list.prev
  pending.next = first
  pending.prev = last
  first.prev = pending
  last.next = pending
  list.next = list
  list.prev = list
}

/** Fires every entry of `slot` whose tick has come; leaves the others (a later round) in place. */
function sweep(slot: Slot): void {
  if (slot.next === slot) return
  moveToPending(slot)
  const now = runTick
  while (pending.next !== pending) {
    const entry = pending.next
    unlink(entry)
    if (tickDiff(entry.due, now) > 0) link(entry, entry.due)
    else fireSafely(entry)
  }
}

/** Fires every deferred entry (each decides again, and may defer again: into a fresh `soon` list). */
function sweepSoon(): void {
  soonAt = Number.POSITIVE_INFINITY
  if (soon.next === soon) return
  moveToPending(soon)
  while (pending.next !== pending) {
    const entry = pending.next
    unlink(entry)
    fireSafely(entry)
  }
}

/** Monitors catch their own errors; this is the last line that keeps one bad entry from stopping the wheel. */
function fireSafely(entry: TimerEntry): void {
  try {
    entry.fire()
  } catch (error) {
    process.nextTick(rethrow, error)
  }
}

function rethrow(error: unknown): never {
  throw error
}

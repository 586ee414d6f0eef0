/**
 * The one scheduler every monitor shares: a hashed timing wheel driven by ONE unref'd `setTimeout`, and
 * the clock it stamps touches with.
 *
 * Invariants:
 * - `stamp` (what `touch()` stores) is a tick not yet retired: every touch stored as tick `t` happened
 *   before `t` was retired, and `touchBoundMs(t)` is that moment (the tick's grid time + the recorded
 *   lateness of its retirement). Deadlines are computed from that upper bound, so they are never early.
 * - The stamp is retired by every run AND by every answer a monitor handles (`refreshStamp`: the answer
 *   path reads the clock anyway), so touches made while the loop reads a burst of replies are bounded
 *   by the next answer read, not by the next (late) run.
 * - Deadlines are compared with the clock, not counted. A verdict reached in a run that fired late (the
 *   loop was busy: replies may sit unread) is confirmed in the check phase of the same loop iteration
 *   (`confirmAfterPoll`), after the poll phase has read them.
 *
 * Shape. `SLOT_COUNT` slots, one per tick, each a circular doubly-linked list threaded through the entries
 * themselves (`next`/`prev` fields, no per-entry allocation). An entry due at tick `t` sits in slot
 * `t & SLOT_MASK`; entries due further away than one revolution are skipped until their round comes.
 * The timer fires on a fixed grid (origin + k × tick) while any monitor exists. A session (origin, tick
 * numbers) starts with the first monitor and ends with the last; the next monitor starts a fresh one.
 *
 * Time is kept in small integers (V8 Smis: no boxing, so `touch()` stays a plain store): tick numbers wrap
 * at 2^30 and are compared through `tickDiff`, exact while two ticks are less than 2^29 apart. Monitors
 * refuse a policy whose detection time exceeds `MAX_TRACKED_TICKS` (2^28 ticks: 31 days at the default
 * tick), which leaves as much again for a stall.
 */

/** Monotonic milliseconds. Looked up on the global each call so fake timers that replace `performance` apply. */
export function monotonicNow(): number {
  return performance.now()
}

/** Tick numbers live in [0, 2^30). */
const TICK_MASK = 0x3fffffff
/** The longest detection time, in ticks, a monitor may have (see the header). */
export const MAX_TRACKED_TICKS = 2 ** 28

/** An absolute tick count (any non-negative safe integer) to its stored, wrapped form. */
export function wrapTick(tick: number): number {
  // `&` works on ToInt32(tick), which keeps the low 32 bits: exactly what wrapping needs.
  return tick & TICK_MASK
}

/** a − b for wrapped ticks, as a signed number in [−2^29, 2^29). */
export function tickDiff(a: number, b: number): number {
  return ((a - b) << 2) >> 2
}

/** What the wheel holds. Monitors implement it. */
export interface TimerEntry {
  due: number
  next: TimerEntry | null
  prev: TimerEntry | null
  /** The entry's tick `due` has come (or its sub-tick wait is over). */
  fire(): void
  /** The check phase after a late verdict (see `confirmAfterPoll`). */
  confirm(): void
}

/** A list head: a sentinel entry whose `next`/`prev` close the circle. */
class Slot implements TimerEntry {
  due = 0
  next: TimerEntry = this
  prev: TimerEntry = this
  fire(): void {}
  confirm(): void {}
}

/** Default tick. */
export const DEFAULT_TICK_MS = 10
const SLOT_COUNT = 2048
const SLOT_MASK = SLOT_COUNT - 1
/** Corrections kept at most: one per late run, over the longest detection time in use (see `noteCorrection`). */
const MAX_CORRECTIONS = 4096

let tickMs = DEFAULT_TICK_MS
/** Sessions started so far: a run or check that sees it change stops (its entries belong to no monitor). */
let session = 0
/** Monotonic ms of absolute tick 0 of the current session. */
let origin = 0
/** Absolute tick of the next planned run. */
let plannedTick = 0
/** Absolute tick of `stamp`. */
let stampTick = 0
/** Absolute tick up to which slots have been swept. */
let sweptTick = 0
/** Monitors registered (running), not entries linked: the timer lives exactly while this is above 0. */
let active = 0
let timer: ReturnType<typeof setTimeout> | undefined
let slots: Slot[] | undefined
/** Holds a list's entries while they are processed, so entries can unlink themselves or others safely. */
const pending = new Slot()
/** Entries waiting a fraction of a tick (see `deferMs`), fired by a sub-tick run at `soonAt`. */
const soon = new Slot()
/** Monotonic ms at which the earliest deferred entry is due; Infinity while `soon` is empty. */
let soonAt = Number.POSITIVE_INFINITY
/** Verdicts waiting for the check phase (see `confirmAfterPoll`). */
const confirming = new Slot()
let immediate: ReturnType<typeof setImmediate> | undefined
/** Called after each run has fired every due entry (see `onSweepEnd`). */
let sweepEnd: () => void = () => {}
/** Monotonic ms when the scheduler's own last piece of work (a run, a check) ended. */
let busyUntil = 0

/**
 * Lateness of the retirement of each stamp, for `touchBoundMs`. Exact for the last RING_SIZE stamps:
 * `ringLateMs[t & RING_MASK]` is how many ms after tick `t`'s grid time the stamp `t` was replaced,
 * valid when `ringTick[t & RING_MASK] === t`. Older stamps (detection times beyond 40 s at the default
 * tick) use their correction if the retirement was late beyond the noise, else the largest lateness of
 * their block of 2^BLOCK_SHIFT ticks (a correction dropped by the cap is folded into its block), kept as
 * far back as RING_SIZE blocks (2.9 h at the default tick). Beyond that, the noise bound. 96 KB per process.
 */
const RING_SIZE = 4096
const RING_MASK = RING_SIZE - 1
const BLOCK_SHIFT = 8
let ringLateMs: Float64Array | undefined
let ringTick: Int32Array | undefined
let blockLateMs: Float64Array | undefined
let blockId: Int32Array | undefined

/** What `touch()` stores: a wrapped tick not yet retired (see the header). */
export let stamp = 0

/** During a run (and after it, until the next one): the wrapped current tick, from the fresh clock. */
export let runTick = 0
/** The fresh monotonic time read by the current (or last) run or check. */
export let runNowMs = 0
/** How late the current (or last) run fired, in ms, against its planned time. */
export let runLateByMs = 0
/**
 * The part of `runLateByMs` the process spent outside the scheduler's own work (the previous run or
 * check, e.g. sending thousands of probes): a stall of the process, not of the scheduler.
 */
export let stallByMs = 0

/** Late retirements: wrapped stamp → wrapped tick that bounds its touches from above. */
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

/**
 * Changes the tick. Only while no monitor runs (a running wheel cannot change its unit); returns false
 * otherwise. Between the last monitor's end and the next monitor (even inside a `dead` listener, during a
 * run) it is safe: the next monitor starts a new session with the new tick.
 */
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

/** A monitor starts: the first one starts a session and its timer. */
export function acquire(): void {
  if (active++ > 0) return
  session++
  origin = monotonicNow()
  plannedTick = 1
  stampTick = 1
  sweptTick = 0
  stamp = 1
  runTick = 0
  runNowMs = origin
  runLateByMs = 0
  stallByMs = 0
  busyUntil = origin
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
  if (timer !== undefined) clearTimeout(timer)
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

/**
 * Sets the function called at the end of each run, once every due entry has fired: monitors send the probes
 * they decided on there, so that in a tick where thousands of probes and deaths fall together, every death
 * is declared before the first probe is written.
 */
export function onSweepEnd(fn: () => void): void {
  sweepEnd = fn
}

/** Links `entry` to fire at wrapped tick `due`. The entry must not be linked. */
export function link(entry: TimerEntry, due: number): void {
  entry.due = due
  appendTo((slots as Slot[])[due & SLOT_MASK] as Slot, entry)
}

/** Appends an unlinked `entry` at the tail of `list` (a wheel slot, `soon` or `confirming`). */
function appendTo(list: Slot, entry: TimerEntry): void {
  const last = list.prev
  entry.prev = last
  entry.next = list
  last.next = entry
  list.prev = entry
}

/** Unlinks `entry` if linked (from the wheel, `soon` or `confirming`). */
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
 * Retires the stamp if the clock (`now`, freshly read) has reached its grid time: records how late that
 * is, and moves `stamp` to the first tick after `now`. Called by every run and by every answer a
 * monitor handles; cheap when there is nothing to retire.
 */
export function refreshStamp(now: number): void {
  const grid = origin + stampTick * tickMs
  if (now < grid) return
  const late = now - grid
  const before = stamp
  const next = Math.floor((now - origin) / tickMs) + 1
  const i = before & RING_MASK
  ;(ringTick as Int32Array)[i] = before
  ;(ringLateMs as Float64Array)[i] = late
  stampTick = next
  stamp = wrapTick(next)
  // Beyond timer noise, the bound also becomes a whole-tick correction that outlives the ring.
  if (late > lateNoiseMs()) {
    noteCorrection(before, stamp)
    noteBlockLateness(before, 0)
  } else {
    noteBlockLateness(before, late)
  }
}

/**
 * The tick to store for a sign of life whose time is known (`now`, just read by the caller): the tick
 * `now` falls in, already retired (the stamp is refreshed first), with its recorded lateness raised to
 * cover `now`. `touchBoundMs` of it is then `now` itself (or a later retirement of the same tick), however
 * late the next run will be.
 */
export function exactStamp(now: number): number {
  refreshStamp(now)
  const abs = stampTick - 1
  const tick = wrapTick(abs)
  const late = now - (origin + abs * tickMs)
  const i = tick & RING_MASK
  const ticks = ringTick as Int32Array
  const lates = ringLateMs as Float64Array
  if (ticks[i] !== tick) {
    ticks[i] = tick
    lates[i] = late
  } else if (late > (lates[i] as number)) {
    lates[i] = late
  }
  noteBlockLateness(tick, late)
  return tick
}

/**
 * Monotonic ms that bounds from above the real time of a touch stored as `tick`: when that stamp was
 * retired; for the current stamp, its grid time (callers refresh the stamp first, so that is in the
 * future). Exact for stamps retired within the last RING_SIZE ticks; older ones get a coarser bound.
 */
export function touchBoundMs(tick: number): number {
  const at = tickToMs(tick)
  if (tickDiff(tick, stamp) >= 0) return at
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

/** The wrapped tick whose grid time is at or after monotonic `ms`. */
export function tickAfterMs(ms: number): number {
  return wrapTick(Math.ceil((ms - origin) / tickMs - 1e-9))
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

/**
 * Calls `entry.confirm()` in the check phase of this loop iteration (`setImmediate`), i.e. after the poll
 * phase has read whatever arrived while the loop was busy. The entry must not be linked; anything that
 * unlinks it (an answer, `stop`) cancels the confirmation.
 */
export function confirmAfterPoll(entry: TimerEntry): void {
  entry.due = runTick
  appendTo(confirming, entry)
  if (immediate === undefined) {
    immediate = setImmediate(check)
    immediate.unref()
  }
}

/** Lateness (ms) below which a run counts as on time: max(2 ms, tick / 4). */
export function lateNoiseMs(): number {
  return Math.max(2, tickMs / 4)
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
  const current = session
  if (tick < plannedTick) {
    // Early for the grid: either Node's whole-ms timer rounding, or the sub-tick run of deferred entries.
    // The tick and the run's lateness stay those of the last grid run.
    if (soon.next === soon || now < soonAt) {
      arm()
      return
    }
    runNowMs = now
    // The grid lateness stays the last grid run's; the window since the scheduler's own last work is this run's.
    stallByMs = now - Math.max(soonAt, busyUntil)
    try {
      refreshStamp(now)
      sweepSoon(current)
      sweepEnd()
    } finally {
      busyUntil = monotonicNow()
      if (current === session && active > 0 && timer === undefined) arm()
    }
    return
  }
  runNowMs = now
  const planned = origin + plannedTick * tickMs
  runLateByMs = now - planned
  stallByMs = now - Math.max(planned, busyUntil)
  runTick = wrapTick(tick)
  refreshStamp(now)
  const from = Math.max(sweptTick + 1, tick - SLOT_MASK)
  sweptTick = tick
  try {
    sweepSoon(current)
    for (let t = from; t <= tick && current === session; t++) {
      sweep((slots as Slot[])[t & SLOT_MASK] as Slot, current)
    }
    // Deaths waiting for the check phase go first there too: the probes follow them (see `check`).
    if (confirming.next === confirming) sweepEnd()
  } finally {
    busyUntil = monotonicNow()
    if (current === session && active > 0 && timer === undefined) {
      plannedTick = tick + 1
      arm()
    }
  }
}

/** The check phase after a late verdict: answers read by the poll phase have unlinked theirs; the rest die, then the run's probes go out. */
function check(): void {
  immediate = undefined
  if (active === 0) return
  const now = monotonicNow()
  const current = session
  runNowMs = now
  refreshStamp(now)
  try {
    if (confirming.next !== confirming) {
      moveToPending(confirming)
      while (pending.next !== pending && current === session) {
        const entry = pending.next
        unlink(entry)
        try {
          entry.confirm()
        } catch (error) {
          process.nextTick(rethrow, error)
        }
      }
    }
    if (current === session) sweepEnd()
  } finally {
    busyUntil = monotonicNow()
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
function sweep(slot: Slot, current: number): void {
  if (slot.next === slot) return
  moveToPending(slot)
  const now = runTick
  while (pending.next !== pending && current === session) {
    const entry = pending.next
    unlink(entry)
    if (tickDiff(entry.due, now) > 0) link(entry, entry.due)
    else fireSafely(entry)
  }
}

/** Fires every deferred entry (each decides again, and may defer again: into a fresh `soon` list). */
function sweepSoon(current: number): void {
  soonAt = Number.POSITIVE_INFINITY
  if (soon.next === soon) return
  moveToPending(soon)
  while (pending.next !== pending && current === session) {
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

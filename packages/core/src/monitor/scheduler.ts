/**
 * The one scheduler every monitor shares: a hashed timing wheel driven by ONE unref'd `setTimeout` that sleeps
 * until the earliest tick holding work, and the clock `touch()` stamps with.
 *
 * Two objects make its interface: `clock` (what time it is in ticks, and the upper bound of a stored touch) and
 * `wheel` (linking entries to be fired at a tick). Beyond them only pure tick arithmetic and the scheduler's
 * settings and readings (`setTickMs`, `schedulerInfo`, `schedulerTimer`) are exported; no mutable binding is.
 *
 * Invariants:
 * - `clock.stamp` (what `touch()` stores) is a tick not yet retired: every touch stored as tick `t` happened
 *   before `t` was retired, and `clock.boundMs(t)` is an upper bound of that moment. Deadlines are computed
 *   from that bound, so they are never early.
 * - A touch finds the stamp `held` or not. The first touch after the stamp was last released (`clock.hold`)
 *   reads the clock once, retires the stamp if its grid time has passed, and queues ONE microtask
 *   (`releaseHeld`), which runs as soon as the callback that touched returns; later touches before it only store
 *   the stamp. The release retires the stamp if due and records when it ran (`heldUntil`): no touch stored the
 *   stamp after that moment without holding it again. A stamp retired later (by the next hold, an answer, a run)
 *   is bounded by that moment, not by when it was retired, so a process that sleeps between touches bounds every
 *   touch by the end of the callback it happened in — no timer has to run for that. (A check-phase
 *   `setImmediate` per loop iteration did the same first; in a process woken by one message at a time it cost
 *   ~17 µs per wake-up, its cold code path, where the microtask runs warm inside the callback's own scope.)
 * - The stamp is also retired by every run and every answer a monitor handles (`clock.exact`: the answer
 *   path reads the clock anyway).
 * - Deadlines are compared with the clock, not counted. A verdict reached in a run that fired late (the
 *   loop was busy: replies may sit unread) is confirmed in the check phase of the same loop iteration
 *   (`wheel.confirmAfterPoll`), after the poll phase has read them.
 *
 * Shape. `SLOT_COUNT` slots, one per tick, each a circular doubly-linked list threaded through the entries
 * themselves (`next`/`prev` fields, no per-entry allocation), and a bitmap of the slots that hold entries.
 * An entry due at tick `t` within one revolution of the last swept tick sits in slot `t & SLOT_MASK`; one due
 * further away sits in the `far` list, and is moved into its slot by the first run within half a revolution
 * of the earliest far entry (which is a due tick like any other: the wheel wakes for it, so the far list costs
 * no extra wake-up). The timer is armed for the earliest tick that holds work, on the grid (origin + k × tick),
 * so entries due in the same tick share one wake-up; linking an entry due earlier re-arms it. While the
 * wheel sleeps, nothing is due in the ticks it skips, so the swept position moves forward with the clock
 * (`catchUp`) without visiting them.
 * A session (origin, tick numbers) starts with the first monitor and ends with the last; the next monitor
 * starts a fresh one.
 *
 * Time is kept in small integers (V8 Smis: no boxing, so `touch()` stays a plain store): tick numbers wrap
 * at 2^30 and are compared through `tickDiff`, exact while two ticks are less than 2^29 apart. Monitors
 * refuse a policy whose detection time exceeds `MAX_TRACKED_TICKS` (2^28 ticks: 31 days at the default
 * tick), which leaves as much again for a stall.
 */

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
  /** The check phase after a late verdict (see `wheel.confirmAfterPoll`). */
  confirm(): void
}

/** A list head: a sentinel entry whose `next`/`prev` close the circle. `index` is its wheel slot, or -1. */
class Slot implements TimerEntry {
  due = 0
  next: TimerEntry = this
  prev: TimerEntry = this
  constructor(readonly index: number) {}
  fire(): void {}
  confirm(): void {}
}

/** Default tick. */
export const DEFAULT_TICK_MS = 10
const SLOT_COUNT = 2048
const SLOT_MASK = SLOT_COUNT - 1
/** Corrections kept at most: one per late retirement, over the longest detection time in use (see `noteCorrection`). */
const MAX_CORRECTIONS = 4096
/** Node's timers take at most 2^31 − 1 ms; a longer sleep is cut into wake-ups of this length. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** What the monitors read: the current stamp and the time of the run (or check) in progress. */
export interface Clock {
  /** What `touch()` stores: a wrapped tick not yet retired (see the header). Valid once held. */
  readonly stamp: number
  /** Whether the stamp is held: a release is queued (a touch that finds it false calls `hold`). */
  readonly held: boolean
  /** During a run (and after it, until the next one): the wrapped current tick, from the fresh clock. */
  readonly runTick: number
  /** The fresh monotonic time read by the current (or last) run or check. */
  readonly runNowMs: number
  /** How late the current (or last) run fired, in ms, against its planned time. */
  readonly runLateByMs: number
  /**
   * The part of `runLateByMs` the process spent outside the scheduler's own work (the previous run or check,
   * e.g. sending thousands of probes): a stall of the process, not of the scheduler.
   */
  readonly stallByMs: number
}

/** The clock's fields, written only here; importers see them read-only through `clock`. */
const state = {
  stamp: 1,
  held: false,
  runTick: 0,
  runNowMs: 0,
  runLateByMs: 0,
  stallByMs: 0,
  /** Monotonic ms (`performance.now()`). */
  now: monotonicNow,
  /** The current tick length in ms. */
  tickMs: (): number => tickMs,
  /** Lateness (ms) within timer noise: max(2 ms, tick / 4). */
  noiseMs: lateNoiseMs,
  /** The first touch of a callback (`held` false) calls this before storing `stamp`. */
  hold,
  /** Retires the stamp if `now` has reached its grid time. */
  refresh: refreshStamp,
  exact: exactStamp,
  boundMs: touchBoundMs,
  /** Monotonic ms of a wrapped tick's start on the grid. */
  msOf: tickToMs,
  tickAt: tickAtMs,
  tickAfter: tickAfterMs,
}

/** The clock monitors read (see `Clock`) and its arithmetic. */
export const clock: Clock & Omit<typeof state, keyof Clock> = state

let tickMs = DEFAULT_TICK_MS
/** Sessions started so far: a run or check that sees it change stops (its entries belong to no monitor). */
let session = 0
/** Monotonic ms of absolute tick 0 of the current session. */
let origin = 0
/** Absolute tick the timer is armed for (valid while `timer` is set; during a run, the run's planned tick). */
let plannedTick = 0
/** Absolute tick of `stamp`. */
let stampTick = 0
/** While not held: monotonic ms after which no touch stored the current stamp (see the header). */
let heldUntil = 0
/** Monotonic ms of the last `hold`. */
let heldAt = 0
/** Absolute tick up to which slots have been swept. */
let sweptTick = 0
/** Monitors registered (running), not entries linked. */
let active = 0
/** Inside a run: links need no re-arm (the run arms once at its end). */
let running = false
let timer: ReturnType<typeof setTimeout> | undefined
let slots: Slot[] | undefined
/** Bit `i` set: slot `i` may hold entries (a slot emptied by `unlink` may stay marked: one idle wake at most). */
const occupied = new Uint32Array(SLOT_COUNT / 32)
/** Entries due a revolution or more after `sweptTick`, and the earliest absolute tick among them (a lower bound). */
const far = new Slot(-1)
let farMin = Number.POSITIVE_INFINITY
/** Holds a list's entries while they are processed, so entries can unlink themselves or others safely. */
const pending = new Slot(-1)
/** Entries waiting a fraction of a tick (see `defer`), fired by a sub-tick run at `soonAt`. */
const soon = new Slot(-1)
/** Monotonic ms at which the earliest deferred entry is due; Infinity while `soon` is empty. */
let soonAt = Number.POSITIVE_INFINITY
/** Verdicts waiting for the check phase (see `confirmAfterPoll`). */
const confirming = new Slot(-1)
/**
 * The check-phase callback (`check`) for late verdicts, at most one pending. Ref'd on purpose: an unref'd immediate
 * lets the poll phase block until the next timer or I/O, so the check would wait for it. A ref'd one keeps the loop
 * for this one iteration only: a process with nothing else to do still exits right after.
 */
let immediate: ReturnType<typeof setImmediate> | undefined
/** A `releaseHeld` microtask is queued for the callback whose touch held the stamp. */
let releasePending = false
/** Called after each run has fired every due entry (see `onSweepEnd`). */
let sweepEnd: () => void = () => {}
/** Monotonic ms when the scheduler's own last piece of work (a run, a check) ended. */
let busyUntil = 0
/** Timer callbacks so far (runs, early or not): what a process pays the scheduler in wake-ups. */
let wakeUps = 0

/**
 * Lateness of the retirement of each stamp, for `boundMs`. Exact for the last RING_SIZE stamps:
 * `ringLateMs[t & RING_MASK]` is how many ms after tick `t`'s grid time the stamp `t` was replaced (negative
 * when its last touch was before that), valid when `ringTick[t & RING_MASK] === t`. Older stamps use their
 * correction if the retirement was late beyond the noise, else the largest lateness of their block of
 * 2^BLOCK_SHIFT ticks (a correction dropped by the cap is folded into its block), kept as far back as RING_SIZE
 * blocks. Beyond that, the noise bound. 96 KB per process.
 */
const RING_SIZE = 4096
const RING_MASK = RING_SIZE - 1
const BLOCK_SHIFT = 8
let ringLateMs: Float64Array | undefined
let ringTick: Int32Array | undefined
let blockLateMs: Float64Array | undefined
let blockId: Int32Array | undefined

/** Late retirements: wrapped stamp → wrapped tick that bounds its touches from above. */
const corrections = new Map<number, number>()
/** The longest death deadline (in ticks) any monitor may wait for: corrections older than that are useless. */
let horizonTicks = 0

/** Monotonic milliseconds. Looked up on the global each call so fake timers that replace `performance` apply. */
function monotonicNow(): number {
  return performance.now()
}

/** Lateness (ms) below which a retirement or run counts as on time: max(2 ms, tick / 4). */
function lateNoiseMs(): number {
  return Math.max(2, tickMs / 4)
}

/** Monotonic ms of a wrapped tick of this session (the tick's start on the grid). */
function tickToMs(tick: number): number {
  return origin + (sweptTick + tickDiff(tick, wrapTick(sweptTick))) * tickMs
}

/** Absolute tick the monotonic `ms` falls in. */
function absoluteTickOf(ms: number): number {
  return Math.floor((ms - origin) / tickMs)
}

/**
 * Retires the stamp if the clock (`now`, freshly read) has reached its grid time: records an upper bound of
 * its last touch (now if held, else when it was last checked), and moves `stamp` to the first tick after `now`.
 * While the wheel sleeps, the swept position follows the clock (`catchUp`). Cheap when there is nothing to do.
 */
function refreshStamp(now: number): void {
  if (timer !== undefined && !running) catchUp(now)
  const grid = origin + stampTick * tickMs
  if (now < grid) return
  const late = (state.held ? now : heldUntil) - grid
  const before = state.stamp
  const next = absoluteTickOf(now) + 1
  const i = before & RING_MASK
  ;(ringTick as Int32Array)[i] = before
  ;(ringLateMs as Float64Array)[i] = late
  stampTick = next
  state.stamp = wrapTick(next)
  heldUntil = now
  // Beyond timer noise, the bound also becomes a whole-tick correction that outlives the ring.
  if (late > lateNoiseMs()) {
    noteCorrection(before, wrapTick(Math.floor((late + grid - origin) / tickMs) + 1))
    noteBlockLateness(before, 0)
  } else {
    noteBlockLateness(before, late)
  }
}

/** The first touch of a callback: bring the stamp up to date and queue its release (see the header). */
function hold(): void {
  const now = monotonicNow()
  refreshStamp(now)
  heldAt = now
  state.held = true
  if (!releasePending) {
    releasePending = true
    queueMicrotask(releaseHeld)
  }
}

/**
 * Right after the callback whose touches held the stamp (a microtask: Node drains them as each callback returns,
 * while its code is warm): retires the stamp if due and records when no touch had yet stored it since.
 */
function releaseHeld(): void {
  releasePending = false
  if (!state.held) return
  const now = monotonicNow()
  refreshStamp(now)
  state.held = false
  // Never before the hold itself: a clock that steps back (fake timers advanced by fractions of a millisecond
  // do) must not bound a touch by a time before it.
  heldUntil = Math.max(now, heldAt)
}

/**
 * The tick to store for a sign of life whose time is known (`now`, just read by the caller): the tick
 * `now` falls in, already retired (the stamp is refreshed first), with its recorded lateness raised to
 * cover `now`. `boundMs` of it is then `now` itself (or a later retirement of the same tick), however
 * late the next run will be.
 */
function exactStamp(now: number): number {
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
 * Monotonic ms that bounds from above the real time of a touch stored as `tick`: when that stamp was last
 * checked or retired; for the current stamp, its last check, or while held its grid time (callers refresh the
 * stamp first, so that is in the future).
 * Exact for stamps retired within the last RING_SIZE ticks; older ones get a coarser bound.
 */
function touchBoundMs(tick: number): number {
  const at = tickToMs(tick)
  // The current stamp: no touch stored it after its last check (when not held), nor after its grid time.
  if (tickDiff(tick, state.stamp) >= 0) return state.held || heldUntil > at ? at : heldUntil
  const i = tick & RING_MASK
  if ((ringTick as Int32Array)[i] === tick) return at + ((ringLateMs as Float64Array)[i] as number)
  const corrected = corrections.get(tick)
  if (corrected !== undefined) return tickToMs(corrected)
  const block = tick >> BLOCK_SHIFT
  const b = block & RING_MASK
  if ((blockId as Int32Array)[b] === block)
    return at + Math.max(0, (blockLateMs as Float64Array)[b] as number)
  return at + lateNoiseMs()
}

/** The wrapped tick whose grid time is at or before monotonic `ms` (the wheel's slot for a ms deadline). */
function tickAtMs(ms: number): number {
  // A hair of tolerance so a grid time computed in floating point lands on its own tick, not the one before.
  return wrapTick(Math.floor((ms - origin) / tickMs + 1e-9))
}

/** The wrapped tick whose grid time is at or after monotonic `ms`. */
function tickAfterMs(ms: number): number {
  return wrapTick(Math.ceil((ms - origin) / tickMs - 1e-9))
}

/** A monitor starts: the first one starts a session. */
function acquire(): void {
  if (active++ > 0) return
  session++
  origin = monotonicNow()
  plannedTick = 0
  stampTick = 1
  heldUntil = origin
  sweptTick = 0
  state.stamp = 1
  state.runTick = 0
  state.runNowMs = origin
  state.runLateByMs = 0
  state.stallByMs = 0
  busyUntil = origin
  corrections.clear()
  if (slots === undefined) slots = Array.from({ length: SLOT_COUNT }, (_, i) => new Slot(i))
  if (ringTick === undefined || blockId === undefined) {
    ringLateMs = new Float64Array(RING_SIZE)
    ringTick = new Int32Array(RING_SIZE)
    blockLateMs = new Float64Array(RING_SIZE)
    blockId = new Int32Array(RING_SIZE)
  }
  // Stamps of an earlier session must not validate: tick numbers restart at 1.
  ringTick.fill(-1)
  blockId.fill(-1)
  // Entries of an earlier session were unlinked by their monitors' stop or death; the marks may remain.
  occupied.fill(0)
  farMin = Number.POSITIVE_INFINITY
  soonAt = Number.POSITIVE_INFINITY
  if (timer !== undefined) clearTimeout(timer)
  timer = undefined
  // A held stamp of the last session is re-held by the first touch of this one. Its check, if it ever runs, finds
  // nothing to do; forgetting it here means a check that never ran (fake timers uninstalled) cannot block holds.
  state.held = false
  immediate = undefined
  releasePending = false
}

/** A monitor stopped or died: the last one clears the timer, so nothing keeps running behind the user. */
function release(): void {
  if (--active > 0) return
  active = 0
  if (timer !== undefined) {
    clearTimeout(timer)
    timer = undefined
  }
}

/** Links `entry` to fire at wrapped tick `due`. The entry must not be linked. */
function link(entry: TimerEntry, due: number): void {
  entry.due = due
  const ahead = tickDiff(due, wrapTick(sweptTick))
  if (ahead >= SLOT_COUNT) {
    appendTo(far, entry)
    const abs = sweptTick + ahead
    if (abs < farMin) farMin = abs
    if (!running && (timer === undefined || abs < plannedTick)) rearm()
    return
  }
  // An entry already due (ahead ≤ 0) fires at the next swept tick.
  const index = (ahead > 0 ? due : sweptTick + 1) & SLOT_MASK
  occupied[index >> 5] = (occupied[index >> 5] as number) | (1 << (index & 31))
  appendTo((slots as Slot[])[index] as Slot, entry)
  if (!running && (timer === undefined || sweptTick + Math.max(1, ahead) < plannedTick)) rearm()
}

/** Appends an unlinked `entry` at the tail of `list` (a wheel slot, `far`, `soon` or `confirming`). */
function appendTo(list: Slot, entry: TimerEntry): void {
  const last = list.prev
  entry.prev = last
  entry.next = list
  last.next = entry
  list.prev = entry
}

/** Unlinks `entry` if linked (from the wheel, `far`, `soon` or `confirming`). */
function unlink(entry: TimerEntry): void {
  const prev = entry.prev
  if (prev === null) return
  const next = entry.next as TimerEntry
  prev.next = next
  next.prev = prev
  entry.next = null
  entry.prev = null
  // The last entry of a wheel slot: clear its mark, so the wheel does not wake for an empty slot.
  if (prev === next && prev instanceof Slot && prev.index >= 0) {
    const i = prev.index
    occupied[i >> 5] = (occupied[i >> 5] as number) & ~(1 << (i & 31))
  }
}

/**
 * Fires `entry` again `ms` from the current run's clock (`runNowMs`), sooner than the next tick: for a death
 * whose wheel tick has come while the fresh clock is still short of its exact deadline (`boundMs`).
 * The entry must not be linked; `fire` decides again (and may defer again). Only during a run.
 */
function defer(entry: TimerEntry, ms: number): void {
  const at = state.runNowMs + ms
  if (at < soonAt) soonAt = at
  entry.due = state.runTick
  appendTo(soon, entry)
}

/**
 * Calls `entry.confirm()` in the check phase of this loop iteration (`setImmediate`), i.e. after the poll
 * phase has read whatever arrived while the loop was busy. The entry must not be linked; anything that
 * unlinks it (an answer, `stop`) cancels the confirmation.
 */
function confirmAfterPoll(entry: TimerEntry): void {
  entry.due = state.runTick
  appendTo(confirming, entry)
  if (immediate === undefined) immediate = setImmediate(check)
}

/** Lets the scheduler know how far back a death deadline can reach, so it keeps stall corrections that long. */
function extendHorizon(ticks: number): void {
  if (ticks > horizonTicks) horizonTicks = ticks
}

/**
 * Sets the function called at the end of each run, once every due entry has fired: monitors send the probes
 * they decided on there, so that in a tick where thousands of probes and deaths fall together, every death
 * is declared before the first probe is written.
 */
function onSweepEnd(fn: () => void): void {
  sweepEnd = fn
}

/** What monitors do with the wheel. */
export const wheel = { acquire, release, link, unlink, defer, confirmAfterPoll, extendHorizon, onSweepEnd }

export interface SchedulerOptions {
  /** Tick length in ms: an integer from 1 to 1000. Default 10. */
  tickMs?: number
}

export interface SchedulerInfo {
  /** Tick length in ms. */
  readonly tickMs: number
  /** Monitors running (neither dead nor stopped). */
  readonly monitors: number
  /** Whether the one shared timer is armed (it is only while something is due). */
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

/** For tests and benchmarks: when the timer will fire (monotonic ms, NaN when not armed) and how often it has. */
export function schedulerTimer(): { readonly wakeAtMs: number; readonly wakeUps: number } {
  return { wakeAtMs: timer === undefined ? Number.NaN : plannedAtMs(), wakeUps }
}

/**
 * While the wheel sleeps, no entry is due before `plannedTick`: the swept position may follow the clock up to
 * the tick before it without visiting any slot, so entries linked now are placed against the present.
 */
function catchUp(now: number): void {
  const to = Math.min(absoluteTickOf(now), plannedTick - 1)
  if (to > sweptTick) sweptTick = to
}

/** The earliest absolute tick after `sweptTick` that holds work (Infinity: none), from the bitmap and `far`. */
function nextDueTick(): number {
  const start = (sweptTick + 1) & SLOT_MASK
  const startWord = start >> 5
  const words = SLOT_COUNT / 32
  // The start word's bits from `start` on, the other words in order, then the start word's bits before `start`.
  for (let k = 0; k <= words; k++) {
    const word = (startWord + k) & (words - 1)
    let bits = occupied[word] as number
    if (k === 0) bits &= ~0 << (start & 31)
    else if (k === words) bits &= ~(~0 << (start & 31))
    if (bits !== 0) {
      const index = (word << 5) | (31 - Math.clz32(bits & -bits))
      const abs = sweptTick + 1 + ((index - start) & SLOT_MASK)
      return Math.min(abs, farMin)
    }
  }
  return farMin
}

function plannedAtMs(): number {
  const at = origin + plannedTick * tickMs
  return Math.min(soonAt, at)
}

/** Arms the timer for the earliest due tick (or sub-tick wait); leaves it unarmed when nothing is due. */
function arm(): void {
  const due = nextDueTick()
  if (due === Number.POSITIVE_INFINITY && soonAt === Number.POSITIVE_INFINITY) return
  plannedTick = due === Number.POSITIVE_INFINITY ? absoluteTickOf(soonAt) + 1 : due
  const delay = plannedAtMs() - monotonicNow()
  // Node's timers count whole milliseconds from the loop's cached time, so they may fire a little early
  // or late against performance.now(); `run` re-arms when early and measures how late it is.
  timer = setTimeout(run, delay > 1 ? Math.min(Math.ceil(delay), MAX_TIMER_MS) : 1)
  timer.unref()
}

function rearm(): void {
  if (timer !== undefined) clearTimeout(timer)
  timer = undefined
  if (active > 0) arm()
}

function run(): void {
  timer = undefined
  wakeUps++
  const now = monotonicNow()
  const tick = absoluteTickOf(now)
  const current = session
  if (tick < plannedTick) {
    // Early for the grid: Node's whole-ms timer rounding, a wake-up cut short by MAX_TIMER_MS, or the sub-tick
    // run of deferred entries. The tick and the run's lateness stay those of the last grid run.
    if (soon.next === soon || now < soonAt) {
      arm()
      return
    }
    state.runNowMs = now
    // The grid lateness stays the last grid run's; the window since the scheduler's own last work is this run's.
    state.stallByMs = now - Math.max(soonAt, busyUntil)
    running = true
    try {
      refreshStamp(now)
      sweepSoon(current)
      sweepEnd()
    } finally {
      running = false
      busyUntil = monotonicNow()
      if (active > 0 && timer === undefined) arm() // this session's, or one a listener started
    }
    return
  }
  state.runNowMs = now
  const planned = origin + plannedTick * tickMs
  state.runLateByMs = now - planned
  state.stallByMs = now - Math.max(planned, busyUntil)
  state.runTick = wrapTick(tick)
  refreshStamp(now)
  const from = Math.max(sweptTick + 1, tick - SLOT_MASK)
  sweptTick = tick
  running = true
  try {
    sweepSoon(current)
    if (farMin <= tick + SLOT_COUNT / 2) cascade(current)
    sweepRange(from, tick, current)
    // Deaths waiting for the check phase go first there too: the probes follow them (see `check`).
    if (confirming.next === confirming) sweepEnd()
  } finally {
    running = false
    busyUntil = monotonicNow()
    if (active > 0 && timer === undefined) arm() // this session's, or one a listener started
  }
}

/**
 * The check phase of a loop iteration in which a late verdict waits: answers read by the poll phase have unlinked
 * their monitors' verdicts, the rest die, and the run's probes go out.
 */
function check(): void {
  immediate = undefined
  if (active === 0 || confirming.next === confirming) return
  const now = monotonicNow()
  refreshStamp(now)
  const current = session
  state.runNowMs = now
  running = true
  try {
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
    if (current === session) sweepEnd()
  } finally {
    running = false
    busyUntil = monotonicNow()
    if (active > 0 && timer === undefined) arm() // this session's, or one a listener started
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

/**
 * Moves the far entries now within a revolution of `sweptTick` into their slots, and fires those already due (the
 * wheel woke for the earliest of them); recomputes `farMin`. Runs once half a revolution separates the earliest far
 * entry from the present, so each far entry is walked about once per half revolution until it moves in.
 */
function cascade(current: number): void {
  farMin = Number.POSITIVE_INFINITY
  if (far.next === far) return
  moveToPending(far)
  while (pending.next !== pending && current === session) {
    const entry = pending.next
    unlink(entry)
    if (tickDiff(entry.due, state.runTick) <= 0) fireSafely(entry)
    else link(entry, entry.due)
  }
}

/** Sweeps every marked slot of absolute ticks `from`..`to` (at most one revolution). */
function sweepRange(from: number, to: number, current: number): void {
  for (let t = from; t <= to && current === session; t++) {
    const index = t & SLOT_MASK
    const word = occupied[index >> 5] as number
    if (word === 0) {
      // 32 empty slots at once: jump to the next word.
      t |= 31
      continue
    }
    const bit = 1 << (index & 31)
    if ((word & bit) === 0) continue
    occupied[index >> 5] = word & ~bit
    sweep((slots as Slot[])[index] as Slot, current)
  }
}

/** Fires every entry of `slot` whose tick has come; relinks the others (a later round). */
function sweep(slot: Slot, current: number): void {
  if (slot.next === slot) return
  moveToPending(slot)
  const now = state.runTick
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

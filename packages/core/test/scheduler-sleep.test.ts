// Issue #22: the shared scheduler sleeps until something is due. Its one timer is armed for the earliest tick that
// holds work (monitors due together share it), re-armed when an earlier one is linked, and a touch needs no timer
// to be bounded: the first touch of a callback queues one microtask that bounds every touch made before it runs.
import { createMonitor, definePolicy, detectionTime, type Monitor, presets } from '@keepalive/core'
import { schedulerTimer } from '@keepalive/core/internal'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { recordDeadline } from './helpers.js'
import { type StallClock, stallableClock } from './stall-clock.js'

const TICK = 10
const created: Monitor[] = []
afterEach(() => {
  for (const m of created.splice(0)) m.stop()
  vi.restoreAllMocks()
  vi.useRealTimers()
})

function monitor(
  policy: Parameters<typeof createMonitor>[0]['policy'],
  probe: () => unknown = () => {},
): Monitor {
  const m = createMonitor({ policy, probe })
  created.push(m)
  return m
}

function fakeTimers(): StallClock {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'queueMicrotask', 'performance'],
  })
  return stallableClock()
}

/** The scheduler's wake-ups since `from` (a `schedulerTimer()` reading). */
function wakeUpsSince(from: { wakeUps: number }): number {
  return schedulerTimer().wakeUps - from.wakeUps
}

describe('no timer runs while nothing is due (fake timers)', () => {
  it('one battery monitor, touched and then quiet: the only wake-up is its first probe, 210 s later', () => {
    fakeTimers()
    const start = performance.now()
    const m = monitor(presets.battery)
    vi.advanceTimersByTime(0) // the creating callback's release
    const before = schedulerTimer()
    // Idle after the creation's tick: the creation is stored as the tick after it (the grid's bound).
    const wakeAt = before.wakeAtMs - start
    expect(wakeAt).toBeGreaterThanOrEqual(presets.battery.idle)
    expect(wakeAt).toBeLessThanOrEqual(presets.battery.idle + TICK)
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(wakeAt - 1)
    expect(wakeUpsSince(before)).toBe(0)
    expect(m.state).toBe('idle')
    vi.advanceTimersByTime(1)
    expect(wakeUpsSince(before)).toBe(1)
    expect(m.state).toBe('probing')
  })

  it('10,000 monitors created in one tick share one wake-up; spread over a second they wake once per tick that holds one', () => {
    fakeTimers()
    const start = performance.now()
    for (let i = 0; i < 10_000; i++) monitor(presets.balanced)
    vi.advanceTimersByTime(0)
    const together = schedulerTimer()
    vi.advanceTimersByTime(presets.balanced.idle + TICK)
    expect(wakeUpsSince(together)).toBe(1)
    for (const m of created.splice(0)) m.stop()
    // The same number created 0.1 ms apart (1 s in all): at most one wake-up per 10 ms tick of that second.
    for (let i = 0; i < 10_000; i++) {
      monitor(presets.balanced)
      vi.advanceTimersByTime(0.1)
    }
    const spread = schedulerTimer()
    vi.advanceTimersByTime(presets.balanced.idle + TICK)
    expect(wakeUpsSince(spread)).toBeLessThanOrEqual(1_000 / TICK + 1)
    expect(wakeUpsSince(spread)).toBeGreaterThan(1_000 / TICK - 2)
    expect(performance.now() - start).toBeGreaterThan(presets.balanced.idle)
  })

  it('a monitor due beyond a wheel revolution (20 s) costs no wake-up before its time', () => {
    fakeTimers()
    const policy = definePolicy({ idle: '1h', interval: '1m', probes: 2 })
    const start = performance.now()
    const m = monitor(policy)
    vi.advanceTimersByTime(0)
    const before = schedulerTimer()
    const wakeAt = before.wakeAtMs - start
    expect(wakeAt).toBeGreaterThanOrEqual(policy.idle)
    expect(wakeAt).toBeLessThanOrEqual(policy.idle + TICK)
    vi.advanceTimersByTime(wakeAt - 1)
    expect(wakeUpsSince(before)).toBe(0)
    vi.advanceTimersByTime(1)
    expect(m.state).toBe('probing')
    expect(wakeUpsSince(before)).toBe(1)
  })

  it('a monitor linked with an earlier due tick re-arms the timer; stopping the early one leaves one idle wake-up at most', () => {
    fakeTimers()
    const start = performance.now()
    monitor(presets.battery)
    vi.advanceTimersByTime(0)
    const batteryAt = schedulerTimer().wakeAtMs
    expect(batteryAt - start).toBeGreaterThanOrEqual(presets.battery.idle)
    const fast = monitor(presets.fast)
    expect(schedulerTimer().wakeAtMs - start).toBeGreaterThanOrEqual(presets.fast.idle)
    expect(schedulerTimer().wakeAtMs - start).toBeLessThanOrEqual(presets.fast.idle + TICK)
    vi.advanceTimersByTime(0)
    expect(vi.getTimerCount()).toBe(1)
    fast.stop() // its slot empties: the wheel wakes for nothing at most once, then sleeps to the battery one
    const before = schedulerTimer()
    vi.advanceTimersByTime(batteryAt - start - 1)
    expect(wakeUpsSince(before)).toBeLessThanOrEqual(1)
    expect(schedulerTimer().wakeAtMs).toBe(batteryAt)
  })
})

describe('a touch is bounded without a tick run (fake timers)', () => {
  it('a touch after a long sleep is bounded by its own callback: the death after it is never early, at most a tick late', () => {
    fakeTimers()
    const policy = presets.battery
    const d = detectionTime(policy)
    const m = monitor(policy)
    let deadAt = Number.NaN
    m.on('dead', () => {
      deadAt = performance.now()
    })
    vi.advanceTimersByTime(100_000.5) // the process sleeps: no wake-up was due
    const before = schedulerTimer()
    m.touch()
    const touchedAt = performance.now()
    expect(m.lastSeen).toBeGreaterThanOrEqual(touchedAt) // held: the end of its tick bounds it until the release
    expect(m.lastSeen - touchedAt).toBeLessThanOrEqual(TICK)
    vi.advanceTimersByTime(0) // the release
    expect(m.lastSeen).toBe(touchedAt) // nothing else ran in this callback: bounded exactly
    expect(wakeUpsSince(before)).toBe(0)
    vi.advanceTimersByTime(d + 2 * TICK)
    expect(deadAt - touchedAt).toBeGreaterThanOrEqual(d)
    expect(deadAt - touchedAt).toBeLessThanOrEqual(d + TICK)
  })

  it('a burst of touches through a long busy callback: no tick run; every touch is bounded by the release that ends it', () => {
    const clock = fakeTimers()
    const policy = presets.fast
    const d = detectionTime(policy)
    const monitors = Array.from({ length: 1_000 }, () => monitor(policy))
    vi.advanceTimersByTime(1_000)
    const before = schedulerTimer()
    // One callback that reads for 35 ms (3.5 ticks): touches spread through it, the clock moving on.
    for (const m of monitors) {
      m.touch()
      clock.skew += 0.035
    }
    const iterationEnd = performance.now()
    vi.advanceTimersByTime(0) // its release retires the stamp the burst held
    expect(wakeUpsSince(before)).toBe(0)
    for (const m of monitors) {
      expect(m.lastSeen).toBeGreaterThanOrEqual(iterationEnd)
      expect(m.lastSeen - iterationEnd).toBeLessThanOrEqual(1)
    }
    // The next callback's touches hold a new stamp, bounded by their own release.
    clock.skew += 15
    const lone = monitors[0] as Monitor
    lone.touch()
    const touchedAt = performance.now()
    vi.advanceTimersByTime(0)
    expect(lone.lastSeen).toBe(touchedAt)
    expect(monitors[1]?.lastSeen).toBeLessThan(touchedAt) // an earlier stamp keeps its own bound
    let deadAt = Number.NaN
    lone.on('dead', () => {
      deadAt = performance.now()
    })
    vi.advanceTimersByTime(d + 2 * TICK)
    expect(deadAt - touchedAt).toBeGreaterThanOrEqual(d)
    expect(deadAt - touchedAt).toBeLessThanOrEqual(d + TICK)
  })
})

describe('with real timers', () => {
  it('a battery monitor touched by traffic every 20 ms for 1 s: the scheduler never wakes; each touch is bounded within its callback', async () => {
    const m = monitor(presets.battery)
    const before = schedulerTimer()
    let worst = 0
    await new Promise<void>((resolve) => {
      let n = 0
      const traffic = setInterval(() => {
        m.touch()
        const touchedAt = performance.now()
        setImmediate(() => {
          // After the callback's release (a microtask, run as the callback returned): the bound holds.
          worst = Math.max(worst, m.lastSeen - touchedAt)
          expect(m.lastSeen).toBeGreaterThanOrEqual(touchedAt)
        })
        if (++n === 50) {
          clearInterval(traffic)
          setTimeout(resolve, 5)
        }
      }, 20)
    })
    expect(wakeUpsSince(before)).toBe(0)
    expect(m.state).toBe('idle')
    // The release follows the touch as its callback returns: well under a tick on a quiet machine; 10 ms leaves
    // room for a descheduled process on a shared one.
    recordDeadline({
      test: 'core/scheduler-sleep: touch bounded within its callback (real timers)',
      measured: worst,
      max: TICK,
      slack: 'the rest of the callback after the touch + scheduling on a shared machine',
    })
    expect(worst).toBeLessThanOrEqual(TICK)
  })

  it('a silent peer after a long quiet spell dies detectionTime after its last touch, measured', async () => {
    const policy = definePolicy({ idle: 300, interval: 100, probes: 2 })
    const d = detectionTime(policy)
    const m = monitor(policy)
    const touchedAt = await new Promise<number>((resolve) =>
      setTimeout(() => {
        m.touch()
        resolve(performance.now())
      }, 250),
    )
    const deadAt = await new Promise<number>((resolve) => m.on('dead', () => resolve(performance.now())))
    expect(deadAt - touchedAt).toBeGreaterThanOrEqual(d)
    // One tick (deaths wait for the exact bound on sub-tick timers, whole ms) + timer lateness on a shared machine.
    recordDeadline({
      test: 'core/scheduler-sleep: death after a quiet spell (real timers)',
      measured: deadAt - touchedAt,
      min: d,
      max: d + TICK + 40,
      slack: '1 tick + timer lateness on a shared machine',
    })
    expect(deadAt - touchedAt).toBeLessThanOrEqual(d + TICK + 40)
  })
})

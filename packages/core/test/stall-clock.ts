/**
 * A process clock that can stall, for fake-timer tests: `performance.now()` is the fake timers' clock + `skew`, so
 * `skew += ms` moves the process clock `ms` ahead of the timers: every timer then fires `ms` late (a late run). For a
 * stall — the process frozen for `ms`, then the loop resuming — the scheduler's one timer must also be put back on
 * the process clock, as libuv's timers are: `resume()` fires it at the resumed time if its time passed during the
 * stall (a late run), or else lets it re-arm for its own time (an early wake-up the scheduler re-arms from). It moves
 * the fake timers' clock to that timer while the process clock stands still.
 */
import { schedulerTimer } from '@keepalive/core/internal'
import { vi } from 'vitest'

export interface StallClock {
  /** ms the process clock is ahead of the fake timers' clock. */
  skew: number
  /** Fires the scheduler's timer at the present, late or early (see above); true if its time had passed. */
  resume(): boolean
}

/** Mocks `performance.now()` (call after `vi.useFakeTimers` with 'performance' faked). */
export function stallableClock(): StallClock {
  const fakeNow = performance.now.bind(performance)
  let frozenAt: number | undefined
  const clock: StallClock = {
    skew: 0,
    resume(): boolean {
      const resumedAt = performance.now()
      const timer = schedulerTimer()
      if (Number.isNaN(timer.wakeAtMs)) return false
      frozenAt = resumedAt
      try {
        // Immediates due now may come first; stop right after the scheduler's run (its check phase stays pending).
        while (schedulerTimer().wakeUps === timer.wakeUps) vi.advanceTimersToNextTimer()
      } finally {
        frozenAt = undefined
        clock.skew = resumedAt - fakeNow()
      }
      return timer.wakeAtMs <= resumedAt
    },
  }
  vi.spyOn(performance, 'now').mockImplementation(() => frozenAt ?? fakeNow() + clock.skew)
  return clock
}

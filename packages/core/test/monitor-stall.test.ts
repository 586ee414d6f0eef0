// A stalled process (the scheduler's timer fires far later than planned): a monitor past its deadline is
// confirmed dead only after the poll phase has read what arrived meanwhile (the check phase,
// setImmediate), not granted a whole extra interval; one that was never asked is probed once. The stall is
// simulated by moving the monotonic clock without firing timers, then firing them; setImmediate is faked
// too, so `vi.advanceTimersToNextTimer()` can stop between the late run and its check phase, where a
// test plays the poll phase (data read from a socket = a touch).
import diagnosticsChannel from 'node:diagnostics_channel'
import {
  createMonitor,
  definePolicy,
  detectionTime,
  type Monitor,
  type Policy,
  presets,
  schedulerInfo,
} from '@keepalive/core'
import { channels, schedulerTimer } from '@keepalive/core/internal'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type StallClock, stallableClock } from './stall-clock.js'

const TICK = 10
let processClock: StallClock
const stalls: Array<{ monitor: Monitor; lateByMs: number }> = []
const onStall = (message: unknown) => stalls.push(message as { monitor: Monitor; lateByMs: number })

beforeEach(() => {
  vi.useFakeTimers({
    toFake: [
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'setImmediate',
      'clearImmediate',
      'queueMicrotask',
      'performance',
    ],
  })
  processClock = stallableClock()
  stalls.length = 0
  diagnosticsChannel.subscribe('keepalive:monitor:stall', onStall)
})

const created: Monitor[] = []
afterEach(() => {
  for (const m of created.splice(0)) m.stop()
  diagnosticsChannel.unsubscribe('keepalive:monitor:stall', onStall)
  expect(schedulerInfo().monitors).toBe(0)
  vi.restoreAllMocks()
  vi.useRealTimers()
})

function monitor(policy: Policy, probe: (c: { attempt: number }) => unknown): Monitor {
  const m = createMonitor({ policy, probe })
  created.push(m)
  return m
}

/**
 * The process is frozen for `ms`: the clock moves on, no timer fires. Then the event loop resumes: the late
 * run (the scheduler's timer, if its time passed in the stall), then its check phase.
 */
function stall(ms: number): number {
  processClock.skew += ms
  const resumedAt = performance.now()
  processClock.resume()
  vi.advanceTimersByTime(TICK + 1)
  return resumedAt
}

describe('a stall longer than the detection time', () => {
  const policy = presets.fast
  const d = detectionTime(policy)

  it('does not kill an idle live peer: it is re-probed, answers, stays alive', () => {
    const attempts: number[] = []
    const m = monitor(policy, ({ attempt }) => {
      attempts.push(attempt)
      m.touch() // the peer answers
    })
    const dead = vi.fn()
    const alive = vi.fn()
    m.on('dead', dead).on('alive', alive)
    vi.advanceTimersByTime(1_000)
    m.touch()
    vi.advanceTimersByTime(1_000)
    // The scheduler sleeps until its next due tick (the probe planned at creation + idle), which the stall passes:
    // that run is as late as the stall reaches beyond it.
    const plannedAt = schedulerTimer().wakeAtMs
    const resumedAt = stall(3 * d)
    expect(dead).not.toHaveBeenCalled()
    expect(attempts).toEqual([1])
    expect(alive).toHaveBeenCalledTimes(1)
    expect(stalls).toHaveLength(1)
    expect(stalls[0]?.monitor).toBe(m)
    expect(stalls[0]?.lateByMs).toBeGreaterThanOrEqual(resumedAt - plannedAt)
    expect(stalls[0]?.lateByMs).toBeLessThanOrEqual(resumedAt - plannedAt + TICK)
    vi.advanceTimersByTime(10 * d)
    expect(dead).not.toHaveBeenCalled()
    expect(m.state).toBe('idle')
  })

  it('mid-probe, a stall spanning the deadline: no re-probe; dead when the process resumes, with the 1 probe sent', () => {
    // Rule changed by issue #10: after a real stall the verdict is confirmed once the poll phase has read what
    // arrived, instead of one more probe and a whole extra interval. This peer never answered probe 1.
    const attempts: number[] = []
    const m = monitor(policy, ({ attempt }) => attempts.push(attempt))
    let dead: { probesSent: number } | undefined
    let deadAt = Number.NaN
    m.on('dead', (event) => {
      dead = event
      deadAt = performance.now()
    })
    vi.advanceTimersByTime(policy.idle + policy.interval / 2) // one unanswered probe out
    expect(m.state).toBe('probing')
    const resumedAt = stall(3 * d)
    expect(attempts).toEqual([1])
    expect(stalls).toHaveLength(1)
    expect(dead?.probesSent).toBe(1)
    expect(deadAt - resumedAt).toBeLessThanOrEqual(TICK + 1) // the late run + its check phase, not + interval
  })

  it('kills a silent peer one interval (+ 1 tick) after the process resumes, not before', () => {
    const attempts: number[] = []
    const m = monitor(policy, ({ attempt }) => attempts.push(attempt))
    let deadAt = Number.NaN
    let probesSent = 0
    m.on('dead', (event) => {
      deadAt = performance.now()
      probesSent = event.probesSent
    })
    vi.advanceTimersByTime(1_000)
    const resumedAt = stall(3 * d)
    expect(m.state).toBe('probing')
    while (Number.isNaN(deadAt) && performance.now() < resumedAt + 10 * policy.interval) {
      vi.advanceTimersByTime(TICK)
    }
    expect(deadAt - resumedAt).toBeGreaterThanOrEqual(policy.interval)
    expect(deadAt - resumedAt).toBeLessThanOrEqual(policy.interval + 2 * TICK)
    expect(attempts).toEqual([1])
    expect(probesSent).toBe(1)
  })

  it('a stall through the last interval of a probing peer: no extra probe, dead at detectionTime + stall, not + interval', () => {
    // Rule changed by issue #10 (was: a fourth probe, then dead one interval after the resume).
    const attempts: number[] = []
    const m = monitor(policy, ({ attempt }) => attempts.push(attempt))
    let deadAt = Number.NaN
    let probesSent = 0
    m.on('dead', (event) => {
      deadAt = performance.now()
      probesSent = event.probesSent
    })
    vi.advanceTimersByTime(policy.idle + 2 * policy.interval + TICK) // three probes out, deadline 1 s away
    expect(attempts).toEqual([1, 2, 3])
    const resumedAt = stall(5_000)
    expect(attempts).toEqual([1, 2, 3])
    expect(probesSent).toBe(3)
    expect(deadAt - resumedAt).toBeGreaterThanOrEqual(0)
    expect(deadAt - resumedAt).toBeLessThanOrEqual(TICK + 1) // the late run + its check phase
  })

  it('handles many monitors in one stall: live ones survive, silent ones die after the grace interval', () => {
    const live: Monitor[] = []
    const silent: Monitor[] = []
    for (let i = 0; i < 200; i++) {
      const isLive = i % 2 === 0
      const m = monitor(policy, () => {
        if (isLive) m.touch()
      })
      ;(isLive ? live : silent).push(m)
    }
    vi.advanceTimersByTime(1_000)
    stall(2 * d)
    vi.advanceTimersByTime(policy.interval + 2 * TICK)
    expect(live.every((m) => m.state === 'idle')).toBe(true)
    expect(silent.every((m) => m.state === 'dead')).toBe(true)
  })
})

describe('touches made while the process was stalled', () => {
  it('are not recorded early: a peer touched just before the late timer fires gets its full detection time', () => {
    const policy = definePolicy({ idle: 1_000, interval: 200, probes: 2 })
    const d = detectionTime(policy)
    const m = monitor(policy, () => {})
    let deadAt = Number.NaN
    m.on('dead', () => {
      deadAt = performance.now()
    })
    vi.advanceTimersByTime(100)
    processClock.skew += 700 // stalled, but less than a detection time
    m.touch() // an I/O callback ran before the timers phase could
    const touchedAt = performance.now()
    while (Number.isNaN(deadAt) && performance.now() < touchedAt + 3 * d) vi.advanceTimersByTime(TICK)
    expect(deadAt - touchedAt).toBeGreaterThanOrEqual(d)
    expect(deadAt - touchedAt).toBeLessThanOrEqual(d + 2 * TICK)
  })
})

describe('a touch in the last tick before a stall', () => {
  it('cannot be told from a touch during the stall, so it counts as one: a full detection time from the resume', () => {
    const policy = presets.fast
    const d = detectionTime(policy)
    const m = monitor(policy, () => {})
    let deadAt = Number.NaN
    m.on('dead', () => {
      deadAt = performance.now()
    })
    vi.advanceTimersByTime(1_000)
    m.touch()
    const resumedAt = stall(3 * d)
    while (Number.isNaN(deadAt) && performance.now() < resumedAt + 3 * d) vi.advanceTimersByTime(TICK)
    expect(stalls).toHaveLength(0)
    // The late timer fires one tick after `resumedAt` here; from that run on, the usual one-tick bound.
    expect(deadAt - resumedAt).toBeGreaterThanOrEqual(d)
    expect(deadAt - (resumedAt + TICK)).toBeLessThanOrEqual(d + TICK)
  })
})

describe('a scheduler run a little late (within timer noise), with a touch inside the gap', () => {
  it('never declares death early: dead within [detectionTime, detectionTime + 1 tick] of the real touch', () => {
    const policy = presets.fast
    const d = detectionTime(policy)
    const m = monitor(policy, () => {})
    let deadAt = Number.NaN
    m.on('dead', () => {
      deadAt = performance.now()
    })
    vi.advanceTimersByTime(1_000)
    vi.advanceTimersByTime(9.5) // 1009.5
    processClock.skew += 1 // every timer from here on fires 1 ms late, below the 2.5 ms noise threshold
    m.touch() // at 1010.5, half a millisecond into a tick: bounded by its loop iteration's check phase
    const touchedAt = performance.now()
    expect(m.lastSeen).toBeGreaterThanOrEqual(touchedAt) // held: its tick's end bounds it until the check
    vi.advanceTimersByTime(0.5) // the check phase, then no run: nothing is due
    expect(stalls).toHaveLength(0)
    // The recorded bound covers the real touch (the run that replaced the stamp fired at 1011).
    expect(m.lastSeen).toBeGreaterThanOrEqual(touchedAt)
    expect(m.lastSeen - touchedAt).toBeLessThanOrEqual(TICK)
    // Later runs are on time again: the death run's tick comes 0.5 ms before touchedAt + d.
    while (Number.isNaN(deadAt) && performance.now() < touchedAt + 2 * d) vi.advanceTimersByTime(0.5)
    expect(deadAt - touchedAt).toBeGreaterThanOrEqual(d)
    expect(deadAt - touchedAt).toBeLessThanOrEqual(d + TICK)
    expect(m.state).toBe('dead')
  })

  it('a deferred death is cancelled by a touch that arrives in the sub-tick wait', () => {
    const policy = presets.fast
    const d = detectionTime(policy)
    const m = monitor(policy, () => {})
    const dead = vi.fn()
    const alive = vi.fn()
    m.on('dead', dead).on('alive', alive)
    vi.advanceTimersByTime(1_009.5)
    processClock.skew += 2 // the 1010 run fires 2 ms late; the touch is 1.5 ms after its tick
    m.touch()
    const touchedAt = performance.now()
    vi.advanceTimersByTime(0.5)
    // Up to the death run's tick (on time, 1.5 ms short of the exact deadline): still probing.
    while (performance.now() < touchedAt + d - 1.5) vi.advanceTimersByTime(0.5)
    expect(dead).not.toHaveBeenCalled()
    expect(m.state).toBe('probing')
    m.touch() // the answer, inside the wait
    vi.advanceTimersByTime(5 * TICK)
    expect(dead).not.toHaveBeenCalled()
    expect(alive).toHaveBeenCalledTimes(1)
    expect(m.state).toBe('idle')
  })

  it('many monitors touched inside late gaps at random phases: no death is ever early', () => {
    const policy = definePolicy({ idle: 300, interval: 100, probes: 2 })
    const d = detectionTime(policy)
    const touchedAt: number[] = []
    const lateness: number[] = []
    for (let i = 0; i < 200; i++) {
      vi.advanceTimersByTime(3.7)
      if (i % 3 === 0) processClock.skew += 0.25 + (i % 8) * 0.25 // some runs 0.25..2 ms late
      const m = monitor(policy, () => {})
      m.touch()
      touchedAt.push(performance.now())
      m.on('dead', () => lateness.push(performance.now() - (touchedAt[i] as number) - d))
    }
    for (let t = 0; t < 3 * d; t += 0.5) vi.advanceTimersByTime(0.5)
    expect(lateness).toHaveLength(200)
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0)
    // Where skews add up beyond the noise threshold, the run records a whole-tick correction instead.
    expect(Math.max(...lateness)).toBeLessThanOrEqual(2 * TICK + 2)
  })
})

describe('small lateness is not a stall', () => {
  it('a timer a few ms late publishes nothing and changes no verdict', () => {
    const policy = presets.fast
    const m = monitor(policy, () => {})
    let deadAt = Number.NaN
    m.on('dead', () => {
      deadAt = performance.now()
    })
    const start = performance.now()
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(1_000)
      processClock.skew += 1 // a 1 ms late timer, five times
    }
    while (Number.isNaN(deadAt)) vi.advanceTimersByTime(TICK)
    expect(stalls).toHaveLength(0)
    expect(deadAt - start).toBeGreaterThanOrEqual(detectionTime(policy))
    // One tick, plus the five 1 ms skews above (each shifts the runs after it).
    expect(deadAt - start).toBeLessThanOrEqual(detectionTime(policy) + TICK + 5)
  })
})

it('publishes on keepalive:monitor:stall only with a subscriber', () => {
  diagnosticsChannel.unsubscribe('keepalive:monitor:stall', onStall)
  expect(channels.monitorStall.hasSubscribers).toBe(false)
  const m = monitor(presets.fast, () => m.touch())
  stall(20_000)
  expect(stalls).toHaveLength(0)
  expect(m.state).toBe('idle')
  diagnosticsChannel.subscribe('keepalive:monitor:stall', onStall)
})

describe('sustained lag beyond timer noise (every run a little late)', () => {
  it('never declares death early, even after the stall corrections of the touch were capped away', () => {
    // Every run 3 ms late (above the 2.5 ms noise bound) records a correction; over balanced's 60 s
    // (6000 runs) the map's cap (4096) drops the one that bounds the touch below.
    const fakeSetTimeout = globalThis.setTimeout
    let lag = 3
    let beforeRun: (() => void) | undefined
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms: number) =>
      fakeSetTimeout(() => {
        processClock.skew += lag
        const hook = beforeRun
        beforeRun = undefined
        hook?.()
        fn()
      }, ms)) as never)
    const policy = presets.balanced
    const d = detectionTime(policy)
    const m = monitor(policy, () => {})
    let deadAt = 0
    m.on('dead', () => {
      deadAt = performance.now()
    })
    vi.advanceTimersByTime(1_000)
    // One run is 20 ms late, and the peer's last packet arrives while that run is overdue.
    let touchedAt = 0
    lag = 20
    beforeRun = () => {
      m.touch()
      touchedAt = performance.now()
    }
    vi.advanceTimersByTime(TICK)
    lag = 3
    while (m.state !== 'dead' && performance.now() < touchedAt + 2 * d) vi.advanceTimersByTime(TICK)
    expect(m.state).toBe('dead')
    expect(deadAt - touchedAt).toBeGreaterThanOrEqual(d)
    // Two ticks (the touch lands in an overdue run's tick), plus that run's 20 ms lag.
    expect(deadAt - touchedAt).toBeLessThanOrEqual(d + 2 * TICK + 20)
  })
})

describe('issue #10: the discriminating stall case (a stall spanning the deadline of probing peers)', () => {
  it('the peer whose answer arrived during the stall lives; the silent one dies at resume, not + interval', () => {
    const policy = definePolicy({ idle: 1_000, interval: 500, probes: 2 })
    const d = detectionTime(policy)
    const live = monitor(policy, () => {})
    const silent = monitor(policy, () => {})
    let liveDead = false
    let silentDeadAt = Number.NaN
    let silentProbes = 0
    live.on('dead', () => {
      liveDead = true
    })
    silent.on('dead', (event) => {
      silentDeadAt = performance.now()
      silentProbes = event.probesSent
    })
    const start = performance.now()
    vi.advanceTimersByTime(policy.idle + policy.interval + TICK) // both sent their 2 probes
    expect(live.probesSent).toBe(2)
    processClock.skew += 1_500 // the process stalls across both deadlines (start + 2000)
    const resumedAt = performance.now()
    processClock.resume() // timers phase: the late run reaches both deadlines
    expect(live.state).toBe('probing')
    expect(silent.state).toBe('probing')
    live.touch() // poll phase: the live peer's reply, which arrived during the stall, is read
    vi.advanceTimersToNextTimer() // check phase: the verdicts
    expect(liveDead).toBe(false)
    expect(live.state).toBe('idle')
    expect(silentDeadAt - start).toBeGreaterThanOrEqual(d)
    expect(silentDeadAt - resumedAt).toBeLessThanOrEqual(TICK + 1) // not + interval (500 ms)
    expect(silentProbes).toBe(2)
    expect(stalls.map((s) => s.monitor)).toEqual([live, silent])
  })
})

describe('issue #10: a reply read while the loop is busy is stamped when it is read', () => {
  it('an answer read 40 ms into an overdue run is bounded by its read time, not by the run 40 ms later', () => {
    const policy = presets.fast
    const d = detectionTime(policy)
    const m = monitor(policy, () => {})
    let deadAt = Number.NaN
    m.on('dead', () => {
      deadAt = performance.now()
    })
    vi.advanceTimersByTime(policy.idle + TICK)
    expect(m.state).toBe('probing')
    processClock.skew += 40 // the loop is busy (reading thousands of replies): the next run is overdue
    m.touch() // this peer's reply
    const touchedAt = performance.now()
    expect(m.lastSeen - touchedAt).toBeGreaterThanOrEqual(0)
    expect(m.lastSeen - touchedAt).toBeLessThanOrEqual(0.001)
    processClock.skew += 40 // still busy
    vi.advanceTimersByTime(TICK) // the late run
    while (Number.isNaN(deadAt) && performance.now() < touchedAt + 2 * d) vi.advanceTimersByTime(1)
    expect(deadAt - touchedAt).toBeGreaterThanOrEqual(d)
    expect(deadAt - touchedAt).toBeLessThanOrEqual(d + TICK) // was d + 40 + a tick
  })
})

describe("issue #10: the scheduler's own burst is not a stall", () => {
  it('deaths that take 300 ms to handle make the next run late: its monitors die without an extra interval, no stall published', () => {
    const policy = presets.fast // interval 1 s: stall threshold 250 ms
    const d = detectionTime(policy)
    const burst: Monitor[] = []
    for (let i = 0; i < 300; i++) {
      const m = monitor(policy, () => {})
      m.on('dead', () => {
        processClock.skew += 1 // each dead listener works 1 ms (destroys a socket, logs, reconnects)
      })
      burst.push(m)
    }
    vi.advanceTimersByTime(2 * TICK)
    const laterAt = performance.now()
    const later: number[] = []
    const attempts: number[] = []
    for (let i = 0; i < 50; i++) {
      const m = monitor(policy, ({ attempt }) => attempts.push(attempt))
      m.on('dead', () => later.push(performance.now() - laterAt))
    }
    while (later.length < 50 && performance.now() < laterAt + 2 * d) vi.advanceTimersByTime(1)
    expect(burst.every((m) => m.state === 'dead')).toBe(true)
    expect(later).toHaveLength(50)
    expect(Math.min(...later)).toBeGreaterThanOrEqual(d)
    // The burst (300 ms) + a tick + the check phase; an extra interval would be + 1,000 ms.
    expect(Math.max(...later)).toBeLessThanOrEqual(d + 300 + 2 * TICK)
    expect(attempts.filter((a) => a > policy.probes)).toHaveLength(0)
    expect(stalls).toHaveLength(0)
  })
})

describe("issue #10: a run late only because of the scheduler's own burst", () => {
  it('declares its deaths itself: the poll phase ran after the burst, so nothing waits for the check phase', () => {
    const policy = presets.fast
    const burst: Monitor[] = []
    for (let i = 0; i < 300; i++) {
      const m = monitor(policy, () => {})
      m.on('dead', () => {
        processClock.skew += 1 // each dead listener works 1 ms: the burst's run takes 300 ms
      })
      burst.push(m)
    }
    vi.advanceTimersByTime(TICK)
    const later: Monitor[] = []
    for (let i = 0; i < 50; i++) {
      const m = monitor(policy, () => {})
      m.on('dead', () => later.push(m))
    }
    while (!burst.every((m) => m.state === 'dead')) vi.advanceTimersToNextTimer()
    expect(later).toHaveLength(0)
    // The next timer is the next grid run, 300 ms late against its plan but only a tick after the burst's run
    // ended (stallByMs): every one of the 50 dies in that run, not in a check phase after it.
    vi.advanceTimersToNextTimer()
    expect(later).toHaveLength(50)
    expect(stalls).toHaveLength(0)
  })
})

/**
 * Both monitors probe in one run; then the poll phase reads both answers in one burst: a's at once, b's 7 ms later
 * (the clock moves, no timer runs). Returns when each answer was handled.
 */
function answerSevenMsApart(
  policy: Policy,
  a: Monitor,
  b: Monitor,
): { aAnsweredAt: number; bAnsweredAt: number } {
  vi.advanceTimersByTime(policy.idle + TICK)
  expect(a.state).toBe('probing')
  expect(b.state).toBe('probing')
  processClock.skew += 1
  const aAnsweredAt = performance.now()
  a.touch()
  processClock.skew += 7
  const bAnsweredAt = performance.now()
  b.touch()
  return { aAnsweredAt, bAnsweredAt }
}

describe('issue #10: answers read in one burst keep their own times', () => {
  it('two peers answering 7 ms apart within one tick, then silent, die 7 ms apart: each at its answer + detectionTime', () => {
    const policy = presets.fast
    const d = detectionTime(policy)
    const a = monitor(policy, () => {})
    const b = monitor(policy, () => {})
    const deadAt = new Map<Monitor, number>()
    a.on('dead', () => deadAt.set(a, performance.now()))
    b.on('dead', () => deadAt.set(b, performance.now()))
    const { aAnsweredAt, bAnsweredAt } = answerSevenMsApart(policy, a, b)
    while (deadAt.size < 2 && performance.now() < bAnsweredAt + 2 * d) vi.advanceTimersByTime(1)
    const aLate = (deadAt.get(a) as number) - (aAnsweredAt + d)
    const bLate = (deadAt.get(b) as number) - (bAnsweredAt + d)
    // Never early; late by at most Node's whole-ms timer rounding (the sub-tick run that fires each death). With
    // the tick's bound (the latest answer of the tick, b's) a would die 7 ms late, together with b.
    expect(aLate).toBeGreaterThanOrEqual(0)
    expect(aLate).toBeLessThanOrEqual(1)
    expect(bLate).toBeGreaterThanOrEqual(0)
    expect(bLate).toBeLessThanOrEqual(1)
    expect(a.lastSeen).toBe(aAnsweredAt)
  })

  it('two peers answering 7 ms apart within one tick are probed again 7 ms apart: each exactly idle after its answer', () => {
    const policy = presets.fast
    const probedAt = new Map<Monitor, number[]>()
    const make = () => {
      const m: Monitor = monitor(policy, () => {
        probedAt.get(m)?.push(performance.now())
      })
      probedAt.set(m, [])
      return m
    }
    const a = make()
    const b = make()
    const { aAnsweredAt, bAnsweredAt } = answerSevenMsApart(policy, a, b)
    while ((probedAt.get(b) as number[]).length < 2 && performance.now() < bAnsweredAt + 2 * policy.idle) {
      vi.advanceTimersByTime(1)
    }
    const aNext = (probedAt.get(a) as number[])[1] as number
    const bNext = (probedAt.get(b) as number[])[1] as number
    // Never before idle; late by at most Node's whole-ms timer rounding (the sub-tick run that sends each). On the
    // tick grid both would go out in the same run: a up to a tick late, or b up to lateNoiseMs early.
    expect(aNext - aAnsweredAt).toBeGreaterThanOrEqual(policy.idle)
    expect(aNext - aAnsweredAt).toBeLessThanOrEqual(policy.idle + 1)
    expect(bNext - bAnsweredAt).toBeGreaterThanOrEqual(policy.idle)
    expect(bNext - bAnsweredAt).toBeLessThanOrEqual(policy.idle + 1)
  })

  it('a plain touch after the answer takes over: the death counts from its (tick) bound, never earlier', () => {
    const policy = presets.fast
    const d = detectionTime(policy)
    const m = monitor(policy, () => {})
    let deadAt = 0
    m.on('dead', () => {
      deadAt = performance.now()
    })
    vi.advanceTimersByTime(policy.idle + TICK)
    m.touch() // the answer: exact
    vi.advanceTimersByTime(3 * TICK)
    processClock.skew += 4
    const touchedAt = performance.now()
    m.touch() // a plain touch, not probing: stored on the tick grid, bounded by the tick's retirement
    while (deadAt === 0 && performance.now() < touchedAt + 2 * d) vi.advanceTimersByTime(1)
    expect(deadAt - touchedAt).toBeGreaterThanOrEqual(d)
    expect(deadAt - touchedAt).toBeLessThanOrEqual(d + TICK + 1)
  })
})

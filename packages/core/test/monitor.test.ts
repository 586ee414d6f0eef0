// The liveness monitor's promises, as numbers, on fake timers (setTimeout and performance.now both fake).
import {
  configureScheduler,
  createMonitor,
  type DeadEvent,
  definePolicy,
  detectionTime,
  InvalidPolicyError,
  isKeepaliveError,
  type Monitor,
  type Policy,
  presets,
  schedulerInfo,
} from '@keepalive/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

const DEFAULT_TICK = 10
/** The scheduler's tick in this test. Hours of fake time run on a 1 s tick: same code, fewer fake timer firings. */
let TICK = DEFAULT_TICK
function useTick(ms: number): void {
  configureScheduler({ tickMs: ms })
  TICK = ms
}

beforeEach(() => {
  // queueMicrotask too: the scheduler bounds a callback's touches in a microtask queued by the first of them.
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
})

const created: Monitor[] = []
afterEach(() => {
  for (const m of created.splice(0)) m.stop()
  expect(schedulerInfo()).toMatchObject({ monitors: 0, timerArmed: false })
  useTick(DEFAULT_TICK)
  vi.useRealTimers()
})

function monitor(policy: Policy, probe: (c: { attempt: number }) => unknown = () => {}): Monitor {
  const m = createMonitor({ policy, probe })
  created.push(m)
  return m
}

/** Advances fake time one tick at a time until `done()` or `limitMs`. */
function advanceUntil(done: () => boolean, limitMs: number): void {
  const end = performance.now() + limitMs
  while (!done() && performance.now() < end) vi.advanceTimersByTime(TICK)
}

const policies: Array<[string, number, Policy]> = [
  ['fast', 10, presets.fast],
  ['balanced', 10, presets.balanced],
  ['battery', 10, presets.battery],
  ['linux-default', 1_000, presets['linux-default']],
  ['jitter 0.5', 10, definePolicy({ idle: 2_000, interval: 500, probes: 4, jitter: 0.5 })],
  ['one probe', 10, definePolicy({ idle: 100, interval: 50, probes: 1 })],
  ['fast on a 50 ms tick', 50, presets.fast],
]

describe('a peer silent forever', () => {
  it.each(policies)(
    '%s: dead within [detectionTime, detectionTime + 1 tick] of the last touch (tick %i ms)',
    (_, tick, policy) => {
      useTick(tick)
      const d = detectionTime(policy)
      // Several touch phases inside a tick, and several silent periods before the last touch.
      for (const offset of [0, 3, 7, 9.5]) {
        vi.advanceTimersByTime(offset)
        const probes: number[] = []
        const m = monitor(policy, () => probes.push(performance.now()))
        vi.advanceTimersByTime(policy.idle / 2)
        m.touch()
        const lastTouch = performance.now()
        let dead: DeadEvent | undefined
        let deadAt = Number.NaN
        m.on('dead', (event) => {
          dead = event
          deadAt = performance.now()
        })
        advanceUntil(() => dead !== undefined, d + 10 * TICK)
        const lateness = deadAt - lastTouch - d
        expect(lateness).toBeGreaterThanOrEqual(0)
        expect(lateness).toBeLessThanOrEqual(TICK)
        expect(m.state).toBe('dead')
        expect(dead?.probesSent).toBe(policy.probes)
        expect(probes).toHaveLength(policy.probes)
        // silenceMs never overstates the real silence, and is at most one tick short of it.
        expect(dead?.silenceMs).toBeLessThanOrEqual(deadAt - lastTouch)
        expect(dead?.silenceMs).toBeGreaterThanOrEqual(deadAt - lastTouch - TICK)
        expect(isKeepaliveError(dead?.reason, 'KA_ERR_PROBE_TIMEOUT')).toBe(true)
        expect(dead?.reason.message).toMatch(new RegExp(`${policy.probes} probes? unanswered`))
        expect(dead?.reason.message).toMatch(/No sign of life for \d+ ms/)
        // The first probe comes at idle × (1 − jitter) .. idle (+ 1 tick) of silence, then every interval.
        const first = (probes[0] as number) - lastTouch
        expect(first).toBeGreaterThanOrEqual(policy.idle * (1 - policy.jitter))
        expect(first).toBeLessThanOrEqual(policy.idle + TICK)
        for (let i = 1; i < probes.length; i++) {
          expect((probes[i] as number) - (probes[i - 1] as number)).toBe(policy.interval)
        }
        // Dead is final: the monitor left the scheduler; a later touch changes nothing.
        m.touch()
        vi.advanceTimersByTime(d)
        expect(m.state).toBe('dead')
      }
    },
  )

  it('emits dead exactly once and never before detectionTime, over many creation phases', () => {
    const policy = definePolicy({ idle: 300, interval: 100, probes: 2, jitter: 0.3 })
    const d = detectionTime(policy)
    const deaths: number[] = []
    const touches: number[] = []
    for (let i = 0; i < 100; i++) {
      vi.advanceTimersByTime(1.3)
      const m = monitor(policy)
      touches.push(performance.now())
      m.on('dead', () => deaths.push(performance.now() - (touches[i] as number) - d))
    }
    vi.advanceTimersByTime(d * 3)
    expect(deaths).toHaveLength(100)
    expect(Math.min(...deaths)).toBeGreaterThanOrEqual(0)
    // Timers count whole milliseconds: from a fractional phase a run can fire up to 1 ms after its tick,
    // and a death waits (a sub-tick timer, whole ms too) until the clock has passed the run that retired
    // the touch's tick, which may itself have been up to 1 ms late.
    expect(Math.max(...deaths)).toBeLessThanOrEqual(TICK + 2)
  })

  it('rounds a detection time that is not a whole number of ticks up, never down', () => {
    const policy = definePolicy({ idle: 1_234, interval: 333, probes: 2 })
    const d = detectionTime(policy)
    const m = monitor(policy)
    const start = performance.now()
    let deadAt = Number.NaN
    m.on('dead', () => {
      deadAt = performance.now()
    })
    advanceUntil(() => !Number.isNaN(deadAt), d + 10 * TICK)
    expect(deadAt - start).toBeGreaterThanOrEqual(d)
    expect(deadAt - start).toBeLessThanOrEqual(Math.ceil(d / TICK) * TICK + TICK)
  })
})

describe('a peer that answers', () => {
  it('by touch, is never declared dead over 10 hours, probed every idle', () => {
    useTick(1_000)
    const policy = presets.balanced
    const probes: number[] = []
    const m = monitor(policy, () => {
      probes.push(performance.now())
      m.touch() // the answer arrives with the probe
    })
    const alive = vi.fn()
    const dead = vi.fn()
    m.on('alive', alive).on('dead', dead)
    vi.advanceTimersByTime(10 * 3_600_000)
    expect(dead).not.toHaveBeenCalled()
    expect(m.state).toBe('idle')
    expect(probes.length).toBeGreaterThan((10 * 3_600_000) / (policy.idle + TICK) - 1)
    for (let i = 1; i < probes.length; i++) {
      const gap = (probes[i] as number) - (probes[i - 1] as number)
      expect(gap).toBeGreaterThanOrEqual(policy.idle)
      expect(gap).toBeLessThanOrEqual(policy.idle + TICK)
    }
    expect(alive).toHaveBeenCalledTimes(probes.length)
  })

  it('with a jittered policy, first probes come within [idle × (1 − jitter), idle] of silence', () => {
    const policy = definePolicy({ idle: 1_000, interval: 200, probes: 3, jitter: 0.5 })
    const silences: number[] = []
    const m = monitor(policy, () => {
      silences.push(m.silence)
      m.touch()
    })
    const dead = vi.fn()
    m.on('dead', dead)
    vi.advanceTimersByTime(3_600_000)
    expect(dead).not.toHaveBeenCalled()
    expect(silences.length).toBeGreaterThan(3_600)
    // `silence` counts from the recorded touch (at most a tick late), so it may read up to a tick short.
    expect(Math.min(...silences)).toBeGreaterThanOrEqual(policy.idle * (1 - policy.jitter) - TICK)
    expect(Math.max(...silences)).toBeLessThanOrEqual(policy.idle + TICK)
    // Spread, not lock-step: jitter really is random.
    expect(Math.max(...silences) - Math.min(...silences)).toBeGreaterThan(policy.idle * policy.jitter * 0.5)
  })

  it('by a resolved promise, with a measured round-trip time, is never declared dead over 10 hours', async () => {
    useTick(1_000)
    const policy = definePolicy({ idle: 30_000, interval: 5_000, probes: 2 })
    const rtts: number[] = []
    let probes = 0
    const m = monitor(policy, () => {
      probes++
      // The answer takes most of an interval: still in time.
      return new Promise<void>((resolve) => setTimeout(resolve, policy.interval - 1_500))
    })
    const dead = vi.fn()
    m.on('dead', dead).on('alive', ({ rttMs }) => rtts.push(rttMs as number))
    await vi.advanceTimersByTimeAsync(10 * 3_600_000)
    expect(dead).not.toHaveBeenCalled()
    expect(probes).toBeGreaterThan((10 * 3_600_000) / (policy.idle + policy.interval) - 1)
    expect(rtts).toHaveLength(probes)
    for (const rtt of rtts) expect(rtt).toBe(policy.interval - 1_500)
  })

  it('after several unanswered probes, one answer resets the count', () => {
    const policy = presets.fast
    let answer = false
    const attempts: number[] = []
    const m = monitor(policy, ({ attempt }) => {
      attempts.push(attempt)
      if (answer) m.touch()
    })
    const alive: Array<number | undefined> = []
    m.on('alive', ({ rttMs }) => alive.push(rttMs))
    vi.advanceTimersByTime(policy.idle + policy.interval + TICK) // two probes, unanswered
    expect(attempts).toEqual([1, 2])
    expect(m.state).toBe('probing')
    expect(m.probesSent).toBe(2)
    vi.advanceTimersByTime(policy.interval / 2)
    m.touch() // data arrives: alive, with the time since the last probe
    expect(m.state).toBe('idle')
    expect(m.probesSent).toBe(0)
    expect(alive).toHaveLength(1)
    expect(alive[0]).toBeGreaterThanOrEqual(policy.interval / 2)
    expect(alive[0]).toBeLessThanOrEqual(policy.interval / 2 + TICK)
    answer = true
    vi.advanceTimersByTime(detectionTime(policy) * 5)
    expect(m.state).toBe('idle')
    expect(attempts.filter((a) => a > 1)).toHaveLength(1) // only the first silent period needed a second probe
  })

  it('keeps a peer that talks on its own from ever being probed', () => {
    const probe = vi.fn()
    const m = monitor(presets.fast, probe)
    for (let t = 0; t < 3_600_000; t += 4_000) {
      vi.advanceTimersByTime(4_000)
      m.touch()
    }
    expect(probe).not.toHaveBeenCalled()
    expect(m.state).toBe('idle')
  })
})

describe('probe errors', () => {
  it('a throwing probe is reported as ProbeFailedError and does not move the deadline', () => {
    const policy = presets.fast
    const boom = new Error('EPIPE')
    const m = monitor(policy, () => {
      throw boom
    })
    const errors: unknown[] = []
    let deadAt = Number.NaN
    const start = performance.now()
    m.on('probeError', ({ error, attempt }) => errors.push([error, attempt]))
    m.on('dead', () => {
      deadAt = performance.now()
    })
    advanceUntil(() => !Number.isNaN(deadAt), detectionTime(policy) + 10 * TICK)
    expect(errors).toHaveLength(policy.probes)
    const [error, attempt] = errors[0] as [Error & { code: string; cause: unknown }, number]
    expect(attempt).toBe(1)
    expect(isKeepaliveError(error, 'KA_ERR_PROBE_FAILED')).toBe(true)
    expect(error.cause).toBe(boom)
    expect(error.message).toMatch(/Probe 1 failed: EPIPE/)
    expect(deadAt - start - detectionTime(policy)).toBeGreaterThanOrEqual(0)
    expect(deadAt - start - detectionTime(policy)).toBeLessThanOrEqual(TICK)
  })

  it('a rejecting probe is reported, the peer is still dead at detectionTime', async () => {
    const policy = presets.fast
    const m = monitor(policy, () => Promise.reject(new Error('no route')))
    const errors: Error[] = []
    let deadAt = Number.NaN
    const start = performance.now()
    m.on('probeError', ({ error }) => errors.push(error))
    m.on('dead', () => {
      deadAt = performance.now()
    })
    await vi.advanceTimersByTimeAsync(detectionTime(policy) + 10 * TICK)
    expect(errors.map((e) => (e.cause as Error).message)).toEqual(['no route', 'no route', 'no route'])
    expect(deadAt - start - detectionTime(policy)).toBeGreaterThanOrEqual(0)
    expect(deadAt - start - detectionTime(policy)).toBeLessThanOrEqual(TICK)
  })

  it('a rejection with nobody listening crashes nothing', async () => {
    const m = monitor(presets.fast, () => Promise.reject(new Error('ignored')))
    await vi.advanceTimersByTimeAsync(detectionTime(presets.fast) + TICK)
    expect(m.state).toBe('dead')
  })

  it('ignores answers that arrive after death or stop', async () => {
    const policy = definePolicy({ idle: 100, interval: 50, probes: 1 })
    const resolvers: Array<() => void> = []
    const m = monitor(policy, () => new Promise<void>((r) => resolvers.push(r)))
    const alive = vi.fn()
    m.on('alive', alive)
    await vi.advanceTimersByTimeAsync(detectionTime(policy) + TICK)
    expect(m.state).toBe('dead')
    for (const r of resolvers) r()
    await vi.advanceTimersByTimeAsync(TICK)
    expect(alive).not.toHaveBeenCalled()
    expect(m.state).toBe('dead')
  })
})

describe('a bad policy', () => {
  /** A Proxy whose every trap throws: even Object.isFrozen on it throws. */
  function hostile(target: object = {}): object {
    const boom = () => {
      throw new Error('boom')
    }
    return new Proxy(target, {
      get: boom,
      has: boom,
      ownKeys: boom,
      getOwnPropertyDescriptor: boom,
      getPrototypeOf: boom,
      isExtensible: boom,
      preventExtensions: boom,
    })
  }

  it('a hostile Proxy is an InvalidPolicyError (KA_ERR_INVALID_POLICY), not the trap error; nothing is scheduled', () => {
    // Issue #8: a policy is plain data, so a Proxy that only refuses Object.isFrozen (its isExtensible trap throws)
    // is rejected too, though its fields read as a policy (it used to be accepted here).
    const refusesIsFrozen = new Proxy(
      { idle: 100, interval: 50, probes: 3 },
      {
        isExtensible() {
          throw new Error('boom')
        },
      },
    )
    for (const policy of [
      hostile(),
      hostile(Object.freeze({ idle: 100, interval: 50, probes: 3 })),
      refusesIsFrozen,
    ]) {
      let thrown: unknown
      try {
        createMonitor({ policy: policy as Policy, probe: () => {} })
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(InvalidPolicyError)
      expect(thrown).toMatchObject({ code: 'KA_ERR_INVALID_POLICY' })
      expect((thrown as Error).message).toMatch(/^Invalid policy: could not read the input/)
      expect((thrown as Error).cause).toEqual(new Error('boom'))
    }
    expect(schedulerInfo()).toMatchObject({ monitors: 0, timerArmed: false })
  })

  it('any other bad policy is an InvalidPolicyError too', () => {
    for (const policy of ['nope', 42, null, [], { idle: -1 }, { probes: 0 }]) {
      expect(() => createMonitor({ policy: policy as never, probe: () => {} })).toThrow(InvalidPolicyError)
    }
    expect(schedulerInfo()).toMatchObject({ monitors: 0, timerArmed: false })
  })
})

describe('the Monitor object', () => {
  it('reports state, policy, name, lastSeen, silence and probesSent', () => {
    const m = createMonitor({ policy: 'fast', probe: () => {}, name: 'broker-1' })
    created.push(m)
    expect(m.state).toBe('idle')
    expect(m.name).toBe('broker-1')
    expect(m.policy).toBe(presets.fast)
    vi.advanceTimersByTime(1_000)
    m.touch()
    expect(m.lastSeen).toBeGreaterThanOrEqual(performance.now())
    expect(m.lastSeen).toBeLessThanOrEqual(performance.now() + TICK)
    vi.advanceTimersByTime(2_000)
    expect(m.silence).toBeGreaterThanOrEqual(2_000 - TICK)
    expect(m.silence).toBeLessThanOrEqual(2_000)
    expect(m.probesSent).toBe(0)
    expect(String(m)).toBe('[object Monitor]')
  })

  it('on/off: removed listeners are not called; a listener may remove itself', () => {
    const m = monitor(definePolicy({ idle: 100, interval: 50, probes: 3 }))
    const a = vi.fn()
    const b = vi.fn()
    let onceCalls = 0
    const once = function self(): void {
      m.off('probe', self)
      onceCalls++
    }
    m.on('probe', a).on('probe', b).on('probe', once)
    m.off('probe', a)
    vi.advanceTimersByTime(300)
    expect(a).not.toHaveBeenCalled()
    expect(b).toHaveBeenCalledTimes(3)
    expect(b.mock.calls.map(([e]) => e.attempt)).toEqual([1, 2, 3])
    expect(onceCalls).toBe(1)
  })

  it('rejects bad options and unknown events with KA_ERR_INVALID_ARGUMENT', () => {
    // @ts-expect-error probe is required
    expect(() => createMonitor({ policy: 'fast' })).toThrow(/options.probe must be a function/)
    // @ts-expect-error name is a string
    expect(() => createMonitor({ probe: () => {}, name: 42 })).toThrow(/options.name must be a string/)
    expect(() => createMonitor({ probe: () => {}, policy: { idle: -1 } })).toThrow(
      expect.objectContaining({ code: 'KA_ERR_INVALID_POLICY' }),
    )
    const m = monitor(presets.fast)
    // @ts-expect-error unknown event
    expect(() => m.on('close', () => {})).toThrow(
      expect.objectContaining({ code: 'KA_ERR_INVALID_ARGUMENT' }),
    )
    // @ts-expect-error listener must be a function
    expect(() => m.on('dead', 'nope')).toThrow(/must be a function/)
  })

  it('a listener that stops its monitor from a probe event stops the probe too', () => {
    const probe = vi.fn()
    const m = monitor(presets.fast, probe)
    m.on('probe', () => m.stop())
    vi.advanceTimersByTime(detectionTime(presets.fast) * 2)
    expect(probe).not.toHaveBeenCalled()
    expect(m.state).toBe('stopped')
  })
})

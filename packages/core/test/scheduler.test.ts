// The shared scheduler: one timer for every monitor, unref'd, gone when the last monitor goes.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { configureScheduler, createMonitor, type Monitor, presets, schedulerInfo } from '@keepalive/core'
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import { recordDeadline } from './helpers.js'

const created: Monitor[] = []
afterEach(() => {
  for (const m of created.splice(0)) m.stop()
  vi.useRealTimers()
})

function monitor(policy = presets.fast, probe: () => unknown = () => {}): Monitor {
  const m = createMonitor({ policy, probe })
  created.push(m)
  return m
}

function fakeTimers(): void {
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
}

/** Fake timers pending once the current callback's queued work has run: what the process holds while it waits. */
function timersAfterCheckPhase(): number {
  vi.advanceTimersByTime(0)
  return vi.getTimerCount()
}

describe('one timer', () => {
  it('is shared by many monitors of different policies, and cleared with the last one', () => {
    fakeTimers()
    expect(timersAfterCheckPhase()).toBe(0)
    const monitors = Array.from({ length: 1_000 }, (_, i) =>
      monitor(i % 2 === 0 ? presets.fast : presets.balanced),
    )
    expect(timersAfterCheckPhase()).toBe(1)
    expect(schedulerInfo()).toEqual({ tickMs: 10, monitors: 1_000, timerArmed: true })
    vi.advanceTimersByTime(59_000) // balanced: dead 60 s after creation
    expect(timersAfterCheckPhase()).toBe(1) // the fast ones died; the balanced ones still run
    expect(schedulerInfo().monitors).toBe(500)
    for (const m of monitors) m.stop()
    expect(timersAfterCheckPhase()).toBe(0)
    expect(schedulerInfo()).toEqual({ tickMs: 10, monitors: 0, timerArmed: false })
  })

  it('is cleared when the last monitor dies, and restarted by the next one', () => {
    fakeTimers()
    const m = monitor(presets.fast)
    vi.advanceTimersByTime(10_000)
    expect(m.state).toBe('dead')
    expect(timersAfterCheckPhase()).toBe(0)
    monitor(presets.fast)
    expect(timersAfterCheckPhase()).toBe(1)
  })

  it('stop() is idempotent, from any state, and leaves no timer behind', () => {
    fakeTimers()
    const a = monitor()
    const b = monitor()
    a.stop()
    a.stop()
    expect(a.state).toBe('stopped')
    expect(timersAfterCheckPhase()).toBe(1)
    vi.advanceTimersByTime(presets.fast.idle + 10) // b is probing
    expect(b.state).toBe('probing')
    b.stop()
    b.stop()
    expect(b.state).toBe('stopped')
    expect(b.probesSent).toBe(1)
    expect(timersAfterCheckPhase()).toBe(0)
    const c = monitor()
    vi.advanceTimersByTime(10_000)
    expect(c.state).toBe('dead')
    c.stop() // stopping a dead monitor changes nothing
    expect(c.state).toBe('dead')
    expect(schedulerInfo().monitors).toBe(0)
  })

  it('a stopped monitor is never probed and never dies', () => {
    fakeTimers()
    const probe = vi.fn()
    const m = monitor(presets.fast, probe)
    const dead = vi.fn()
    m.on('dead', dead)
    m.stop()
    monitor() // keeps the scheduler running
    vi.advanceTimersByTime(60_000)
    expect(probe).not.toHaveBeenCalled()
    expect(dead).not.toHaveBeenCalled()
  })

  it('a listener may stop other monitors due in the same tick', () => {
    fakeTimers()
    const monitors = Array.from({ length: 10 }, () => monitor())
    const probed: number[] = []
    monitors.forEach((m, i) => {
      m.on('probe', () => {
        probed.push(i)
        for (const other of monitors) if (other !== m) other.stop()
      })
    })
    vi.advanceTimersByTime(presets.fast.idle + 10)
    expect(probed).toHaveLength(1)
    expect(monitors.filter((m) => m.state === 'stopped')).toHaveLength(9)
  })
})

describe('with real timers', () => {
  it('never keeps the process alive and leaves no active resource after stop', async () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    // The test runner has timers of its own that come and go: ours must never add to them.
    const before = timeouts()
    const monitors = Array.from({ length: 100 }, () => monitor(presets.fast))
    expect(schedulerInfo().timerArmed).toBe(true)
    expect(timeouts()).toBeLessThanOrEqual(before) // unref'd: not an active resource
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (const m of monitors) m.stop()
    expect(schedulerInfo()).toMatchObject({ monitors: 0, timerArmed: false })
    expect(timeouts()).toBeLessThanOrEqual(before)
  })

  it('a process whose monitors are never stopped still exits on its own', async () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url))
    const entry = join(root, 'packages/core/src/index.ts')
    const dir = mkdtempSync(join(tmpdir(), 'keepalive-scheduler-'))
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'child.mts')
    writeFileSync(
      file,
      `import { createMonitor } from ${JSON.stringify(entry)}
       for (let i = 0; i < 1000; i++) createMonitor({ policy: 'balanced', probe: () => {} })
       setTimeout(() => console.log('still here'), 100)`,
    )
    const started = performance.now()
    const { stdout } = await promisify(execFile)('bash', [join(root, 'scripts/run-ts.sh'), file], {
      timeout: 20_000,
    })
    expect(stdout.trim()).toBe('still here') // ran to the end of its own work...
    // ...and exited long before any monitor's deadline (balanced: 60 s); 15 s leaves the child's tsx start-up
    // (~1–2 s) room for scheduling on a shared machine.
    recordDeadline({
      test: 'core/scheduler: process with unstopped monitors exits on its own',
      measured: performance.now() - started,
      max: 15_000,
      slack: 'tsx start-up + scheduling on a shared machine (strict <)',
    })
    expect(performance.now() - started).toBeLessThan(15_000)
  }, 30_000)
})

describe('configureScheduler', () => {
  it('changes the tick while no monitor runs', () => {
    fakeTimers()
    expect(configureScheduler({ tickMs: 50 })).toEqual({ tickMs: 50, monitors: 0, timerArmed: false })
    const m = monitor(presets.fast)
    let deadAt = Number.NaN
    m.on('dead', () => {
      deadAt = performance.now()
    })
    const start = performance.now()
    vi.advanceTimersByTime(9_000)
    expect(deadAt - start).toBeGreaterThanOrEqual(8_000)
    expect(deadAt - start).toBeLessThanOrEqual(8_000 + 50) // one 50 ms tick (fake timers)
    expect(configureScheduler({ tickMs: 10 }).tickMs).toBe(10)
  })

  it('refuses while monitors run, and rejects bad ticks', () => {
    monitor()
    expect(() => configureScheduler({ tickMs: 20 })).toThrow(
      expect.objectContaining({
        code: 'KA_ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/1 monitors/),
      }),
    )
    for (const tickMs of [0, -1, 1.5, 1001, Number.NaN]) {
      expect(() => configureScheduler({ tickMs })).toThrow(/integer from 1 to 1000/)
    }
    expect(configureScheduler({}).tickMs).toBe(10)
  })
})

describe('a tick where probes and deaths fall together (issue #10: thousands in step)', () => {
  it('declares every death before the first probe of that tick is sent', () => {
    fakeTimers()
    const policy = { idle: 200, interval: 100, probes: 2 } // dies at 400
    const order: string[] = []
    const dying = createMonitor({ policy, probe: () => {} })
    created.push(dying)
    dying.on('dead', () => order.push('dead'))
    vi.advanceTimersByTime(200) // dying: probe 1 out, its deadline (400) linked later than...
    const probing = createMonitor({ policy, probe: () => order.push('probe') }) // ...this one's probe (at 400)
    created.push(probing)
    probing.on('probe', () => order.push('probe event'))
    vi.advanceTimersByTime(200 + 10)
    expect(order).toEqual(['dead', 'probe event', 'probe'])
  })
})

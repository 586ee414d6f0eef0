// What a monitor tells the outside world: diagnostics_channel messages (typed shapes), NODE_DEBUG=keepalive,
// and what happens to a listener that throws.
import { execFile } from 'node:child_process'
import diagnosticsChannel from 'node:diagnostics_channel'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createMonitor, definePolicy, isKeepaliveError, type Monitor, presets } from '@keepalive/core'
import { channels } from '@keepalive/core/internal'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

const NAMES = ['create', 'probe', 'alive', 'dead', 'stall', 'stop', 'probeError'] as const
type Message = Record<string, unknown>
let messages: Array<[string, Message]> = []
const handlers = new Map<string, (message: unknown) => void>()

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
  messages = []
  for (const name of NAMES) {
    const handler = (message: unknown) => messages.push([name, message as Message])
    handlers.set(name, handler)
    diagnosticsChannel.subscribe(`keepalive:monitor:${name}`, handler)
  }
})

const created: Monitor[] = []
afterEach(() => {
  for (const m of created.splice(0)) m.stop()
  for (const [name, handler] of handlers) diagnosticsChannel.unsubscribe(`keepalive:monitor:${name}`, handler)
  vi.useRealTimers()
})

describe('diagnostics_channel', () => {
  it('publishes create, probe, alive, dead and stop with the documented shapes', async () => {
    const policy = definePolicy({ idle: 100, interval: 50, probes: 2 })
    let answer = true
    const m = createMonitor({ policy, probe: () => (answer ? Promise.resolve() : undefined), name: 'peer' })
    created.push(m)
    expect(messages).toEqual([['create', { monitor: m, policy }]])
    await vi.advanceTimersByTimeAsync(110)
    expect(messages.slice(1)).toEqual([
      ['probe', { monitor: m, attempt: 1, silenceMs: expect.any(Number) }],
      ['alive', { monitor: m, rttMs: 0 }],
    ])
    const probe = messages[1]?.[1] as { silenceMs: number }
    // idle 100 ms ± one 10 ms scheduler tick (fake timers: no scheduling slack).
    expect(probe.silenceMs).toBeGreaterThanOrEqual(90)
    expect(probe.silenceMs).toBeLessThanOrEqual(110)
    answer = false
    messages = []
    await vi.advanceTimersByTimeAsync(300)
    expect(messages.map(([name]) => name)).toEqual(['probe', 'probe', 'dead'])
    const [, dead] = messages[2] as [string, Message]
    expect(Object.keys(dead).sort()).toEqual(['monitor', 'probesSent', 'reason', 'silenceMs'])
    expect(dead.monitor).toBe(m)
    expect(dead.probesSent).toBe(2)
    expect(isKeepaliveError(dead.reason, 'KA_ERR_PROBE_TIMEOUT')).toBe(true)
    expect(dead.silenceMs).toBeGreaterThanOrEqual(190)
    const other = createMonitor({ policy, probe: () => {} })
    messages = []
    other.stop()
    other.stop()
    expect(messages).toEqual([['stop', { monitor: other }]])
    expect((m as unknown as { name: string }).name).toBe('peer')
  })

  it('publishes probeError with { monitor, error, attempt }, for throwing and rejecting probes, listener or not', async () => {
    const policy = definePolicy({ idle: 100, interval: 50, probes: 2 })
    const boom = new Error('EPIPE')
    const throwing = createMonitor({
      policy,
      probe: () => {
        throw boom
      },
    })
    const rejecting = createMonitor({ policy, probe: () => Promise.reject(new Error('no route')) })
    created.push(throwing, rejecting)
    const viaEvent: unknown[] = []
    rejecting.on('probeError', (event) => viaEvent.push(event))
    await vi.advanceTimersByTimeAsync(110)
    const errors = messages.filter(([name]) => name === 'probeError').map(([, message]) => message)
    expect(errors).toHaveLength(2)
    const fromThrow = errors.find((e) => e.monitor === throwing) as Message
    expect(Object.keys(fromThrow).sort()).toEqual(['attempt', 'error', 'monitor'])
    expect(fromThrow.attempt).toBe(1)
    expect(isKeepaliveError(fromThrow.error, 'KA_ERR_PROBE_FAILED')).toBe(true)
    expect((fromThrow.error as Error).cause).toBe(boom)
    const fromReject = errors.find((e) => e.monitor === rejecting) as Message
    expect(((fromReject.error as Error).cause as Error).message).toBe('no route')
    // The event and the channel carry the same error object.
    expect(viaEvent).toEqual([{ error: fromReject.error, attempt: 1 }])
    await vi.advanceTimersByTimeAsync(200)
    expect(messages.filter(([name]) => name === 'probeError')).toHaveLength(4)
  })

  it('builds no probeError message when nobody subscribes or listens', async () => {
    diagnosticsChannel.unsubscribe('keepalive:monitor:probeError', handlers.get('probeError') as never)
    handlers.delete('probeError')
    expect(channels.monitorProbeError.hasSubscribers).toBe(false)
    const m = createMonitor({ policy: presets.fast, probe: () => Promise.reject(new Error('ignored')) })
    created.push(m)
    await vi.advanceTimersByTimeAsync(presets.fast.idle + 10)
    expect(messages.filter(([name]) => name === 'probeError')).toHaveLength(0)
    expect(m.state).toBe('probing')
  })

  it('a touch while probing publishes alive with the time since the probe', () => {
    const m = createMonitor({ policy: presets.fast, probe: () => {} })
    created.push(m)
    vi.advanceTimersByTime(presets.fast.idle + 10)
    messages = []
    vi.advanceTimersByTime(300)
    m.touch()
    expect(messages).toHaveLength(1)
    const [name, message] = messages[0] as [string, { rttMs: number }]
    expect(name).toBe('alive')
    // 300 ms after the probe, + one 10 ms scheduler tick (the probe went out on a tick; fake timers).
    expect(message.rttMs).toBeGreaterThanOrEqual(300)
    expect(message.rttMs).toBeLessThanOrEqual(310)
  })
})

// Child processes run the TypeScript sources through scripts/run-ts.sh: NODE_DEBUG is read at startup, and
// an uncaught exception must be observed where it cannot fail this test run.
const root = fileURLToPath(new URL('../../..', import.meta.url))
const entry = join(root, 'packages/core/src/index.ts')
const run = promisify(execFile)

async function runChild(source: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'keepalive-monitor-'))
  try {
    const file = join(dir, 'child.mts') // .mts: an ES module wherever it lives
    writeFileSync(file, source)
    return await run('bash', [join(root, 'scripts/run-ts.sh'), file], {
      env: { ...process.env, ...env },
      timeout: 20_000,
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('in a child process', () => {
  it('NODE_DEBUG=keepalive prints every monitor event', async () => {
    const { stderr } = await runChild(
      `import { createMonitor } from ${JSON.stringify(entry)}
       const m = createMonitor({ policy: { idle: 30, interval: 20, probes: 1 }, probe: () => {}, name: 'peer-a' })
       m.on('dead', () => {})
       setTimeout(() => {}, 300)`,
      { NODE_DEBUG: 'keepalive' },
    )
    // One line per event, named by its channel (core's debugChannels, used by every package).
    const lines = stderr.split('\n').filter(Boolean)
    for (const line of lines) expect(line).toMatch(/^KEEPALIVE \d+: keepalive:[a-z]+:[A-Za-z]+ \{.*\}$/)
    const event = (name: string) => lines.find((line) => line.includes(` ${name} `))
    expect(event('keepalive:monitor:create')).toMatch(/monitor: '\[monitor\]'.*policy/)
    expect(event('keepalive:monitor:probe')).toMatch(/attempt: 1.*silenceMs/)
    expect(event('keepalive:monitor:dead')).toMatch(/KA_ERR_PROBE_TIMEOUT: .*probesSent: 1/)
  }, 30_000)

  it('a throwing listener surfaces as an uncaught exception, and the scheduler carries on', async () => {
    const { stdout } = await runChild(
      `import { createMonitor } from ${JSON.stringify(entry)}
       process.on('uncaughtException', (error) => console.log('uncaught:', error.message))
       const policy = { idle: 30, interval: 20, probes: 1 }
       createMonitor({ policy, probe: () => {} }).on('dead', () => { throw new Error('listener bug') })
       createMonitor({ policy, probe: () => {} }).on('dead', () => console.log('second dead'))
       const late = createMonitor({ policy: { idle: 100, interval: 20, probes: 1 }, probe: () => {} })
       late.on('dead', () => console.log('later dead'))
       setTimeout(() => {}, 400)`,
    )
    expect(stdout.split('\n').filter(Boolean)).toEqual([
      'second dead',
      'uncaught: listener bug',
      'later dead',
    ])
  }, 30_000)

  it('without a subscriber, nothing is printed', async () => {
    const { stderr } = await runChild(
      `import { createMonitor } from ${JSON.stringify(entry)}
       createMonitor({ policy: { idle: 30, interval: 20, probes: 1 }, probe: () => {} })
       setTimeout(() => {}, 200)`,
      { NODE_DEBUG: '' },
    )
    expect(stderr).toBe('')
  }, 30_000)
})

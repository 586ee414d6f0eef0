// The watcher contract (#23): the exported states and events, and WatcherEmitter's listener checks, which every
// adapter's watcher inherits. Pure logic: no peer. Each adapter's behaviour under the contract is checked by
// the shared contract test (test/contract/watcher-contract.ts) against a real peer.

import { once } from 'node:events'
import {
  type AliveEvent,
  definePolicy,
  isKeepaliveError,
  KeepaliveError,
  type Policy,
  type ProbeEvent,
  WATCHER_EVENTS,
  WATCHER_STATES,
  type Watcher,
  type WatcherDeadEvent,
  type WatcherEvents,
  type WatcherState,
} from '@keepalive/core'
import { WatcherEmitter } from '@keepalive/core/internal'
import { describe, expect, expectTypeOf, it } from 'vitest'

interface ToyEvents extends WatcherEvents {
  hello: { readonly n: number }
}

/** The smallest watcher: what an adapter writes on top of WatcherEmitter. */
class ToyWatcher extends WatcherEmitter implements Watcher<ToyEvents> {
  readonly policy: Policy = definePolicy('fast')
  state: WatcherState = 'idle'
  probesSent = 0
  probesTotal = 0
  lastRttMs: number | undefined = undefined
  lastSeen: number | undefined = undefined
  deaths = 0
  constructor() {
    super('ToyWatcher', [...WATCHER_EVENTS, 'hello'])
  }
  stop(): void {
    this.state = 'stopped'
  }
}

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn()
  } catch (error) {
    if (isKeepaliveError(error)) return { code: error.code, message: error.message }
    throw error
  }
  throw new Error('did not throw')
}

describe('the watcher contract', () => {
  it('has one set of states, a superset of the monitor’s', () => {
    expect(WATCHER_STATES).toEqual([
      'connecting',
      'idle',
      'probing',
      'stalled',
      'disconnected',
      'dead',
      'stopped',
    ])
    // The monitor's four keep their meaning in every watcher.
    for (const s of ['idle', 'probing', 'dead', 'stopped']) expect(WATCHER_STATES).toContain(s)
    expect(Object.isFrozen(WATCHER_STATES)).toBe(true)
  })

  it('has four common events', () => {
    expect(WATCHER_EVENTS).toEqual(['probe', 'alive', 'dead', 'probeError'])
    expect(Object.isFrozen(WATCHER_EVENTS)).toBe(true)
  })

  it('types the dead event and the listeners', () => {
    expectTypeOf<WatcherDeadEvent>().toHaveProperty('reason').toEqualTypeOf<KeepaliveError>()
    expectTypeOf<WatcherDeadEvent>().toHaveProperty('silenceMs').toEqualTypeOf<number>()
    expectTypeOf<WatcherDeadEvent>().toHaveProperty('probesSent').toEqualTypeOf<number>()
    expectTypeOf<WatcherDeadEvent>().toHaveProperty('detectionMs').toEqualTypeOf<number>()
    const w: Watcher<ToyEvents> = new ToyWatcher()
    w.on('probe', (e) => expectTypeOf(e).toEqualTypeOf<ProbeEvent>())
    w.on('alive', (e) => expectTypeOf(e).toEqualTypeOf<AliveEvent>())
    w.on('hello', (e) => expectTypeOf(e.n).toEqualTypeOf<number>())
    expect(w.state).toBe('idle')
    w.stop()
    expect(w.state).toBe('stopped')
  })
})

describe('WatcherEmitter', () => {
  it('delivers its events through on, once and off', () => {
    const w = new ToyWatcher()
    const seen: string[] = []
    const onProbe = (e: ProbeEvent): void => {
      seen.push(`probe ${e.attempt}`)
    }
    w.on('probe', onProbe)
    w.once('hello', (e: { n: number }) => seen.push(`hello ${e.n}`))
    w.emit('probe', { attempt: 1, silenceMs: 5 })
    w.emit('hello', { n: 1 })
    w.emit('hello', { n: 2 })
    w.off('probe', onProbe)
    w.emit('probe', { attempt: 2, silenceMs: 10 })
    expect(seen).toEqual(['probe 1', 'hello 1'])
    expect(w.hasListeners('probe')).toBe(false)
    w.on('alive', () => {})
    expect(w.hasListeners('alive')).toBe(true)
  })

  it('rejects an unknown event name, naming it and the known ones, on every way in', () => {
    const w = new ToyWatcher()
    const ways = [
      'on',
      'once',
      'off',
      'addListener',
      'removeListener',
      'prependListener',
      'prependOnceListener',
    ] as const
    for (const way of ways) {
      const error = codeOf(() => (w[way] as (e: unknown, l: unknown) => unknown)('daed', () => {}))
      expect(error.code, way).toBe('KA_ERR_INVALID_ARGUMENT')
      expect(error.message, way).toBe(
        'ToyWatcher events are probe, alive, dead, probeError and hello; got "daed" (did you mean "dead"?)',
      )
    }
    expect(codeOf(() => w.on(Symbol('x') as never, () => {})).message).toBe(
      'ToyWatcher events are probe, alive, dead, probeError and hello; got a symbol',
    )
    expect(codeOf(() => w.on('close' as never, () => {})).message).toMatch(/got "close"$/)
    expect(w.eventNames()).toEqual([])
  })

  it('rejects a listener that is not a function, naming the event and the value', () => {
    const w = new ToyWatcher()
    const error = codeOf(() => w.on('dead', 'log' as never))
    expect(error.code).toBe('KA_ERR_INVALID_ARGUMENT')
    expect(error.message).toBe('ToyWatcher: a dead listener must be a function, got "log"')
    expect(codeOf(() => w.off('dead', undefined as never)).message).toBe(
      'ToyWatcher: a dead listener must be a function, got undefined',
    )
  })

  it('accepts an error listener (never emitted) so events.once and events.on work', async () => {
    const w = new ToyWatcher()
    const reason = new KeepaliveError('KA_ERR_PROBE_TIMEOUT', 'silent')
    const dead = once(w, 'dead')
    expect(w.listenerCount('error')).toBe(1)
    const event: WatcherDeadEvent = { reason, silenceMs: 30, probesSent: 3, detectionMs: 30 }
    w.emit('dead', event)
    await expect(dead).resolves.toEqual([event])
    // events.once removes its error listener when the event comes.
    expect(w.listenerCount('error')).toBe(0)
  })
})

describe('WatcherEmitter construction', () => {
  it('rejects a missing name or event list with KA_ERR_INVALID_ARGUMENT', () => {
    expect(codeOf(() => new WatcherEmitter('' as string)).message).toBe(
      `WatcherEmitter: what must be a watcher's name, got ""`,
    )
    expect(codeOf(() => new WatcherEmitter('W', [])).code).toBe('KA_ERR_INVALID_ARGUMENT')
    expect(codeOf(() => new WatcherEmitter('W', [1] as never)).message).toMatch(
      /events must be a non-empty array/,
    )
  })

  it('keeps its own copy of the event names', () => {
    const names = ['dead']
    const w = new WatcherEmitter('W', names)
    names.push('late')
    expect(codeOf(() => w.on('late', () => {})).message).toBe('W events are dead; got "late"')
  })
})

describe('WatcherEmitter.listenerAdded', () => {
  it('is called after a listener is added, by every way in, and not for a refused one', () => {
    const added: string[] = []
    class Lazy extends WatcherEmitter {
      protected override listenerAdded(event: string): void {
        added.push(`${event} ${this.listenerCount(event)}`)
      }
    }
    const w = new Lazy('Lazy')
    const f = () => {}
    w.on('probe', f).addListener('alive', f).once('dead', f).prependListener('probe', f)
    w.prependOnceListener('probeError', f)
    expect(() => w.on('nope' as never, f)).toThrow(KeepaliveError)
    expect(added).toEqual(['probe 1', 'alive 1', 'dead 1', 'probe 2', 'probeError 1'])
  })
})

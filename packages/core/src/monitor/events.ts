/**
 * Listener storage for monitors, kept off the monitor until first used: a monitor nobody listens to holds
 * one `undefined` field instead of an EventEmitter (which would cost ~100 bytes and a prototype chain of
 * its own on each of a million monitors).
 *
 * A throwing listener must not break the scheduler nor starve the other monitors of the same tick. We do
 * what `node:diagnostics_channel` does with a throwing subscriber: catch it, carry on, and rethrow it on
 * `process.nextTick`, where it surfaces as an uncaught exception exactly as an EventEmitter listener
 * throwing from a timer callback would. Swallowing it (or a mere warning) would hide bugs in user code.
 */

// biome-ignore lint/suspicious/noExplicitAny: listeners of every event type share this storage.
export type AnyListener = (event: any) => void
type Listeners = AnyListener | AnyListener[] | undefined

export type EventName = 'probe' | 'alive' | 'dead' | 'probeError'

/** The rarely used part of a monitor: its name, its listeners, and when it last probed. */
export class Extras {
  name: string | undefined
  /** Monotonic ms when the last probe was sent. */
  probeAt = 0
  /**
   * Monotonic ms at which the last answer was handled: an upper bound of that touch, exact to this monitor,
   * where the wheel's bound is the latest answer of the whole tick. Valid while the monitor's `seen` still
   * equals `answeredTick` (no touch since).
   */
  answeredAt = 0
  answeredTick = -1
  probe: Listeners = undefined
  alive: Listeners = undefined
  dead: Listeners = undefined
  probeError: Listeners = undefined
  constructor(name: string | undefined) {
    this.name = name
  }
}

export function addListener(extras: Extras, event: EventName, listener: AnyListener): void {
  const current = extras[event]
  if (current === undefined) extras[event] = listener
  else if (typeof current === 'function') extras[event] = [current, listener]
  else current.push(listener) // in place: adding n listeners is O(n), not O(n²); emit iterates a copy
}

export function removeListener(extras: Extras, event: EventName, listener: AnyListener): void {
  const current = extras[event]
  if (current === listener) {
    extras[event] = undefined
  } else if (Array.isArray(current)) {
    // Like EventEmitter: removes the most recently added copy.
    const index = current.lastIndexOf(listener)
    if (index === -1) return
    current.splice(index, 1)
    if (current.length === 1) extras[event] = current[0]
  }
}

export function hasListeners(extras: Extras | undefined, event: EventName): boolean {
  return extras !== undefined && extras[event] !== undefined
}

/** Calls each listener with `payload`, `this` bound to `target`. Iterates a copy (as EventEmitter does), so
 * a listener that adds or removes listeners does not change who is called this time. */
export function emit(target: object, extras: Extras | undefined, event: EventName, payload: unknown): void {
  if (extras === undefined) return
  const listeners = extras[event]
  if (listeners === undefined) return
  if (typeof listeners === 'function') {
    callSafely(target, listeners, payload)
    return
  }
  for (const listener of listeners.slice()) callSafely(target, listener, payload)
}

function callSafely(target: object, listener: AnyListener, payload: unknown): void {
  try {
    listener.call(target, payload)
  } catch (error) {
    process.nextTick(rethrow, error)
  }
}

function rethrow(error: unknown): never {
  throw error
}

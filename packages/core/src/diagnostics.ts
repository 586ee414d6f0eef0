/**
 * Core's diagnostics channels (monitor, config), named `keepalive:<area>:<event>` (the undici habit); each adapter
 * creates its own in its `diagnostics.ts`. Publishers build a message only when `channel.hasSubscribers`.
 * The same module wires `util.debuglog` (`debugChannels`, which every package calls for its own channels), so
 * `NODE_DEBUG=keepalive` prints every event of every package, one line each, with no extra code.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { debuglog, inspect } from 'node:util'

export const coreChannels = {
  /** A monitor was created: `{ monitor, policy }`. */
  monitorCreate: diagnosticsChannel.channel('keepalive:monitor:create'),
  /** A probe is being sent: `{ monitor, attempt, silenceMs }`. */
  monitorProbe: diagnosticsChannel.channel('keepalive:monitor:probe'),
  /** The peer showed life after a probe: `{ monitor, rttMs }` (`rttMs` undefined where unknown). */
  monitorAlive: diagnosticsChannel.channel('keepalive:monitor:alive'),
  /** The peer was declared dead: `{ monitor, reason, silenceMs, probesSent }`. */
  monitorDead: diagnosticsChannel.channel('keepalive:monitor:dead'),
  /**
   * A probe threw or its promise rejected: `{ monitor, error, attempt }` (`error` a `ProbeFailedError`,
   * `KA_ERR_PROBE_FAILED`, whose `cause` is what the probe threw). The deadline is unchanged.
   */
  monitorProbeError: diagnosticsChannel.channel('keepalive:monitor:probeError'),
  /** The process itself stalled (a timer fired much later than planned): `{ monitor, lateByMs }`. */
  monitorStall: diagnosticsChannel.channel('keepalive:monitor:stall'),
  /** A monitor was stopped: `{ monitor }`. */
  monitorStop: diagnosticsChannel.channel('keepalive:monitor:stop'),
  /** A config was loaded: `{ file, env }`. */
  configLoad: diagnosticsChannel.channel('keepalive:config:load'),
} as const

export type ChannelName = keyof typeof coreChannels

/** The same object, under the name core's own modules (the monitor, the config loader) use. */
export const channels = coreChannels

const debug = debuglog('keepalive')

/**
 * `NODE_DEBUG=keepalive`: prints each message of these channels as one line, `keepalive:<area>:<event> { … }`,
 * live objects (sockets, clients, connections, watchers, monitors) shown as `[name]` and errors as
 * `Code: message`. Every package calls it once for its channels, in its `diagnostics.ts`. Subscribing only when
 * debug is on keeps `hasSubscribers` false (and message building skipped) for everyone else.
 */
export function debugChannels(packageChannels: Readonly<Record<string, diagnosticsChannel.Channel>>): void {
  if (!debug.enabled) return
  for (const channel of Object.values(packageChannels)) {
    const name = String(channel.name)
    channel.subscribe((message) => debug('%s %s', name, oneLine(message)))
  }
}

debugChannels(coreChannels)

/** A message as one line of text: live objects named, errors as their code and message, nothing spread over lines. */
function oneLine(message: unknown): string {
  if (message === null || typeof message !== 'object') return inspect(message)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(message)) out[key] = summarise(key, value)
  return inspect(out, { breakLength: Number.POSITIVE_INFINITY, depth: 3 })
}

function summarise(key: string, value: unknown): unknown {
  // Milliseconds to a tenth: `silenceMs: 30.1`, not 29.976229999999987.
  if (typeof value === 'number' && !Number.isInteger(value)) return Math.round(value * 10) / 10
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    return `${typeof code === 'string' ? code : value.name}: ${value.message}`
  }
  const live = value as { destroy?: unknown; touch?: unknown; on?: unknown }
  if (
    typeof live.destroy === 'function' ||
    typeof live.touch === 'function' ||
    typeof live.on === 'function'
  ) {
    return `[${key}]`
  }
  return value
}

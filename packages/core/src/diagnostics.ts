/**
 * Core's diagnostics channels (monitor, config), named `keepalive:<area>:<event>` (the undici habit); each adapter
 * creates its own in its `diagnostics.ts`. Publishers build a message only when `channel.hasSubscribers`.
 * The same module wires `util.debuglog`, so `NODE_DEBUG=keepalive` prints every event with no extra code.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { debuglog } from 'node:util'

export const channels = {
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

export type ChannelName = keyof typeof channels

const debug = debuglog('keepalive')

// NODE_DEBUG=keepalive: print each event in one line. Subscribing only when debug is on keeps
// `hasSubscribers` false (and message building skipped) for everyone else.
if (debug.enabled) {
  for (const [name, channel] of Object.entries(channels)) {
    channel.subscribe((message) => debug('%s %o', name, summarise(message)))
  }
}

/** Drops live objects (sockets, monitors) from a message so debug output stays one readable line. */
function summarise(message: unknown): unknown {
  if (message === null || typeof message !== 'object') return message
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(message)) {
    out[key] =
      value !== null && typeof value === 'object' && ('destroy' in value || 'touch' in value)
        ? `[${key}]`
        : value
  }
  return out
}

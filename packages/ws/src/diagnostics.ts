/**
 * The `keepalive:ws:*` diagnostics channels (node:diagnostics_channel), all created here. Messages are built only
 * when a channel has subscribers. `ws` is the ws WebSocket; `watcher` the WebSocketWatcher.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { debugChannels } from '@keepalive/core/internal'

export const wsChannels = {
  /** `keepalive:ws:watch` — watchWebSocket started watching: `{ ws, watcher, side, policy, probe }` (`probe`: 'ping' | 'message'). */
  watch: diagnosticsChannel.channel('keepalive:ws:watch'),
  /** `keepalive:ws:probe` — a probe was sent (a ping, or the application message): `{ ws, watcher, attempt, silenceMs }`. */
  probe: diagnosticsChannel.channel('keepalive:ws:probe'),
  /**
   * `keepalive:ws:alive` — the peer answered a probe, or sent anything while probed: `{ ws, watcher, rttMs }`.
   * Published for watchers started while the channel had subscribers (or with an `alive` listener).
   */
  alive: diagnosticsChannel.channel('keepalive:ws:alive'),
  /** `keepalive:ws:dead` — the peer died of silence and the connection is being terminated: `{ ws, watcher, reason, silenceMs, probesSent, detectionMs }`. */
  dead: diagnosticsChannel.channel('keepalive:ws:dead'),
  /** `keepalive:ws:close` — a watched connection closed: `{ ws, watcher, reason }`. */
  close: diagnosticsChannel.channel('keepalive:ws:close'),
} as const

// NODE_DEBUG=keepalive prints these too, one line each, as every package's (core's debugChannels).
debugChannels(wsChannels)

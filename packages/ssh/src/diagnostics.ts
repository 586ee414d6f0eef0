/**
 * The `keepalive:ssh:*` diagnostics channels (node:diagnostics_channel), all created here. Messages are built only
 * when a channel has subscribers; `NODE_DEBUG=keepalive` prints them. `connection` is the ssh2 Client or server
 * Connection; `watcher` the SshWatcher.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { debugChannels } from '@keepalive/core/internal'

export const sshChannels = {
  /**
   * `keepalive:ssh:watch` — watchSsh started watching: `{ connection, watcher, side, policy, ssh2Keepalive }`
   * (`ssh2Keepalive`: ssh2's own client keepalive `{ intervalMs, countMax }` when configured, else undefined).
   */
  watch: diagnosticsChannel.channel('keepalive:ssh:watch'),
  /** `keepalive:ssh:probe` — a `keepalive@openssh.com` request was sent: `{ connection, watcher, attempt, silenceMs }`. */
  probe: diagnosticsChannel.channel('keepalive:ssh:probe'),
  /**
   * `keepalive:ssh:alive` — the peer answered a probe or sent anything while probed: `{ connection, watcher, rttMs }`.
   * Published for watchers started while the channel had subscribers (or with an `alive` listener).
   */
  alive: diagnosticsChannel.channel('keepalive:ssh:alive'),
  /**
   * `keepalive:ssh:dead` — the connection died of silence and is being destroyed:
   * `{ connection, watcher, reason, by, silenceMs, probesSent, detectionMs }` (`by`: 'watchSsh' | 'ssh2' | 'tcp').
   */
  dead: diagnosticsChannel.channel('keepalive:ssh:dead'),
  /** `keepalive:ssh:close` — a watched connection closed: `{ connection, watcher, reason }`. */
  close: diagnosticsChannel.channel('keepalive:ssh:close'),
} as const

// NODE_DEBUG=keepalive prints these too, one line each, as every package's (core's debugChannels).
debugChannels(sshChannels)

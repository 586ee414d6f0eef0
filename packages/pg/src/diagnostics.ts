/**
 * The `keepalive:pg:*` diagnostics channels. Publishers build a message only when the channel has subscribers.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { debugChannels } from '@keepalive/core/internal'

export const pgChannels = {
  /**
   * A connection pg opened through pgOptions' stream factory got its keepalive: `{ socket, report }`, the report
   * read back from the kernel (@keepalive/tcp's TcpKeepaliveReport), or `report: null` if it closed before connecting.
   */
  socket: diagnosticsChannel.channel('keepalive:pg:socket'),
  /** Something pgOptions could not do for a connection (e.g. the caller's stream factory made no TCP socket): `{ message }`. */
  warning: diagnosticsChannel.channel('keepalive:pg:warning'),
  /** watchPgPool sent a probe query on an idle client: `{ pool, client, attempt }`. */
  probe: diagnosticsChannel.channel('keepalive:pg:probe'),
  /** An idle client failed its probes and was handed to the pool as dead: `{ pool, client, reason, silenceMs, probesSent }`. */
  dead: diagnosticsChannel.channel('keepalive:pg:dead'),
} as const

// NODE_DEBUG=keepalive prints these too, one line each, as every package's (core's debugChannels).
debugChannels(pgChannels)

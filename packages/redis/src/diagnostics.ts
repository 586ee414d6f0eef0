/**
 * The `keepalive:redis:*` diagnostics channels. Publishers build a message only when the channel has subscribers.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { debugChannels } from '@keepalive/core/internal'

export const redisChannels = {
  /** A connection ioredis opened through ioredisOptions' connector got its keepalive: `{ socket, report }` (read back). */
  socket: diagnosticsChannel.channel('keepalive:redis:socket'),
  /** watchIoredis sent a PING on an idle connection: `{ client, attempt }`. */
  probe: diagnosticsChannel.channel('keepalive:redis:probe'),
  /** An idle connection failed its PINGs and was destroyed: `{ client, reason, silenceMs, probesSent }`. */
  dead: diagnosticsChannel.channel('keepalive:redis:dead'),
} as const

// NODE_DEBUG=keepalive prints these too, one line each, as every package's (core's debugChannels).
debugChannels(redisChannels)

/** net.connect and net.createServer with a `keepalive` option: every connection gets the policy at connect/accept. */
import net from 'node:net'
import type { PolicyLike } from '@keepalive/core'
import { applySettings } from './apply.js'
import type { ApplyTcpKeepaliveOptions } from './apply-options.js'
import { warn } from './diagnostics.js'
import { assertForcedMechanismAvailable } from './mechanism.js'
import { settingsFor } from './policy-settings.js'
import type { TcpKeepaliveReport } from './report.js'

export interface KeepaliveSocketOptions {
  /** The policy for every connection (a policy, a preset name or a policy input; omitted: `balanced`). */
  readonly keepalive?: PolicyLike
  /** How to apply it (mechanism, user timeout, FFI). */
  readonly keepaliveOptions?: ApplyTcpKeepaliveOptions
}

export type ConnectOptions = net.TcpNetConnectOpts & KeepaliveSocketOptions
export type ServerOptions = net.ServerOpts & KeepaliveSocketOptions

/**
 * Like `net.connect(options, connectListener)`, with the keepalive policy applied when the socket connects, before
 * `connectListener` runs. The socket emits `'keepalive'` with the report (or null if it closed before connecting).
 * The policy and a forced mechanism are checked first: InvalidPolicyError or TcpUnsupportedError is thrown before
 * any connection is attempted. Whatever else throws (e.g. a `path`: not TCP) destroys the socket first.
 */
export function connect(options: ConnectOptions, connectListener?: () => void): net.Socket {
  const { keepalive, keepaliveOptions, ...netOptions } = options
  const settings = settingsFor(keepalive)
  assertForcedMechanismAvailable(keepaliveOptions ?? {})
  const socket = net.connect(netOptions)
  try {
    applySettings(socket, settings, {
      ...keepaliveOptions,
      onApplied: (report: TcpKeepaliveReport | null) => socket.emit('keepalive', report),
    })
  } catch (error) {
    // The caller gets no socket: one left connecting would leak, and its 'error' would have no listener.
    socket.destroy()
    throw error
  }
  if (connectListener) socket.once('connect', connectListener)
  return socket
}

/**
 * Like `net.createServer(options, connectionListener)`, with the keepalive policy applied to every accepted socket
 * before any 'connection' listener sees it. The server emits `'keepalive'` with `(report, socket)` for each.
 * A socket the policy cannot be applied to is not dropped: the error becomes the server's 'keepalive' report null
 * and a `keepalive:tcp:warning`. An invalid policy or an unavailable forced mechanism throws here, at creation.
 */
export function createServer(
  options?: ServerOptions,
  connectionListener?: (socket: net.Socket) => void,
): net.Server {
  const { keepalive, keepaliveOptions, ...netOptions } = options ?? {}
  const settings = settingsFor(keepalive)
  assertForcedMechanismAvailable(keepaliveOptions ?? {})
  const server = net.createServer(netOptions)
  // Registered first, so it runs before the user's 'connection' listeners.
  server.on('connection', (socket: net.Socket) => {
    let report: TcpKeepaliveReport | null = null
    try {
      report = applySettings(socket, settings, keepaliveOptions ?? {})
    } catch (error) {
      // E.g. an accepted socket the peer already reset: nothing to apply, and no reason to crash the server.
      warn(socket, `keepalive not applied to an accepted socket: ${(error as Error).message}`)
    }
    server.emit('keepalive', report, socket)
  })
  if (connectionListener) server.on('connection', connectionListener)
  return server
}

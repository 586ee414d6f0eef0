/**
 * Everything @keepalive/ssh needs from ssh2 that ssh2 has no public call for, behind ONE function.
 *
 * ssh2 (1.x) offers no public way to send a keepalive request, to learn that bytes arrived, or to reset its own
 * client keepalive count. `ssh2Access` reaches the private fields that do it, after checking the installed ssh2's
 * version and the shape of each field, and throws `SshUnsupportedError` (`KA_ERR_SSH_UNSUPPORTED`) when either
 * differs — never a silent no-op. `test/ssh2-internals.test.ts` pins these fields against the installed ssh2 and
 * fails loudly when an upgrade moves them.
 *
 * The fields (ssh2 1.0–1.17, `lib/client.js`, `lib/server.js`, `lib/protocol/Protocol.js`):
 * - `_sock`: the transport stream (net.Socket, or any Duplex the user passed as `sock`). Its 'data' is the first
 *   moment a byte reaches the process.
 * - `_protocol.ping()`: writes `SSH_MSG_GLOBAL_REQUEST "keepalive@openssh.com"` with want-reply (what ssh2's own
 *   client keepalive and OpenSSH send).
 * - `_protocol._authenticated`: global requests are allowed only after user authentication.
 * - client `_callbacks`: the FIFO that pairs each REQUEST_SUCCESS/REQUEST_FAILURE with the global request it
 *   answers (RFC 4254 §4: replies come in order). A ping must push its callback here, or the reply would be
 *   handed to the next `forwardIn()`'s callback. ssh2 calls every pending callback with an Error on close.
 * - client `config.keepaliveInterval` / `keepaliveCountMax` and `_resetKA()`: ssh2's own client keepalive, which
 *   counts only replies as life (ssh2 #474); resetting it on received bytes gives it OpenSSH's semantics.
 * - The server side (ssh2 `Connection`) has no reply dispatch for global requests at all: a reply is seen as
 *   received bytes, which is all OpenSSH semantics need.
 */
import { createRequire } from 'node:module'
import { SshConnectionClosedError, SshUnsupportedError } from './errors.js'

/** The major version of ssh2 whose internals this module knows. */
export const SSH2_MAJOR = 1

export interface Ssh2Transport {
  readonly destroyed?: boolean
  readonly readable?: boolean
  readonly writable?: boolean
  on(event: 'data', listener: (chunk: unknown) => void): unknown
  removeListener(event: 'data', listener: (chunk: unknown) => void): unknown
  destroy(error?: Error): unknown
}

export interface Ssh2Access {
  readonly side: 'client' | 'server'
  /** The installed ssh2's version. */
  readonly version: string
  /** The transport; undefined for a client that was never connected. */
  readonly socket: Ssh2Transport | undefined
  /** User authentication has completed (global requests are allowed). */
  authenticated(): boolean
  /**
   * Sends `keepalive@openssh.com` with want-reply. The reply is seen as bytes on `socket`. On the client a
   * placeholder joins ssh2's reply queue first, so the reply is not handed to another request's callback.
   */
  ping(): void
  /** ssh2's own client keepalive, when configured (`keepaliveInterval > 0`); undefined on the server. */
  readonly ownKeepalive: { readonly intervalMs: number; readonly countMax: number } | undefined
  /** Restarts ssh2's own client keepalive count and interval, as a received reply would. */
  resetOwnKeepalive(): void
}

let installed: string | undefined

/** Takes a reply (or the Error ssh2 hands every pending callback on close) for a keepalive request. */
function replyPlaceholder(): void {}

function installedVersion(): string {
  if (installed === undefined) {
    try {
      const version = (createRequire(import.meta.url)('ssh2/package.json') as { version?: unknown }).version
      installed = typeof version === 'string' ? version : 'unknown'
    } catch {
      installed = 'not installed'
    }
  }
  return installed
}

interface Ssh2Private {
  _sock?: Ssh2Transport
  _protocol?: { ping?: unknown; _authenticated?: unknown; _server?: unknown }
  _callbacks?: unknown
  _resetKA?: unknown
  config?: { keepaliveInterval?: unknown; keepaliveCountMax?: unknown }
}

/**
 * Private access to one ssh2 `Client` or server-side `Connection`, checked. Throws `SshUnsupportedError` when
 * the installed ssh2 is not 1.x or a field is not what 1.x has, and `SshConnectionClosedError` for a client
 * that was never connected.
 */
export function ssh2Access(connection: object): Ssh2Access {
  const version = installedVersion()
  const major = Number.parseInt(version, 10)
  if (major !== SSH2_MAJOR) {
    throw new SshUnsupportedError(
      `watchSsh supports ssh2 ${SSH2_MAJOR}.x (it uses private fields, checked per version); the installed ssh2 is ${version}`,
    )
  }
  const c = connection as Ssh2Private
  // A Client declares `_resetKA` and `config` in its constructor (undefined until connect()).
  const isClient = '_resetKA' in c && 'config' in c
  const protocol = c._protocol
  if (protocol === undefined && isClient) {
    throw new SshConnectionClosedError('watchSsh: the ssh2 Client is not connected (call connect() first)')
  }
  if (protocol === null || typeof protocol !== 'object' || typeof protocol.ping !== 'function') {
    throw unsupported(version, '_protocol.ping()')
  }
  if (typeof protocol._authenticated !== 'boolean') throw unsupported(version, '_protocol._authenticated')
  const socket = c._sock
  if (socket === null || typeof socket !== 'object' || typeof socket.on !== 'function') {
    throw unsupported(version, '_sock stream')
  }
  if (protocol._server === true) return new Access('server', version, c, protocol, socket, undefined)

  if (!Array.isArray(c._callbacks)) throw unsupported(version, '_callbacks reply queue')
  if (typeof c._resetKA !== 'function') throw unsupported(version, '_resetKA()')
  const config = c.config
  if (config === null || typeof config !== 'object') throw unsupported(version, 'config')
  const interval = config.keepaliveInterval
  const countMax = config.keepaliveCountMax
  const ownKeepalive =
    typeof interval === 'number' && interval > 0
      ? Object.freeze({ intervalMs: interval, countMax: typeof countMax === 'number' ? countMax : 3 })
      : undefined
  return new Access('client', version, c, protocol, socket, ownKeepalive)
}

function unsupported(version: string, what: string): SshUnsupportedError {
  return new SshUnsupportedError(
    `watchSsh: this ssh2 ${version} connection has no ${what} (ssh2's internals changed, or this is not an ssh2 Client or server Connection)`,
  )
}

/** One per watched connection, so methods on the prototype rather than closures: a thousand connections stay small. */
class Access implements Ssh2Access {
  constructor(
    readonly side: 'client' | 'server',
    readonly version: string,
    private readonly connection: Ssh2Private,
    private readonly protocol: NonNullable<Ssh2Private['_protocol']>,
    readonly socket: Ssh2Transport,
    readonly ownKeepalive: Ssh2Access['ownKeepalive'],
  ) {}

  authenticated(): boolean {
    return this.protocol._authenticated === true
  }

  ping(): void {
    if (this.side === 'client') {
      // Read per call: ssh2 replaces the array on every connect() and on close.
      const callbacks = this.connection._callbacks
      if (!Array.isArray(callbacks)) throw unsupported(this.version, '_callbacks reply queue')
      // What ssh2's own keepalive pushes: a callback that keeps the queue in step with the replies.
      callbacks.push(replyPlaceholder)
    }
    ;(this.protocol.ping as () => void).call(this.protocol)
  }

  resetOwnKeepalive(): void {
    if (this.side === 'client') (this.connection._resetKA as () => void).call(this.connection)
  }
}

/**
 * Finding the TCP socket behind whatever the user passed: a net.Socket, a TLSSocket (client, server, or wrapping
 * an existing socket), before or after connect; and refusing, with a clear error, what is not TCP.
 */
import { Socket } from 'node:net'
import { TcpNotTcpError, TcpSocketClosedError } from './errors.js'
import { handleKind, internals, type NodeHandle } from './node-internals.js'

export type TcpTarget =
  /** Connected: `fd` is the OS descriptor (-1 where Node does not expose it: Windows). */
  | { readonly state: 'connected'; readonly fd: number; readonly nodeSocket: Socket }
  /** Not connected yet: apply when `emitter` emits 'connect'. */
  | { readonly state: 'pending'; readonly emitter: Socket }

/** Describes a value for an error message: `a PassThrough`, `a Unix domain socket`, `null`. */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return `a ${typeof value}`
  const name = (value as { constructor?: { name?: string } }).constructor?.name
  return name ? `a ${name}` : 'an object'
}

/** The TCP handle under a (possibly TLS) handle, or undefined if the stream below is not TCP. */
function tcpHandle(handle: NodeHandle): NodeHandle | undefined {
  const kind = handleKind(handle)
  if (kind === 'TCP') return handle
  // TLSWrap encrypts another stream handle: TCP for TLS over a socket, JSStream for TLS over a JS Duplex.
  if (kind === 'TLSWrap' && handle._parent !== undefined) return tcpHandle(handle._parent)
  return undefined
}

/** The socket Node's own setKeepAlive should be called on: the wrapped net.Socket of a TLSSocket, if any. */
function nodeSocketOf(socket: Socket): Socket {
  const parent = internals(socket)._parent
  return parent instanceof Socket && internals(parent)._handle ? parent : socket
}

/**
 * Resolves the TCP socket behind `socket`. Throws TcpNotTcpError for anything that is not a TCP stream
 * (a pipe, a Unix socket, a PassThrough, a plain object) and TcpSocketClosedError for a closed or destroyed one.
 */
export function resolveTcp(socket: unknown, what = 'applyTcpKeepalive'): TcpTarget {
  if (!(socket instanceof Socket)) {
    throw new TcpNotTcpError(`${what}: expected a net.Socket or tls.TLSSocket, got ${describe(socket)}`)
  }
  if (socket.destroyed) {
    throw new TcpSocketClosedError(`${what}: the socket is already destroyed`)
  }
  const handle = internals(socket)._handle
  if (handle === null || handle === undefined) {
    // Not destroyed and no handle: a fresh `new net.Socket()` that may still connect (to TCP or to a path,
    // which is checked again at 'connect').
    return { state: 'pending', emitter: socket }
  }
  const tcp = tcpHandle(handle)
  if (tcp === undefined) {
    const kind = handleKind(handle)
    const detail =
      kind === 'Pipe'
        ? 'a Unix domain socket or named pipe'
        : kind === 'TLSWrap'
          ? 'a TLS socket over a non-TCP stream'
          : `a ${kind ?? 'non-TCP'} stream`
    throw new TcpNotTcpError(`${what}: the socket is ${detail}, not TCP`)
  }
  const fd = tcp.fd ?? -1
  if (socket.connecting || (fd < 0 && process.platform !== 'win32')) {
    // TLS over a socket that is itself still connecting: the 'connect' to wait for is the inner socket's.
    const parent = internals(socket)._parent
    const emitter = parent instanceof Socket && parent.connecting ? parent : socket
    return { state: 'pending', emitter }
  }
  return { state: 'connected', fd, nodeSocket: nodeSocketOf(socket) }
}

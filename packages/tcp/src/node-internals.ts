/**
 * The few undocumented corners of Node's net/tls objects this package reads, typed in one place.
 * They have been stable since Node 12 (net-keepalive, ssh2 and others rely on `_handle.fd`), but they are
 * internals: everything here is read defensively, and a missing field means "cannot tell", never a crash.
 */
import type { Socket } from 'node:net'

/** libuv's stream wrapper (`TCP`, `Pipe`, `TLSWrap`, `JSStream`), as seen from JavaScript. */
export interface NodeHandle {
  /** The OS file descriptor; -1 before connect, and always -1 on Windows (sockets are not fds there). */
  readonly fd?: number
  /** On a TLSWrap: the stream handle it encrypts (a `TCP` for a TLS-over-TCP socket). */
  readonly _parent?: NodeHandle
}

/** A net.Socket (or tls.TLSSocket) with the internals we read. */
export interface SocketInternals extends Socket {
  _handle?: NodeHandle | null
  /** On a TLSSocket that wraps an existing socket: the wrapped socket (null for tls.connect({ host })). */
  _parent?: unknown
}

export function internals(socket: Socket): SocketInternals {
  return socket as SocketInternals
}

/** The class name of a handle (`TCP`, `Pipe`, `TLSWrap`, `JSStream`), or undefined. */
export function handleKind(handle: NodeHandle | null | undefined): string | undefined {
  if (handle === null || handle === undefined) return undefined
  const ctor = (handle as { constructor?: { name?: unknown } }).constructor
  return typeof ctor?.name === 'string' ? ctor.name : undefined
}

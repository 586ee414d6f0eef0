/**
 * From a Node socket to the kernel's keepalive options: the TCP descriptor behind a net.Socket or TLSSocket (read
 * from Node's internals), setsockopt/getsockopt on it through koffi, and the values read back in ms / count.
 * Invariant: a stream that is not TCP, or is closed, is refused with a KeepaliveError before any call; after that
 * nothing here throws: a failed call carries its errno, and a missing koffi is a reason, not an error.
 */
import { createRequire } from 'node:module'
import { Socket } from 'node:net'
import { constants as osConstants } from 'node:os'
import {
  type TcpOptionUnit,
  type TcpPlatformOptions,
  type TcpSockoptSpec,
  tcpPlatformOptions,
} from '@keepalive/core/internal'
import { TcpNotTcpError, TcpSocketClosedError } from './errors.js'

// ---------------------------------------------------------------------------------------------------------------
// The socket: which TCP handle, and which descriptor, is behind what the user passed.

/** libuv's stream wrapper (`TCP`, `Pipe`, `TLSWrap`, `JSStream`), as seen from JavaScript. Undocumented but stable
 * since Node 12 (net-keepalive and ssh2 read `_handle.fd` too): read defensively, a missing field means "cannot tell". */
interface NodeHandle {
  /** The OS file descriptor; -1 before connect, and always -1 on Windows (sockets are not fds there). */
  readonly fd?: number
  /** On a TLSWrap: the stream handle it encrypts (a `TCP` for a TLS-over-TCP socket). */
  readonly _parent?: NodeHandle
}

/** A net.Socket (or tls.TLSSocket) with the internals read here. */
interface SocketInternals extends Socket {
  _handle?: NodeHandle | null
  /** On a TLSSocket that wraps an existing socket: the wrapped socket (null for tls.connect({ host })). */
  _parent?: unknown
}

export type TcpTarget =
  /** Connected: `fd` is the OS descriptor (-1 where Node does not expose it: Windows). */
  | { readonly state: 'connected'; readonly fd: number; readonly nodeSocket: Socket }
  /** Not connected yet: apply when `emitter` emits 'connect'. */
  | { readonly state: 'pending'; readonly emitter: Socket }

/**
 * Resolves the TCP socket behind `socket`: a net.Socket or TLSSocket (client, accepted, wrapping an existing
 * socket), before or after connect. Throws TcpNotTcpError for anything that is not a TCP stream (a pipe, a Unix
 * socket, a PassThrough, a plain or hostile object) and TcpSocketClosedError for a destroyed one.
 */
export function resolveTcp(socket: unknown, what: string): TcpTarget {
  if (!isSocket(socket)) {
    throw new TcpNotTcpError(`${what}: expected a net.Socket or tls.TLSSocket, got ${describe(socket)}`)
  }
  try {
    return resolveSocket(socket as SocketInternals, what)
  } catch (error) {
    if (error instanceof TcpNotTcpError || error instanceof TcpSocketClosedError) throw error
    // A Proxy around a socket, or a subclass whose getters throw: not a socket this package can read.
    throw new TcpNotTcpError(`${what}: the socket's state cannot be read`, { cause: error })
  }
}

function resolveSocket(socket: SocketInternals, what: string): TcpTarget {
  if (socket.destroyed) throw new TcpSocketClosedError(`${what}: the socket is already destroyed`)
  const handle = socket._handle
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
  const parent = socket._parent
  if (socket.connecting || (fd < 0 && process.platform !== 'win32')) {
    // TLS over a socket that is itself still connecting: the 'connect' to wait for is the inner socket's.
    const emitter = parent instanceof Socket && parent.connecting ? parent : socket
    return { state: 'pending', emitter }
  }
  // Node's own setKeepAlive is called on the wrapped net.Socket of a TLSSocket, if any.
  const nodeSocket = parent instanceof Socket && (parent as SocketInternals)._handle ? parent : socket
  return { state: 'connected', fd, nodeSocket }
}

/** `instanceof Socket`, false (not a throw) for a Proxy whose getPrototypeOf trap throws. */
function isSocket(value: unknown): value is Socket {
  try {
    return value instanceof Socket
  } catch {
    return false
  }
}

/** Describes a value for an error message: `a PassThrough`, `an object`, `null`, `undefined`, `a number`. */
function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (typeof value !== 'object') return `a ${typeof value}`
  try {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name
    return typeof name === 'string' && name !== '' && name !== 'Object' ? `a ${name}` : 'an object'
  } catch {
    return 'an object' // a Proxy or getter that throws
  }
}

/** The TCP handle under a (possibly TLS) handle, or undefined if the stream below is not TCP. */
function tcpHandle(handle: NodeHandle): NodeHandle | undefined {
  const kind = handleKind(handle)
  if (kind === 'TCP') return handle
  // TLSWrap encrypts another stream handle: TCP for TLS over a socket, JSStream for TLS over a JS Duplex.
  if (kind === 'TLSWrap' && handle._parent !== undefined) return tcpHandle(handle._parent)
  return undefined
}

/** The class name of a handle (`TCP`, `Pipe`, `TLSWrap`, `JSStream`), or undefined. */
function handleKind(handle: NodeHandle): string | undefined {
  const ctor = (handle as { constructor?: { name?: unknown } }).constructor
  return typeof ctor?.name === 'string' ? ctor.name : undefined
}

// ---------------------------------------------------------------------------------------------------------------
// The binding: setsockopt/getsockopt through koffi (optional, prebuilt binaries: no compiler needed).

/**
 * Where setsockopt/getsockopt live, per platform; the option numbers and units are core's `tcpPlatformOptions`.
 * Android is left out on purpose: core knows its options (Linux's), but its libc is untested here.
 */
const libraries: Readonly<Partial<Record<NodeJS.Platform, string>>> = {
  linux: 'libc.so.6',
  darwin: 'libSystem.B.dylib',
  freebsd: 'libc.so.7',
}

/** The sliver of koffi's API used here (declared locally so the types do not depend on an optional package). */
interface KoffiLike {
  load(path: string): { func(definition: string): (...args: unknown[]) => number }
  errno(): number
}

export interface Kernel {
  /** The `process.platform` the functions were loaded for. */
  readonly platform: string
  /** core's keepalive socket options for that platform: level, option, unit and maximum of each. */
  readonly options: TcpPlatformOptions
  /** setsockopt with a 4-byte int; 0 on success, else errno. */
  set(fd: number, level: number, name: number, value: number): number
  /** getsockopt of a 4-byte int: the value, or `{ errno }`. */
  get(fd: number, level: number, name: number): number | { errno: number }
}

let loaded: Kernel | undefined
let failure: string | undefined
let tried = false

/** The kernel binding for this platform, loaded at most once; undefined with `kernelUnavailableReason()`. */
export function loadKernel(): Kernel | undefined {
  if (tried) return loaded
  tried = true
  try {
    loaded = bind()
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error)
  }
  return loaded
}

/** Why the kernel binding is unavailable, once `loadKernel()` returned undefined. */
export function kernelUnavailableReason(): string | undefined {
  return failure
}

function bind(): Kernel {
  const platform = process.platform
  const options = tcpPlatformOptions[platform]
  const library = libraries[platform]
  if (platform === 'win32') {
    // Windows sockets are SOCKET handles that Node keeps to itself (`_handle.fd` is -1): nothing to call on.
    throw new Error('Node exposes no socket descriptor on win32')
  }
  if (options === undefined || library === undefined) {
    throw new Error(`no socket option table for platform '${platform}'`)
  }
  // createRequire keeps koffi out of the static import graph: without it installed, this package still loads.
  const require = createRequire(import.meta.url)
  let koffi: KoffiLike
  try {
    koffi = require('koffi') as KoffiLike
  } catch (error) {
    throw new Error(`the optional dependency koffi could not be loaded (${(error as Error).message})`)
  }
  const lib = koffi.load(library)
  // Plain pointers, also for getsockopt's outputs: koffi passes a Buffer by address, so the kernel writes straight
  // into it. `_Out_`/`_Inout_` would make koffi copy each argument in and out, for no gain with a Buffer.
  const setsockopt = lib.func(
    'int setsockopt(int fd, int level, int optname, const void *optval, uint32_t optlen)',
  )
  const getsockopt = lib.func(
    'int getsockopt(int fd, int level, int optname, void *optval, uint32_t *optlen)',
  )
  // One value buffer and one length buffer, reused: calls are synchronous, so nothing can interleave.
  const value = Buffer.alloc(4)
  const length = Buffer.alloc(4)
  return {
    platform,
    options,
    set(fd, level, name, v) {
      value.writeInt32LE(v | 0, 0)
      return setsockopt(fd, level, name, value, 4) === 0 ? 0 : koffi.errno() || -1
    },
    get(fd, level, name) {
      length.writeUInt32LE(4, 0)
      if (getsockopt(fd, level, name, value, length) !== 0) return { errno: koffi.errno() || -1 }
      return value.readInt32LE(0)
    },
  }
}

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, code]) => [code as number, name]),
)

/** `EBADF (errno 9)`: errno as the name a user would search for, with the number. */
export function describeErrno(errno: number): string {
  return `${errnoNames.get(errno) ?? 'unknown error'} (errno ${errno})`
}

// ---------------------------------------------------------------------------------------------------------------
// The read-back: what the kernel holds.

/** What the kernel holds for a socket, in milliseconds and a count. */
export interface TcpKeepaliveValues {
  /** SO_KEEPALIVE. */
  readonly enabled: boolean
  /** Silence before the first probe (TCP_KEEPIDLE), ms. */
  readonly idle: number
  /** Between unanswered probes (TCP_KEEPINTVL), ms. */
  readonly interval: number
  /** Unanswered probes before the connection is dropped (TCP_KEEPCNT). */
  readonly probes: number
  /** TCP_USER_TIMEOUT (TCP_RXT_CONNDROPTIME on macOS), ms; 0 = the kernel's default (off). */
  readonly userTimeout: number
}

/** A value read from the kernel, in the report's units: seconds become ms; ms, counts and flags stay. */
export function inReportUnits(value: number, unit: TcpOptionUnit): number {
  return unit === 'seconds' ? value * 1000 : value
}

/** Reads every value from an fd; on the first failing getsockopt, returns a description of it instead. */
export function readValues(kernel: Kernel, fd: number): TcpKeepaliveValues | string {
  const options = kernel.options
  const read = (spec: TcpSockoptSpec): number | string => {
    const raw = kernel.get(fd, spec.level, spec.option)
    if (typeof raw !== 'number') return `getsockopt(${spec.name}) failed: ${describeErrno(raw.errno)}`
    return inReportUnits(raw, spec.unit)
  }
  const enabled = read(options.keepalive)
  if (typeof enabled === 'string') return enabled
  const idle = read(options.idle)
  if (typeof idle === 'string') return idle
  const interval = read(options.interval)
  if (typeof interval === 'string') return interval
  const probes = read(options.count)
  if (typeof probes === 'string') return probes
  const userTimeout = options.userTimeout === null ? 0 : read(options.userTimeout)
  if (typeof userTimeout === 'string') return userTimeout
  return { enabled: enabled !== 0, idle, interval, probes, userTimeout }
}

/**
 * The kernel's keepalive values for a connected TCP socket (net.Socket or TLSSocket), in ms / count.
 * null when they cannot be read: the socket is not connected yet, Node exposes no fd (Windows), or koffi is missing.
 * Throws TcpNotTcpError for anything that is not a TCP socket and TcpSocketClosedError for a destroyed one.
 */
export function readTcpKeepalive(socket: unknown): TcpKeepaliveValues | null {
  const target = resolveTcp(socket, 'readTcpKeepalive')
  if (target.state !== 'connected' || target.fd < 0) return null
  const kernel = loadKernel()
  if (kernel === undefined) return null
  const values = readValues(kernel, target.fd)
  return typeof values === 'string' ? null : values
}

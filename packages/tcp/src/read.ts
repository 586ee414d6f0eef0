/** Reading TCP keepalive back from the kernel: the only proof of what a socket will actually do. */
import { resolveTcp } from './socket-fd.js'
import { describeErrno, loadSockopt, type Sockopt } from './sockopt-ffi.js'

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
  /** TCP_USER_TIMEOUT (TCP_RXT_CONNDROPTIME on macOS, TCP_MAXRT on Windows), ms; 0 = the kernel's default (off). */
  readonly userTimeout: number
}

/** Reads every value from an fd; on the first failing getsockopt, returns a description of it instead. */
export function readFd(sockopt: Sockopt, fd: number): TcpKeepaliveValues | string {
  const c = sockopt.constants
  const enabled = sockopt.get(fd, c.SOL_SOCKET, c.SO_KEEPALIVE)
  if (typeof enabled !== 'number') return `getsockopt(SO_KEEPALIVE) failed: ${describeErrno(enabled.errno)}`
  const idle = sockopt.get(fd, c.IPPROTO_TCP, c.TCP_KEEPIDLE)
  if (typeof idle !== 'number') return `getsockopt(TCP_KEEPIDLE) failed: ${describeErrno(idle.errno)}`
  const interval = sockopt.get(fd, c.IPPROTO_TCP, c.TCP_KEEPINTVL)
  if (typeof interval !== 'number')
    return `getsockopt(TCP_KEEPINTVL) failed: ${describeErrno(interval.errno)}`
  const probes = sockopt.get(fd, c.IPPROTO_TCP, c.TCP_KEEPCNT)
  if (typeof probes !== 'number') return `getsockopt(TCP_KEEPCNT) failed: ${describeErrno(probes.errno)}`
  let userTimeout = 0
  if (c.TCP_USER_TIMEOUT !== undefined) {
    const raw = sockopt.get(fd, c.IPPROTO_TCP, c.TCP_USER_TIMEOUT)
    if (typeof raw !== 'number') return `getsockopt(user timeout) failed: ${describeErrno(raw.errno)}`
    userTimeout = c.userTimeoutUnit === 's' ? raw * 1000 : raw
  }
  return { enabled: enabled !== 0, idle: idle * 1000, interval: interval * 1000, probes, userTimeout }
}

/**
 * The kernel's keepalive values for a connected TCP socket (net.Socket or TLSSocket), in ms / count.
 * null when they cannot be read: the socket is not connected yet, Node exposes no fd (Windows), or no FFI is available.
 * Throws TcpNotTcpError for a non-TCP stream and TcpSocketClosedError for a destroyed socket.
 */
export function readTcpKeepalive(socket: unknown): TcpKeepaliveValues | null {
  const target = resolveTcp(socket, 'readTcpKeepalive')
  if (target.state !== 'connected' || target.fd < 0) return null
  const sockopt = loadSockopt()
  if (sockopt === undefined) return null
  const values = readFd(sockopt, target.fd)
  return typeof values === 'string' ? null : values
}

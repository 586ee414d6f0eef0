/** Reading TCP keepalive back from the kernel: the only proof of what a socket will actually do. */
import type { TcpSockoptSpec } from '@keepalive/core/internal'
import { resolveTcp } from './socket-fd.js'
import { describeErrno, loadSockopt, type Sockopt } from './sockopt-ffi.js'
import { inReportUnits } from './sockopt-values.js'

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
  const options = sockopt.options
  const read = (spec: TcpSockoptSpec): number | string => {
    const raw = sockopt.get(fd, spec.level, spec.option)
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

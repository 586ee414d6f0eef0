/**
 * Socket option numbers and units per platform, for the FFI path (setsockopt/getsockopt through koffi).
 * Sources: Linux <netinet/tcp.h>, xnu bsd/netinet/tcp.h, Windows ws2ipdef.h / mstcpip.h, FreeBSD tcp.h
 * (see ../../../shared research notes). Only Linux is verified by this package's tests.
 */

export interface TcpPlatformConstants {
  /** The shared library that exports setsockopt/getsockopt. */
  readonly library: string
  /** How errno is read after a failed call: koffi's errno, or WSAGetLastError on Windows. */
  readonly errnoFrom: 'errno' | 'WSAGetLastError'
  readonly SOL_SOCKET: number
  readonly SO_KEEPALIVE: number
  readonly IPPROTO_TCP: number
  /** Idle before the first probe, in seconds (TCP_KEEPIDLE; TCP_KEEPALIVE on macOS). */
  readonly TCP_KEEPIDLE: number
  /** Seconds between probes. */
  readonly TCP_KEEPINTVL: number
  /** Unanswered probes before the connection is dropped. */
  readonly TCP_KEEPCNT: number
  /**
   * Cap on how long sent data may stay unacknowledged: TCP_USER_TIMEOUT (Linux, ms),
   * TCP_RXT_CONNDROPTIME (macOS, seconds — net-keepalive passes ms here, 1000× too long), TCP_MAXRT (Windows, seconds).
   * Undefined where the platform has none (FreeBSD).
   */
  readonly TCP_USER_TIMEOUT: number | undefined
  /** Unit of the user-timeout option. */
  readonly userTimeoutUnit: 'ms' | 's'
  /** Largest idle/interval the kernel accepts, in seconds (Linux MAX_TCP_KEEPIDLE/MAX_TCP_KEEPINTVL). */
  readonly maxSeconds: number
  /** Largest probe count the kernel accepts (Linux MAX_TCP_KEEPCNT). */
  readonly maxProbes: number
}

export const linux: TcpPlatformConstants = {
  library: 'libc.so.6',
  errnoFrom: 'errno',
  SOL_SOCKET: 1,
  SO_KEEPALIVE: 9,
  IPPROTO_TCP: 6,
  TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5,
  TCP_KEEPCNT: 6,
  TCP_USER_TIMEOUT: 18,
  userTimeoutUnit: 'ms',
  maxSeconds: 32767,
  maxProbes: 127,
}

export const darwin: TcpPlatformConstants = {
  library: 'libSystem.B.dylib',
  errnoFrom: 'errno',
  SOL_SOCKET: 0xffff,
  SO_KEEPALIVE: 0x8,
  IPPROTO_TCP: 6,
  // macOS names the idle option TCP_KEEPALIVE.
  TCP_KEEPIDLE: 0x10,
  TCP_KEEPINTVL: 0x101,
  TCP_KEEPCNT: 0x102,
  // TCP_RXT_CONNDROPTIME: xnu multiplies by TCP_RETRANSHZ, i.e. reads seconds.
  TCP_USER_TIMEOUT: 0x80,
  userTimeoutUnit: 's',
  maxSeconds: 0x7fffffff,
  maxProbes: 0x7fffffff,
}

export const win32: TcpPlatformConstants = {
  library: 'ws2_32.dll',
  errnoFrom: 'WSAGetLastError',
  SOL_SOCKET: 0xffff,
  SO_KEEPALIVE: 0x8,
  IPPROTO_TCP: 6,
  // Windows 10 1709+: seconds. Older builds only have SIO_KEEPALIVE_VALS (below).
  TCP_KEEPIDLE: 3,
  TCP_KEEPINTVL: 17,
  TCP_KEEPCNT: 16,
  // TCP_MAXRT: seconds of retransmission before the connection is dropped.
  TCP_USER_TIMEOUT: 5,
  userTimeoutUnit: 's',
  maxSeconds: 0x7fffffff,
  maxProbes: 255,
}

export const freebsd: TcpPlatformConstants = {
  library: 'libc.so.7',
  errnoFrom: 'errno',
  SOL_SOCKET: 0xffff,
  SO_KEEPALIVE: 0x8,
  IPPROTO_TCP: 6,
  TCP_KEEPIDLE: 256,
  TCP_KEEPINTVL: 512,
  TCP_KEEPCNT: 1024,
  TCP_USER_TIMEOUT: undefined,
  userTimeoutUnit: 's',
  maxSeconds: 0x7fffffff,
  maxProbes: 0x7fffffff,
}

/**
 * Windows before 1709: WSAIoctl(SIO_KEEPALIVE_VALS) with `struct tcp_keepalive { onoff, keepalivetime, keepaliveinterval }`
 * in milliseconds; the probe count is fixed (10, 5 on XP). Carried for reference: Node exposes no SOCKET handle
 * to JavaScript on Windows (`_handle.fd` is -1), so the FFI path cannot reach it; Node's own setKeepAlive uses it.
 */
export const SIO_KEEPALIVE_VALS = 0x98000004

/** The constants for a `process.platform`, or undefined where the FFI path is not defined. */
export function platformConstants(platform: string = process.platform): TcpPlatformConstants | undefined {
  switch (platform) {
    case 'linux':
      return linux
    case 'darwin':
      return darwin
    case 'win32':
      return win32
    case 'freebsd':
      return freebsd
    default:
      return undefined
  }
}

/** Choosing the mechanism: Node's own setKeepAlive with interval and count, setsockopt through FFI, or partial. */

import type { ApplyTcpKeepaliveOptions, TcpKeepaliveMechanism } from './apply-options.js'
import { TcpUnsupportedError } from './errors.js'
import { nativeKeepaliveLikely } from './native-keepalive.js'
import { loadSockopt, type Sockopt, sockoptUnavailableReason } from './sockopt-ffi.js'

/** A forced mechanism that cannot work is the caller's mistake: say so now, not at 'connect'. */
export function assertForcedMechanismAvailable(options: ApplyTcpKeepaliveOptions): void {
  if (options.mechanism === 'native' && !nativeKeepaliveLikely()) {
    throw new TcpUnsupportedError(
      `mechanism 'native' needs Node's setKeepAlive(enable, idle, interval, count) (Node 24.21+ or 26.4+); this is Node ${process.version}`,
    )
  }
  if (options.mechanism === 'ffi' && (options.ffi === false || loadSockopt() === undefined)) {
    throw new TcpUnsupportedError(
      `mechanism 'ffi' is not available: ${options.ffi === false ? 'disabled by the ffi option' : sockoptUnavailableReason()}`,
    )
  }
}

/** The mechanism a socket that is not connected yet will most likely get (its fd is not known yet). */
export function predictMechanism(options: ApplyTcpKeepaliveOptions): TcpKeepaliveMechanism {
  const mechanism = options.mechanism ?? 'auto'
  if (mechanism !== 'auto') return mechanism
  if (nativeKeepaliveLikely()) return 'native'
  return options.ffi !== false && loadSockopt() !== undefined ? 'ffi' : 'partial'
}

/** The FFI functions usable on this socket: loaded, allowed by the options, and an fd to call them on. */
export function ffiFor(options: ApplyTcpKeepaliveOptions, fd: number): Sockopt | undefined {
  const sockopt = options.ffi === false ? undefined : loadSockopt()
  return sockopt !== undefined && fd >= 0 ? sockopt : undefined
}

/** The mechanism for a connected socket. Throws TcpUnsupportedError for a forced 'ffi' without an fd. */
export function chooseMechanism(
  options: ApplyTcpKeepaliveOptions,
  ffi: Sockopt | undefined,
): TcpKeepaliveMechanism {
  const forced = options.mechanism ?? 'auto'
  const mechanism = forced !== 'auto' ? forced : nativeKeepaliveLikely() ? 'native' : ffi ? 'ffi' : 'partial'
  if (mechanism === 'ffi' && !ffi) {
    // Forced ffi, but Node exposes no fd (Windows).
    throw new TcpUnsupportedError(
      `mechanism 'ffi' needs the socket's fd, which Node does not expose on ${process.platform}`,
    )
  }
  return mechanism
}

/** Why the FFI could not be used for this socket. */
export function whyNoFfi(options: ApplyTcpKeepaliveOptions, fd: number): string {
  if (options.ffi === false) return 'FFI disabled by the ffi option'
  const reason = sockoptUnavailableReason()
  if (reason !== undefined) return `FFI unavailable: ${reason}`
  if (fd < 0) return `Node exposes no socket fd on ${process.platform}`
  return 'FFI unavailable'
}

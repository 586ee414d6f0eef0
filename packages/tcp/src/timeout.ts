/** Telling a keepalive death from other socket errors. */

/**
 * The errors the kernel reports when it gives up on a silent connection. Usually ETIMEDOUT; but when an ICMP or
 * neighbour (ARP) failure was recorded while retransmitting, Linux reports that soft error instead
 * (`sk_err_soft ?: ETIMEDOUT` in tcp_write_err): a peer whose link went down dies with EHOSTUNREACH after the user
 * timeout. On an established connection these never arrive otherwise: such ICMP errors are soft (RFC 1122) unless
 * IP_RECVERR is set, which Node does not do.
 */
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN'])

/**
 * True when `error` is a socket that died of silence: the kernel gave up on an established connection (a read or
 * write error ETIMEDOUT, or the unreachable error recorded while retransmitting), which is how both a keepalive
 * timeout (no probe answered) and a TCP_USER_TIMEOUT (sent data unacknowledged too long) surface.
 * False for ECONNRESET, EPIPE, ECONNREFUSED, any failure to connect (`connect ETIMEDOUT`, `connect EHOSTUNREACH`),
 * and anything else. Follows `cause` chains, so `fetch failed` wrapping a socket's ETIMEDOUT is recognised too.
 * Never throws, whatever it is given.
 */
export function isKeepaliveTimeout(error: unknown): boolean {
  try {
    let current: unknown = error
    for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
      const { code, syscall, cause } = current as { code?: unknown; syscall?: unknown; cause?: unknown }
      if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return syscall !== 'connect'
      current = cause
    }
  } catch {
    // A getter or Proxy trap that throws: not an error the kernel produced. A predicate answers, never throws.
  }
  return false
}

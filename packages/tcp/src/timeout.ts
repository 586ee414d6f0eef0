/** Telling a keepalive death from other socket errors. */

/**
 * True when `error` is a socket that died of silence: ETIMEDOUT from a read or write, which is how the kernel reports
 * both a keepalive timeout (no probe answered) and a TCP_USER_TIMEOUT (sent data unacknowledged too long).
 * False for ECONNRESET, EPIPE, ECONNREFUSED, a connect timeout (`connect ETIMEDOUT`), and anything else.
 * Follows `cause` chains, so `fetch failed` wrapping a socket's ETIMEDOUT is recognised too.
 */
export function isKeepaliveTimeout(error: unknown): boolean {
  let current: unknown = error
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    const { code, syscall, cause } = current as { code?: unknown; syscall?: unknown; cause?: unknown }
    if (code === 'ETIMEDOUT') return syscall !== 'connect'
    current = cause
  }
  return false
}

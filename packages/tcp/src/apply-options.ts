/** The options of applyTcpKeepalive, and the mechanisms it can use. */
import type { TcpKeepaliveReport } from './report.js'

/** How idle/interval/count were set: Node's own four-argument setKeepAlive, setsockopt through FFI, or only what old Node can. */
export type TcpKeepaliveMechanism = 'native' | 'ffi' | 'partial'

export interface ApplyTcpKeepaliveOptions {
  /** Which mechanism to use. `auto` (default) picks the best available; forcing an unavailable one throws TcpUnsupportedError. */
  readonly mechanism?: 'auto' | TcpKeepaliveMechanism
  /**
   * Set TCP_USER_TIMEOUT to the detection time (default true), so a peer that vanishes while sent data is unacknowledged
   * is caught too: the kernel sends no keepalive probes while data is in flight. `false` leaves the kernel's value alone.
   */
  readonly userTimeout?: boolean
  /** Use the FFI (koffi) at all, to set and to read back (default true). */
  readonly ffi?: boolean
}

/** Internal: called synchronously with the final report (or null), before the socket's other 'connect' listeners run on. */
export interface InternalApplyOptions extends ApplyTcpKeepaliveOptions {
  readonly onApplied?: (report: TcpKeepaliveReport | null) => void
}

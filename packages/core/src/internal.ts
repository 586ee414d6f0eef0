// `@keepalive/core/internal`: the glue between @keepalive/* packages, not for applications. It follows the
// packages' version (they move together) but makes no promise to anyone else; users call `@keepalive/core`.

export type { ChannelName } from './diagnostics.js'
// The diagnostics channels of core and every adapter (`keepalive:<area>:<event>`).
export { channels } from './diagnostics.js'
export type { KeepaliveErrorClass } from './errors.js'
// Defining an adapter's own errors in one line each.
export { defineError } from './errors.js'
// Computing something once per policy, whatever PolicyLike the user passed.
export { memoizeByPolicy } from './policy-memo.js'
export type {
  TcpKeepaliveValsSpec,
  TcpOptionUnit,
  TcpPlatformOptions,
  TcpPlatformValues,
  TcpSockoptSpec,
  TcpSockoptValue,
} from './protocols/tcp.js'
// Socket options per platform: numbers, units and limits for setsockopt and the read-back.
export { tcpLimits, tcpPlatformOptions, tcpPlatformValues } from './protocols/tcp.js'

// `@keepalive/core/internal`: the glue between @keepalive/* packages, not for applications. It follows the
// packages' version (they move together) but makes no promise to anyone else; users call `@keepalive/core`.

export type { ChannelName } from './diagnostics.js'
// Core's diagnostics channels (`keepalive:monitor:*`, `keepalive:config:*`); each adapter has its own.
export { channels } from './diagnostics.js'
export type { KeepaliveErrorClass } from './errors.js'
// Defining an adapter's own errors in one line each.
export { defineError } from './errors.js'
// Computing something once per policy, whatever PolicyLike the user passed.
export { memoizeByPolicy } from './policy-memo.js'
export type {
  TcpOptionUnit,
  TcpPlatformOptions,
  TcpPlatformValues,
  TcpSockoptSpec,
  TcpSockoptValue,
} from './protocols/tcp.js'
// Socket options per platform: numbers, units and limits for setsockopt and the read-back.
export { tcpLimits, tcpPlatformOptions, tcpPlatformValues } from './protocols/tcp.js'
// Error messages that name what was received (`got "bogus"`), and the closest allowed name to a typo.
export { describeValue } from './schema/describe-value.js'
export { didYouMean } from './schema/suggest.js'
// The checked listener half of a watcher (the contract is in the public entry).
export { WatcherEmitter } from './watcher.js'

// The public surface of @keepalive/tcp, named export by export.

export type { ConnectOptions, KeepaliveSocketOptions, ServerOptions } from './apply.js'
export { applyTcpKeepalive, connect, createServer } from './apply.js'
export type { TcpKeepaliveReport } from './diagnostics.js'
export { getTcpKeepaliveReport, tcpChannels } from './diagnostics.js'
export { TcpNotTcpError, TcpSocketClosedError, TcpUnsupportedError } from './errors.js'
export type { TcpKeepaliveValues } from './kernel.js'
export { readTcpKeepalive } from './kernel.js'
export type { ApplyTcpKeepaliveOptions, TcpKeepaliveMechanism } from './mechanisms.js'
export { isKeepaliveTimeout } from './timeout.js'

// The public surface of @keepalive/tcp, named export by export.

export { applyTcpKeepalive } from './apply.js'
export type { ApplyTcpKeepaliveOptions, TcpKeepaliveMechanism } from './apply-options.js'
export type { ConnectOptions, KeepaliveSocketOptions, ServerOptions } from './connect.js'
export { connect, createServer } from './connect.js'
export { TcpNotTcpError, TcpSocketClosedError, TcpUnsupportedError } from './errors.js'
export type { TcpKeepaliveValues } from './read.js'
export { readTcpKeepalive } from './read.js'
export type { TcpKeepaliveReport } from './report.js'
export { getTcpKeepaliveReport } from './report.js'
export { isKeepaliveTimeout } from './timeout.js'

// The public surface of @keepalive/tcp, named export by export.

export type { ApplyTcpKeepaliveOptions, TcpKeepaliveMechanism, TcpKeepaliveReport } from './apply.js'
export { applyTcpKeepalive, getTcpKeepaliveReport } from './apply.js'
export type { ConnectOptions, KeepaliveSocketOptions, ServerOptions } from './connect.js'
export { connect, createServer } from './connect.js'
export type { TcpPlatformConstants } from './platform-constants.js'
export { platformConstants } from './platform-constants.js'
export type { TcpKeepaliveValues } from './read.js'
export { readTcpKeepalive } from './read.js'
export { isKeepaliveTimeout } from './timeout.js'

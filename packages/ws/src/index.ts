// The public surface of @keepalive/ws, named export by export.

export { wsChannels } from './diagnostics.js'
export { WsConnectionClosedError, WsPongTimeoutError, WsUnsupportedError } from './errors.js'
export type {
  WebSocketServerStats,
  WebSocketServerWatcher,
  WebSocketServerWatcherEvents,
  WsServerDeadEvent,
} from './server.js'
export { watchWebSocketServer } from './server.js'
export type { SocketIoPingOptions, WithSocketIoPing } from './socket-io.js'
export { socketIoOptions } from './socket-io.js'
export type {
  WatchWebSocketOptions,
  WebSocketWatcher,
  WebSocketWatcherEvents,
  WebSocketWatcherState,
  WsCloseEvent,
  WsDeadEvent,
  WsLike,
  WsMessageProbe,
} from './watch.js'
export { watchWebSocket } from './watch.js'

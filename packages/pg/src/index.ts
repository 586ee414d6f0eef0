// The public surface of @keepalive/pg, named export by export.

export { pgChannels } from './diagnostics.js'
export { PgKeepaliveOffError, PgProbeTimeoutError, PgUnsupportedError } from './errors.js'
export type { PgBaseOptions, PgKeepaliveOptions, PgOptionsOptions, PgStreamFactory } from './options.js'
export { pgOptions } from './options.js'
export type {
  PgDeadEvent,
  PgPoolLike,
  PgPoolWatcher,
  PgPoolWatcherEvents,
  PgProbeErrorEvent,
  PgProbeEvent,
  WatchPgPoolOptions,
} from './watch.js'
export { watchPgPool } from './watch.js'

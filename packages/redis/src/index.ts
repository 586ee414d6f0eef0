// The public surface of @keepalive/redis, named export by export.

export { redisChannels } from './diagnostics.js'
export { RedisOptionsConflictError, RedisPingTimeoutError, RedisUnsupportedError } from './errors.js'
export type { IoredisBaseOptions, IoredisKeepaliveOptions } from './ioredis.js'
export { ioredisOptions } from './ioredis.js'
export type { IoredisLike, IoredisWatcher, IoredisWatcherEvents } from './watch.js'
export { watchIoredis } from './watch.js'

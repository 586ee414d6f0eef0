/**
 * The errors of @keepalive/redis, one class per failure, each with a stable `KA_ERR_REDIS_*` code (listed in the
 * README). They are `KeepaliveError`s: `isKeepaliveError(err, code)` and `instanceof` work across package copies.
 */
import { defineError } from '@keepalive/core/internal'

/** An idle connection answered none of its PINGs within the detection time; the connection was destroyed with it. */
export const RedisPingTimeoutError = defineError('KA_ERR_REDIS_PING_TIMEOUT', 'RedisPingTimeoutError')
/** `ioredisOptions(policy, { keepAlive: … })` with something that is not a number, or a `Connector` of the caller's own. */
export const RedisOptionsConflictError = defineError(
  'KA_ERR_REDIS_OPTIONS_CONFLICT',
  'RedisOptionsConflictError',
)
/** `watchIoredis` was given something that is not an ioredis client. */
export const RedisUnsupportedError = defineError('KA_ERR_REDIS_UNSUPPORTED', 'RedisUnsupportedError')

export type RedisPingTimeoutError = InstanceType<typeof RedisPingTimeoutError>
export type RedisOptionsConflictError = InstanceType<typeof RedisOptionsConflictError>
export type RedisUnsupportedError = InstanceType<typeof RedisUnsupportedError>

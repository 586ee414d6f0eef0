/**
 * The errors of @keepalive/pg, one class per failure, each with a stable `KA_ERR_PG_*` code (listed in the README).
 * They are `KeepaliveError`s: `isKeepaliveError(err, code)` and `instanceof` work across package copies.
 */
import { defineError } from '@keepalive/core/internal'

/**
 * An idle pooled client did not answer the probe query within the detection time. Emitted as the client's
 * 'error', so pg-pool removes it and re-emits it as the pool's 'error' `(err, client)`. `cause`: the monitor's
 * `KA_ERR_PROBE_TIMEOUT`.
 */
export const PgProbeTimeoutError = defineError('KA_ERR_PG_PROBE_TIMEOUT', 'PgProbeTimeoutError')
/** `pgOptions(policy, { keepAlive: false })`: the caller asked for no keepalive while a policy asks for one. */
export const PgKeepaliveOffError = defineError('KA_ERR_PG_KEEPALIVE_OFF', 'PgKeepaliveOffError')
/** The pg in use is outside 8.9–8.x (no `stream` factory), or `watchPgPool` was given something that is not a pg.Pool. */
export const PgUnsupportedError = defineError('KA_ERR_PG_UNSUPPORTED', 'PgUnsupportedError')

export type PgProbeTimeoutError = InstanceType<typeof PgProbeTimeoutError>
export type PgKeepaliveOffError = InstanceType<typeof PgKeepaliveOffError>
export type PgUnsupportedError = InstanceType<typeof PgUnsupportedError>

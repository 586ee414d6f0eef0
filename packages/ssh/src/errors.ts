/**
 * The errors of @keepalive/ssh. Each has a stable `code` (listed in the README); bad policies throw core's
 * `InvalidPolicyError` (`KA_ERR_INVALID_POLICY`) and bad arguments core's `InvalidArgumentError`
 * (`KA_ERR_INVALID_ARGUMENT`).
 */
import { defineError } from '@keepalive/core/internal'

/**
 * The peer was silent for the policy's detection time, or ssh2's own keepalive gave up first: the reason the
 * connection was destroyed with, and the `reason` of the watcher's `dead` event. `cause` is what noticed
 * (the monitor's `ProbeTimeoutError`, or ssh2's `Error('Keepalive timeout')`).
 */
export const SshKeepaliveTimeoutError = defineError(
  'KA_ERR_SSH_KEEPALIVE_TIMEOUT',
  'SshKeepaliveTimeoutError',
)
export type SshKeepaliveTimeoutError = InstanceType<typeof SshKeepaliveTimeoutError>

/**
 * The connection is closed (`watchSsh` on a connection that has already closed), or closed while watched for
 * a reason other than silence (the watcher's `close` event; `cause` is the connection's error, if any).
 */
export const SshConnectionClosedError = defineError(
  'KA_ERR_SSH_CONNECTION_CLOSED',
  'SshConnectionClosedError',
)
export type SshConnectionClosedError = InstanceType<typeof SshConnectionClosedError>

/**
 * The installed ssh2 is not one whose internals watchSsh knows (it needs a private call to send a probe
 * and to see received bytes; see the README).
 */
export const SshUnsupportedError = defineError('KA_ERR_SSH_UNSUPPORTED', 'SshUnsupportedError')
export type SshUnsupportedError = InstanceType<typeof SshUnsupportedError>

/**
 * The errors of @keepalive/ws. Each has a stable `code` (listed in the README); bad policies throw core's
 * `InvalidPolicyError` (`KA_ERR_INVALID_POLICY`) and bad arguments core's `InvalidArgumentError`
 * (`KA_ERR_INVALID_ARGUMENT`).
 */
import { defineError } from '@keepalive/core/internal'

/**
 * The peer was silent for the policy's detection time with every probe unanswered: the connection was
 * terminated (`ws.terminate()`), and this is the `reason` of the watcher's `dead` event. `cause` is the
 * monitor's `ProbeTimeoutError`.
 */
export const WsPongTimeoutError = defineError('KA_ERR_WS_PONG_TIMEOUT', 'WsPongTimeoutError')
export type WsPongTimeoutError = InstanceType<typeof WsPongTimeoutError>

/**
 * The WebSocket is closing or closed: `watchWebSocket` on one that is, a probe on one that became so, or the
 * `reason` of the watcher's `close` event when it closed for anything but silence (`cause`: ws's error, if any).
 */
export const WsConnectionClosedError = defineError('KA_ERR_WS_CONNECTION_CLOSED', 'WsConnectionClosedError')
export type WsConnectionClosedError = InstanceType<typeof WsConnectionClosedError>

/**
 * The object is shaped like a ws WebSocket but is not one this version can watch: no underlying `net.Socket`
 * to tap (a browser or undici WebSocket), or a ws major other than 8.
 */
export const WsUnsupportedError = defineError('KA_ERR_WS_UNSUPPORTED', 'WsUnsupportedError')
export type WsUnsupportedError = InstanceType<typeof WsUnsupportedError>

/** The errors @keepalive/tcp throws; each code is listed in the README. */
import { defineError } from '@keepalive/core/internal'

/** A mechanism was forced (`mechanism: 'ffi'` or `'native'`) that this platform or Node cannot use. */
export const TcpUnsupportedError = defineError('KA_ERR_TCP_UNSUPPORTED', 'TcpUnsupportedError')
export type TcpUnsupportedError = InstanceType<typeof TcpUnsupportedError>
/** The socket is closed or destroyed. */
export const TcpSocketClosedError = defineError('KA_ERR_TCP_SOCKET_CLOSED', 'TcpSocketClosedError')
export type TcpSocketClosedError = InstanceType<typeof TcpSocketClosedError>
/** The stream is not a TCP socket (a pipe, a Unix socket, a plain stream). */
export const TcpNotTcpError = defineError('KA_ERR_TCP_NOT_TCP', 'TcpNotTcpError')
export type TcpNotTcpError = InstanceType<typeof TcpNotTcpError>

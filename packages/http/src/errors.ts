/**
 * The errors this package throws. Bad options throw core's InvalidArgumentError (KA_ERR_INVALID_ARGUMENT) and a bad
 * policy InvalidPolicyError (KA_ERR_INVALID_POLICY); what is specific to HTTP is here. A request that fails is not
 * wrapped: the caller gets the engine's own error (ECONNRESET, UND_ERR_SOCKET, …) with the reuse facts attached
 * (getReuseFacts).
 */
import { KeepaliveError, type KeepaliveErrorCode, type KeepaliveErrorOptions } from '@keepalive/core'

// TODO(foundation): defineError('KA_ERR_HTTP_UNDICI_UNSUPPORTED', 'UndiciUnsupportedError') from @keepalive/core/internal.
const UNDICI_UNSUPPORTED = 'KA_ERR_HTTP_UNDICI_UNSUPPORTED'

/** createDispatcher found no undici 7 or 8 (not installed, or a module without Agent/Pool/Client/buildConnector). */
export class UndiciUnsupportedError extends KeepaliveError {
  static override readonly code = UNDICI_UNSUPPORTED as unknown as KeepaliveErrorCode
  constructor(message: string, options?: KeepaliveErrorOptions) {
    super(UNDICI_UNSUPPORTED as unknown as KeepaliveErrorCode, message, options)
    this.name = 'UndiciUnsupportedError'
  }
}

/**
 * The errors this package throws; each code is listed in the README. Bad options throw core's InvalidArgumentError
 * (KA_ERR_INVALID_ARGUMENT) and a bad policy InvalidPolicyError (KA_ERR_INVALID_POLICY). A request that fails is not
 * wrapped: the caller gets the engine's own error (ECONNRESET, UND_ERR_SOCKET, …) with the reuse facts attached
 * (getReuseFacts).
 */
import { defineError } from '@keepalive/core/internal'

/** createDispatcher found no undici 7 or 8 (not installed, or a module without Agent/Pool/Client/buildConnector). */
export const UndiciUnsupportedError = defineError('KA_ERR_HTTP_UNDICI_UNSUPPORTED', 'UndiciUnsupportedError')
export type UndiciUnsupportedError = InstanceType<typeof UndiciUnsupportedError>

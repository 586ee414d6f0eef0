/**
 * When a request may be sent a second time: Go's rules (net/http transport.go shouldRetryRequest), the same for both
 * engines. Only after a failure on a **reused** socket before any response byte — the stale-connection race, where the
 * server closed an idle connection as we wrote on it — and only when sending it again cannot do anything twice:
 * an idempotent method or an `Idempotency-Key` header, and a body we still have. Never on a fresh socket (hyper-util
 * #150): a fresh socket failing says something about the server, and retrying it only doubles the wait.
 */
import type { NotRetriedReason } from './stats.js'

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE', 'QUERY'])

/**
 * Errors of the race: the server's FIN or RST met our request. ETIMEDOUT is not among them — that is a dead peer
 * found by TCP keepalive or TCP_USER_TIMEOUT, and a fresh connection to it would only hang.
 */
const RACE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET'])

/** Requests at most this large (head and body) are kept for a replay; a larger one is not retried. */
export const MAX_REPLAY_BYTES = 64 * 1024

/** True for methods that may be sent twice: GET, HEAD, OPTIONS, TRACE, PUT, DELETE (and QUERY), or any with an Idempotency-Key. */
export function isReplayableRequest(method: string | undefined, hasIdempotencyKey: boolean): boolean {
  return hasIdempotencyKey || IDEMPOTENT.has((method ?? 'GET').toUpperCase())
}

/**
 * True when an `Idempotency-Key` header value names a key: a non-empty string or a number, or an array holding one.
 * undefined, null, '' and [] do not (nothing, an empty line or the text "null" goes on the wire): a request must not
 * be sent twice on the strength of a key its caller did not give (`headers: { 'Idempotency-Key': maybeKey }`).
 */
export function isIdempotencyKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(isIdempotencyKey)
  if (typeof value === 'number') return Number.isFinite(value)
  return typeof value === 'string' && value.trim() !== ''
}

export function isRaceError(error: unknown): boolean {
  const code = error !== null && typeof error === 'object' ? (error as { code?: unknown }).code : undefined
  return typeof code === 'string' && RACE_CODES.has(code)
}

export interface RetryCheck {
  enabled: boolean
  reusedSocket: boolean
  attempt: number
  responseStarted: boolean
  replayableMethod: boolean
  bodyKept: boolean
  aborted: boolean
  error: unknown
}

/** The reason not to retry, or undefined when Go would retry. Checked in this order so the reason is the first that holds. */
export function whyNotRetry(check: RetryCheck): NotRetriedReason | undefined {
  if (check.attempt > 0) return 'already retried'
  if (!check.enabled) return 'retry disabled'
  if (check.aborted) return 'aborted'
  if (!check.reusedSocket) return 'fresh socket'
  if (check.responseStarted) return 'response started'
  if (!isRaceError(check.error)) return 'error not retryable'
  if (!check.replayableMethod) return 'not idempotent'
  if (!check.bodyKept) return 'body not replayable'
  return undefined
}

/**
 * What a pool tells its user: counters (the same six on both engines, plus why sockets were retired), the facts
 * attached to a failed request's error, and the `keepalive:http:*` diagnostics channels. Every channel of this
 * package is created here; a message is built only when the channel has subscribers.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { debuglog } from 'node:util'

export const httpChannels = {
  /** A pooled socket was created (connected or connecting): `{ engine, origin, socket }`. */
  socketCreated: diagnosticsChannel.channel('keepalive:http:socketCreated'),
  /**
   * We closed a socket before anyone else could: `{ engine, origin, reason, idleMs, ageMs, requests }`, `reason`
   * `'idle'` (idle budget spent), `'age'` (maxSocketAge) or `'requests'` (maxRequestsPerSocket).
   */
  socketRetired: diagnosticsChannel.channel('keepalive:http:socketRetired'),
  /** The server (or the path) closed an idle pooled socket: `{ engine, origin, idleMs, requests }`. */
  socketClosedByServer: diagnosticsChannel.channel('keepalive:http:socketClosedByServer'),
  /** A request that failed on a reused socket before any response byte is being sent again: `{ engine, method, origin, error, facts }`. */
  requestRetried: diagnosticsChannel.channel('keepalive:http:requestRetried'),
  /** A request failed and its error goes to the caller: `{ engine, method, origin, error, facts }`. */
  requestFailed: diagnosticsChannel.channel('keepalive:http:requestFailed'),
  /** configureServer set a server's timeouts: `{ server, keepAliveTimeout, headersTimeout, requestTimeout, warnings }`. */
  serverConfigured: diagnosticsChannel.channel('keepalive:http:serverConfigured'),
} as const

const debug = debuglog('keepalive')
// NODE_DEBUG=keepalive prints these too (core prints its own channels the same way).
if (debug.enabled) {
  for (const [name, channel] of Object.entries(httpChannels)) {
    channel.subscribe((message) => {
      const { socket: _s, server: _v, error, ...rest } = message as Record<string, unknown>
      debug('http.%s %o', name, error instanceof Error ? { ...rest, error: error.message } : rest)
    })
  }
}

/** Counters of one agent or dispatcher, since it was created. */
export interface HttpPoolStats {
  /** Sockets opened. */
  socketsCreated: number
  /** Requests sent on a socket that had served a request before. */
  socketsReused: number
  /** Idle sockets we closed because their idle budget ran out (below the server's, path's or policy's timeout). */
  expiredIdle: number
  /** Sockets we retired at maxSocketAge or maxRequestsPerSocket. */
  retired: number
  /** Idle sockets the server (or a middlebox) closed before we did, and reused sockets that failed before a response. */
  closedByServer: number
  /** Requests sent a second time after a reused socket failed before any response byte. */
  requestsRetried: number
  /** Requests whose error reached the caller. */
  requestsFailed: number
}

export function createStats(): HttpPoolStats {
  return {
    socketsCreated: 0,
    socketsReused: 0,
    expiredIdle: 0,
    retired: 0,
    closedByServer: 0,
    requestsRetried: 0,
    requestsFailed: 0,
  }
}

/** Attached to the engine's own error (property `keepalive`) when a request fails: why it was or was not retried. */
export interface ReuseFacts {
  readonly engine: 'node:http' | 'undici'
  /** The socket had served a request before this one. */
  readonly reusedSocket: boolean
  /** Requests the socket had completed before this one (unknown: undefined). */
  readonly socketRequests: number | undefined
  /** How long the socket had been idle when this request was written on it, ms (unknown: undefined). */
  readonly idleMs: number | undefined
  /** This error is from the second attempt: the first failed on a reused socket and was retried on a fresh one. */
  readonly retried: boolean
  /** Why no (further) retry was made. */
  readonly notRetriedBecause: NotRetriedReason
  /** The first attempt's error, when this is the retry's. */
  readonly firstError?: unknown
}

export type NotRetriedReason =
  | 'fresh socket'
  | 'already retried'
  | 'response started'
  | 'not idempotent'
  | 'body not replayable'
  | 'error not retryable'
  | 'retry disabled'
  | 'aborted'

const FACTS = 'keepalive'

/** Puts the facts on the error (a non-enumerable `keepalive` property) without changing anything else about it. */
export function attachFacts(error: unknown, facts: ReuseFacts): void {
  if (error === null || typeof error !== 'object' || Object.isFrozen(error)) return
  Object.defineProperty(error, FACTS, { value: facts, configurable: true, writable: true, enumerable: false })
}

/** The reuse facts of a request's error from an agent or dispatcher of this package, or undefined. */
export function getReuseFacts(error: unknown): ReuseFacts | undefined {
  if (error === null || typeof error !== 'object') return undefined
  const facts = (error as Record<string, unknown>)[FACTS]
  return facts !== null && typeof facts === 'object' && 'reusedSocket' in facts
    ? (facts as ReuseFacts)
    : undefined
}

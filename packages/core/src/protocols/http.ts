// How HTTP persistent connections express a policy. Pure arithmetic: the http adapter configures its
// agents, dispatcher and servers with these numbers; explain() prints them.

import { InvalidArgumentError } from '../errors.js'
import { definePolicy } from '../policy.js'
import { describeValue } from '../schema/describe-value.js'
import { copyOptions } from '../schema/read-options.js'
import type { PolicyLike } from '../types.js'
import { human, MAX_TIMER_MS, perHour } from './common.js'
import { type TcpSettings, tcpSettings } from './tcp.js'

/**
 * Margin below a server's idle timeout (configured or announced with `Keep-Alive: timeout=`), in ms:
 * a request sent just before the server closes an idle socket meets the FIN and fails. undici's
 * `keepAliveTimeoutThreshold`, raised from 1 s to 2 s after that race (undici #3141, PR #3145).
 */
export const SERVER_TIMEOUT_THRESHOLD = 2000

/** The smallest margin below a server's idle timeout when the round trip is known (timer and scheduling slack). */
export const MIN_SERVER_MARGIN = 250

/**
 * A margin below a server's idle timeout sized for the path's round trip, in ms: `max(250 ms, 2 × rtt)`. The
 * server's idle clock starts no later than our last request byte left and no earlier than one round trip before
 * the response finished arriving; a reuse must also reach the server before its clock runs out, another one-way
 * trip. Two round trips cover both; 250 ms covers timer lateness and the ticks between handing out a socket and
 * writing on it. Clients that check the deadline when they hand a socket out (not only when a timer fires) can
 * use this instead of the fixed 2 s that undici needs for its coarse timers.
 */
export function rttSafetyMargin(roundTripTime: number): number {
  if (!isDuration(roundTripTime, 'roundTripTime')) {
    throw new InvalidArgumentError(
      'roundTripTime must be a non-negative number of milliseconds, got undefined',
    )
  }
  return Math.max(MIN_SERVER_MARGIN, Math.ceil(2 * roundTripTime))
}

/** Margin below a middlebox's idle timeout: 10%, at least 1 s (middlebox timers are coarse). */
export function pathSafetyMargin(pathIdleTimeout: number): number {
  return Math.max(1000, Math.ceil(pathIdleTimeout * 0.1))
}

/** How much longer than the path's (or the client's) idle timeout a server keeps an idle connection. */
export const SERVER_IDLE_MARGIN = 5000

/** The longest server keepAliveTimeout: headersTimeout (1 s above it) must still fit a Node timer. */
const MAX_SERVER_KEEPALIVE = MAX_TIMER_MS - 1000

/** The server keepAliveTimeout when nothing is known of the path: above ALB's 60 s, as AWS advises. */
export const DEFAULT_SERVER_KEEPALIVE_TIMEOUT = 65_000

/** A parsed `Keep-Alive` response header. */
export interface KeepAliveHint {
  /** `timeout=` in ms. */
  readonly timeoutMs?: number
  /** `max=`: requests the server will still serve on this connection. */
  readonly max?: number
}

/** Values above these are ignored as implausible (and keep every later timer in range). */
const MAX_HINT_TIMEOUT_SECONDS = Math.floor(MAX_TIMER_MS / 1000)
const MAX_HINT_MAX = 2 ** 31 - 1
/** Longer headers are cut: a real Keep-Alive value is a few dozen characters. */
const MAX_HEADER_LENGTH = 1024

/**
 * Parses a `Keep-Alive` header value (`timeout=5, max=100`): any order, any case, spaces around `,`
 * and `=`, optional quotes, duplicate keys (the first wins, as undici's regex does), unknown keys skipped.
 * Values that are not plain non-negative integers, or are implausibly large, are ignored. Returns
 * undefined when nothing usable is found. Never throws, whatever it is given.
 */
export function parseKeepAliveHeader(value: unknown): KeepAliveHint | undefined {
  // node:http gives a string; some callers pass the raw array form.
  let text: unknown
  try {
    text = Array.isArray(value) ? value.find((v) => typeof v === 'string') : value
  } catch {
    // A revoked Proxy or a throwing getter in place of the header: no usable hint (this function never throws).
    return undefined
  }
  if (typeof text !== 'string') return undefined
  let timeoutMs: number | undefined
  let max: number | undefined
  for (const part of text.slice(0, MAX_HEADER_LENGTH).split(/[,;]/)) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const key = part.slice(0, eq).trim().toLowerCase()
    const raw = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
    // Ten digits at most: anything longer is above the caps anyway, and Number() stays exact.
    if (!/^\d{1,10}$/.test(raw)) continue
    const n = Number(raw)
    if (key === 'timeout' && timeoutMs === undefined && n <= MAX_HINT_TIMEOUT_SECONDS) timeoutMs = n * 1000
    else if (key === 'max' && max === undefined && n <= MAX_HINT_MAX) max = n
  }
  if (timeoutMs === undefined && max === undefined) return undefined
  const hint: { timeoutMs?: number; max?: number } = {}
  if (timeoutMs !== undefined) hint.timeoutMs = timeoutMs
  if (max !== undefined) hint.max = max
  return Object.freeze(hint)
}

export interface HttpClientSettingsOptions {
  /** The server's idle timeout (its keepAliveTimeout), in ms, when known. */
  serverKeepAliveTimeout?: number
  /** The shortest idle timeout of any NAT, firewall or load balancer on the path, in ms. */
  pathIdleTimeout?: number
  /** The server's `Keep-Alive` response header, raw or parsed. */
  keepAliveHint?: KeepAliveHint | string
  /**
   * The margin below the server's timeout and the hint, ms. Default {@link SERVER_TIMEOUT_THRESHOLD} (2 s); a client
   * that knows the round trip passes {@link rttSafetyMargin}(rtt).
   */
  safetyMargin?: number
}

/** Which bound set the idle-socket timeout. */
export type HttpIdleBound = 'policy' | 'server' | 'hint' | 'path'

export interface HttpClientSettings {
  /** How long a pooled socket may stay idle before the client closes it, ms (0 only when reuseSockets is false). */
  readonly freeSocketTimeout: number
  /** False when the server keeps idle sockets too briefly to reuse one safely. */
  readonly reuseSockets: boolean
  readonly limitedBy: HttpIdleBound
  /** undici Client/Pool options: a hint can lower the timeout but never raise it past ours. */
  readonly undici: {
    readonly keepAliveTimeout: number
    readonly keepAliveMaxTimeout: number
    readonly keepAliveTimeoutThreshold: number
  }
  /** TCP keepalive for every socket, applied at connect so in-flight requests are covered too. */
  readonly tcp: TcpSettings
  /** A dead server under an in-flight request is found by TCP keepalive: its detection time, ms. */
  readonly detectionTime: number
  readonly lateBy: number
  /** HTTP sends no probes of its own; this is TCP's rate on a connection idle inside a request. */
  readonly probesPerIdleHour: number
  readonly warnings: readonly string[]
}

/**
 * The client-side settings: a pooled socket is closed before anything else would close it.
 * freeSocketTimeout = min(idle, server − margin, hint − margin, path − max(1 s, 10%)), margin 2 s unless given. The policy's idle
 * bounds it too: an idle pooled socket is retired instead of probed. Reusing a socket the server or a
 * middlebox has already dropped is what fails requests with ECONNRESET, so every bound errs low.
 */
export function httpClientSettings(
  policyLike: PolicyLike,
  options: HttpClientSettingsOptions = {},
): HttpClientSettings {
  const policy = definePolicy(policyLike)
  // Read once into a plain copy: a hostile object (a throwing getter, a Proxy) is an InvalidArgumentError here.
  options = copyOptions('httpClientSettings', options)
  const warnings: string[] = []
  const tcp = tcpSettings(policy)
  const bounds: { by: HttpIdleBound; ms: number }[] = [{ by: 'policy', ms: policy.idle }]
  const { serverKeepAliveTimeout, pathIdleTimeout } = options
  const margin = isDuration(options.safetyMargin, 'safetyMargin')
    ? options.safetyMargin
    : SERVER_TIMEOUT_THRESHOLD
  if (isDuration(serverKeepAliveTimeout, 'serverKeepAliveTimeout')) {
    bounds.push({ by: 'server', ms: serverKeepAliveTimeout - margin })
  }
  const hint =
    typeof options.keepAliveHint === 'string'
      ? parseKeepAliveHeader(options.keepAliveHint)
      : options.keepAliveHint
  if (hint?.timeoutMs !== undefined) bounds.push({ by: 'hint', ms: hint.timeoutMs - margin })
  if (isDuration(pathIdleTimeout, 'pathIdleTimeout')) {
    bounds.push({ by: 'path', ms: pathIdleTimeout - pathSafetyMargin(pathIdleTimeout) })
  }
  // The first of equal bounds wins, so 'policy' is reported when nothing else is lower.
  const lowest = bounds.reduce((a, b) => (b.ms < a.ms ? b : a))
  // Capped so that a server sized by httpServerTimeouts (+5 s, +1 s for headers) still fits a Node timer.
  const freeSocketTimeout = Math.min(
    Math.max(0, Math.floor(lowest.ms)),
    MAX_SERVER_KEEPALIVE - SERVER_IDLE_MARGIN,
  )
  const reuseSockets = freeSocketTimeout > 0

  if (!reuseSockets) {
    warnings.push(
      `The ${lowest.by === 'path' ? 'path' : 'server'} keeps idle connections too briefly to reuse one safely (margin ${human(lowest.by === 'path' ? pathSafetyMargin(pathIdleTimeout ?? 0) : margin)}): each socket is closed after its response.`,
    )
  } else if (lowest.by === 'server' || lowest.by === 'hint') {
    warnings.push(
      `Idle sockets are closed after ${human(freeSocketTimeout)}, ${human(margin)} before the server's ${lowest.by === 'hint' ? 'announced ' : ''}idle timeout, rather than after the policy's idle ${human(policy.idle)}.`,
    )
  } else if (lowest.by === 'path') {
    warnings.push(
      `Idle sockets are closed after ${human(freeSocketTimeout)}, before the path's idle timeout of ${human(pathIdleTimeout ?? 0)}, rather than after the policy's idle ${human(policy.idle)}.`,
    )
  }

  return Object.freeze({
    freeSocketTimeout,
    reuseSockets,
    limitedBy: lowest.by,
    undici: Object.freeze({
      keepAliveTimeout: freeSocketTimeout,
      keepAliveMaxTimeout: freeSocketTimeout,
      keepAliveTimeoutThreshold: margin,
    }),
    tcp,
    detectionTime: tcp.detectionTime,
    lateBy: tcp.lateBy,
    probesPerIdleHour: perHour(tcp.idleSeconds * 1000),
    warnings: Object.freeze([...warnings, ...tcp.warnings]),
  })
}

export interface HttpServerTimeoutsOptions {
  /** The shortest idle timeout on the path (a load balancer in front of the server), ms. */
  pathIdleTimeout?: number
  /** The longest idle-socket timeout of the clients, ms. Default: the freeSocketTimeout our own clients use with this policy and path. */
  clientIdleTimeout?: number
}

export interface HttpServerTimeouts {
  /** node:http `server.keepAliveTimeout`, ms: longer than the path's and the clients' idle timeouts. */
  readonly keepAliveTimeout: number
  /** `server.headersTimeout`, ms: above keepAliveTimeout (Node #27363). */
  readonly headersTimeout: number
  /** `server.requestTimeout`, ms: Node requires it to be at least headersTimeout; its 300 s default otherwise. */
  readonly requestTimeout: number
  /** TCP keepalive for accepted sockets. */
  readonly tcp: TcpSettings
  readonly warnings: readonly string[]
}

/**
 * Server timeouts that outlive the client's and the load balancer's, so the server is never the one
 * closing an idle connection that someone upstream is about to reuse (AWS: the target's timeout must
 * exceed the ALB's 60 s or the ALB returns 502s). keepAliveTimeout = max(path, client) + 5 s, at least
 * 65 s when the path is unknown; headersTimeout = keepAliveTimeout + 1 s.
 */
export function httpServerTimeouts(
  policyLike: PolicyLike,
  options: HttpServerTimeoutsOptions = {},
): HttpServerTimeouts {
  const policy = definePolicy(policyLike)
  // Read once into a plain copy: a hostile object (a throwing getter, a Proxy) is an InvalidArgumentError here.
  options = copyOptions('httpServerTimeouts', options)
  const warnings: string[] = []
  const path = isDuration(options.pathIdleTimeout, 'pathIdleTimeout') ? options.pathIdleTimeout : undefined
  // Unless told otherwise, the clients are ours: they retire idle sockets after freeSocketTimeout.
  const client = isDuration(options.clientIdleTimeout, 'clientIdleTimeout')
    ? options.clientIdleTimeout
    : httpClientSettings(policy, path === undefined ? {} : { pathIdleTimeout: path }).freeSocketTimeout
  // Known path: outlive it and the clients by a margin. Unknown: at least 65 s, above an ALB's 60 s.
  const outlive = Math.max(path ?? 0, client) + SERVER_IDLE_MARGIN
  const keepAliveTimeout = Math.min(
    MAX_SERVER_KEEPALIVE,
    Math.ceil(path === undefined ? Math.max(DEFAULT_SERVER_KEEPALIVE_TIMEOUT, outlive) : outlive),
  )
  if (keepAliveTimeout < outlive) {
    warnings.push(
      `keepAliveTimeout cannot exceed ${MAX_SERVER_KEEPALIVE} ms (a Node timer, with headersTimeout above it): it does not outlive the ${human(Math.max(path ?? 0, client))} idle timeout of the ${path !== undefined && path >= client ? 'path' : 'clients'}.`,
    )
  }
  if (path === undefined) {
    warnings.push(
      `The path's idle timeout is unknown: keepAliveTimeout is ${human(keepAliveTimeout)}, above the 60 s of an AWS ALB; give path.idleTimeout to size it.`,
    )
  }
  const headersTimeout = keepAliveTimeout + 1000
  const requestTimeout = Math.max(300_000, headersTimeout)
  const tcp = tcpSettings(policy)
  return Object.freeze({
    keepAliveTimeout,
    headersTimeout,
    requestTimeout,
    tcp,
    warnings: Object.freeze([...warnings, ...tcp.warnings]),
  })
}

/** Options are programmer input, not network input: a bad value throws instead of being ignored. */
function isDuration(ms: number | undefined, name: string): ms is number {
  if (ms === undefined) return false
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidArgumentError(
      `${name} must be a non-negative number of milliseconds, got ${describeValue(ms)}`,
    )
  }
  return true
}

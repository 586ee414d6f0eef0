/**
 * The options both engines share (node:http Agent and undici Dispatcher), checked once, and the per-socket budgets
 * they give: how long a socket may sit idle, how old it may grow, how many requests it may serve. The arithmetic
 * itself is core's (httpClientSettings, rttSafetyMargin); this module only turns user input into its arguments and
 * caches the results so the hot path (one call per response) costs a Map lookup.
 */
import {
  type DurationInput,
  definePolicy,
  type HttpClientSettings,
  httpClientSettings,
  InvalidArgumentError,
  type Policy,
  type PolicyLike,
  parseDuration,
  rttSafetyMargin,
  SERVER_TIMEOUT_THRESHOLD,
} from '@keepalive/core'

/** What createAgent, createHttpsAgent and createDispatcher accept besides the policy (the same on both engines). */
export interface HttpKeepaliveOptions {
  /** The server's idle timeout (its keepAliveTimeout) when known: ms or `"5s"`. Idle sockets are retired a margin below it. */
  serverKeepAliveTimeout?: DurationInput
  /** The path between client and server: `idleTimeout` is the shortest of any NAT, firewall or load balancer on it. */
  path?: { idleTimeout?: DurationInput | undefined }
  /** Retire a socket this long after it connected (when it next goes idle). Default 5 minutes; 0 turns it off. */
  maxSocketAge?: DurationInput
  /** Retire a socket after this many requests. Default 0: no limit. */
  maxRequestsPerSocket?: number
  /**
   * Fraction (0 to 0.5) by which each socket's age and request limits are lowered at random, so sockets opened
   * together do not all reconnect together. Default 0.1.
   */
  jitter?: number
  /** Retry once, by Go's rules, a request that failed on a reused socket before any response byte. Default true. */
  retry?: boolean
  /**
   * The margin below a server's announced or configured idle timeout, ms or `"250ms"`. Default: sized for the
   * measured round trip, `min(2 s, max(250 ms, 2 × rtt))` (core's rttSafetyMargin).
   */
  safetyMargin?: DurationInput
}

/** The options checked and in ms. */
export interface ResolvedOptions {
  readonly policy: Policy
  readonly serverKeepAliveTimeout: number | undefined
  readonly pathIdleTimeout: number | undefined
  readonly maxSocketAge: number
  readonly maxRequestsPerSocket: number
  readonly jitter: number
  readonly retry: boolean
  readonly safetyMargin: number | undefined
  /** The settings with no hint and the smallest margin: the idle budget before any response was seen. */
  readonly base: HttpClientSettings
  /** freeSocketTimeout for a response with this Keep-Alive header and this round trip (cached). */
  idleBudget(keepAliveHeader: string | undefined, rttMs: number): number
  /** Age and request limits for one new socket, jittered. */
  socketLimits(): { readonly maxAge: number; readonly maxRequests: number }
  /** The margin below a server's timeout for this round trip. */
  margin(rttMs: number): number
}

const DEFAULT_MAX_SOCKET_AGE = 5 * 60_000
const DEFAULT_JITTER = 0.1
/** Distinct (header, margin) pairs remembered: a server sends one or two header values, margins are rounded. */
const CACHE_LIMIT = 64
const KNOWN_OPTIONS = new Set([
  'serverKeepAliveTimeout',
  'path',
  'maxSocketAge',
  'maxRequestsPerSocket',
  'jitter',
  'retry',
  'safetyMargin',
])

/** Checks the keepalive options; bad input throws InvalidArgumentError naming the option and the value. */
export function resolveOptions(
  caller: string,
  policyLike: PolicyLike,
  options: HttpKeepaliveOptions,
): ResolvedOptions {
  const policy = definePolicy(policyLike)
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(`${caller}: options must be an object, got ${String(options)}`)
  }
  const duration = (name: string, value: unknown): number | undefined => {
    if (value === undefined) return undefined
    try {
      return parseDuration(value, name)
    } catch (error) {
      throw new InvalidArgumentError(
        `${caller}: option "${name}" must be a duration (ms or a string like "5s"), got ${describe(value)}`,
        { cause: error },
      )
    }
  }
  const path = options.path
  if (path !== undefined && (path === null || typeof path !== 'object')) {
    throw new InvalidArgumentError(
      `${caller}: option "path" must be an object like { idleTimeout: '60s' }, got ${describe(path)}`,
    )
  }
  const serverKeepAliveTimeout = duration('serverKeepAliveTimeout', options.serverKeepAliveTimeout)
  const pathIdleTimeout = duration('path.idleTimeout', path?.idleTimeout)
  // 0 turns the age limit off (parseDuration accepts only positive durations).
  const maxSocketAge =
    options.maxSocketAge === 0
      ? 0
      : (duration('maxSocketAge', options.maxSocketAge) ?? DEFAULT_MAX_SOCKET_AGE)
  const safetyMargin = duration('safetyMargin', options.safetyMargin)
  const maxRequestsPerSocket = options.maxRequestsPerSocket ?? 0
  if (!Number.isSafeInteger(maxRequestsPerSocket) || maxRequestsPerSocket < 0) {
    throw new InvalidArgumentError(
      `${caller}: option "maxRequestsPerSocket" must be a non-negative integer (0: no limit), got ${describe(options.maxRequestsPerSocket)}`,
    )
  }
  const jitter = options.jitter ?? DEFAULT_JITTER
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 0.5)) {
    throw new InvalidArgumentError(
      `${caller}: option "jitter" must be a number from 0 to 0.5, got ${describe(options.jitter)}`,
    )
  }
  const retry = options.retry ?? true
  if (typeof retry !== 'boolean') {
    throw new InvalidArgumentError(
      `${caller}: option "retry" must be true or false, got ${describe(options.retry)}`,
    )
  }

  const margin = (rttMs: number): number =>
    safetyMargin !== undefined
      ? safetyMargin
      : Math.min(SERVER_TIMEOUT_THRESHOLD, rttSafetyMargin(Math.max(0, rttMs)))
  const settings = (keepAliveHint: string | undefined, safety: number): HttpClientSettings =>
    httpClientSettings(policy, {
      ...(serverKeepAliveTimeout === undefined ? {} : { serverKeepAliveTimeout }),
      ...(pathIdleTimeout === undefined ? {} : { pathIdleTimeout }),
      ...(keepAliveHint === undefined ? {} : { keepAliveHint }),
      safetyMargin: safety,
    })
  const base = settings(undefined, margin(0))
  const cache = new Map<string, number>()
  return Object.freeze({
    policy,
    serverKeepAliveTimeout,
    pathIdleTimeout,
    maxSocketAge,
    maxRequestsPerSocket,
    jitter,
    retry,
    safetyMargin,
    base,
    margin,
    idleBudget(keepAliveHeader: string | undefined, rttMs: number): number {
      const safety = margin(rttMs)
      // Margins are whole ms and headers short: the key space is small, and bounded by CACHE_LIMIT anyway.
      const key = `${safety}|${keepAliveHeader ?? ''}`
      let budget = cache.get(key)
      if (budget === undefined) {
        budget = settings(keepAliveHeader, safety).freeSocketTimeout
        if (cache.size >= CACHE_LIMIT) cache.clear()
        cache.set(key, budget)
      }
      return budget
    },
    socketLimits() {
      return {
        maxAge: maxSocketAge > 0 ? Math.floor(maxSocketAge * (1 - jitter * Math.random())) : 0,
        maxRequests:
          maxRequestsPerSocket > 0
            ? Math.max(1, Math.floor(maxRequestsPerSocket * (1 - jitter * Math.random())))
            : 0,
      }
    },
  })
}

/** Splits user options into ours and the engine's (http.AgentOptions or undici's), rejecting nothing it does not know. */
export function splitOptions<T extends object>(
  options: (HttpKeepaliveOptions & T) | undefined,
): { keepalive: HttpKeepaliveOptions; engine: Omit<T, keyof HttpKeepaliveOptions> } {
  const keepalive: Record<string, unknown> = {}
  const engine: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options ?? {})) {
    if (KNOWN_OPTIONS.has(key)) keepalive[key] = value
    else engine[key] = value
  }
  return { keepalive, engine: engine as Omit<T, keyof HttpKeepaliveOptions> }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (value === null || typeof value !== 'object') return String(value)
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

// How a database pool (pg's, or any pool that closes idle connections after a timeout) expresses a policy.
// Pure arithmetic: @keepalive/pg builds pg's options from these numbers.

import { InvalidArgumentError } from '../errors.js'
import { definePolicy } from '../policy.js'
import { describeValue } from '../schema/describe-value.js'
import { copyOptions } from '../schema/read-options.js'
import type { PolicyLike } from '../types.js'
import { human, MAX_TIMER_MS } from './common.js'
import { pathSafetyMargin } from './http.js'
import { type TcpSettings, tcpSettings } from './tcp.js'

/** pg-pool's own `idleTimeoutMillis` when none is given: an idle client is closed after 10 s. */
export const PG_POOL_IDLE_TIMEOUT = 10_000

export interface PoolSettingsOptions {
  /** The pool's idle timeout as the caller set it, ms (0: never close idle clients). Default {@link PG_POOL_IDLE_TIMEOUT}. */
  idleTimeoutMillis?: number
  /** The shortest idle timeout of any NAT, firewall or load balancer on the path, ms. */
  pathIdleTimeout?: number
}

export interface PoolSettings {
  /** How long an idle pooled connection is kept, ms (0: forever, only when nothing on the path bounds it). */
  readonly idleTimeoutMillis: number
  /** `'pool'`: the caller's (or the pool's default) value; `'path'`: lowered below the path's idle timeout. */
  readonly limitedBy: 'pool' | 'path'
  /** Full TCP keepalive on every connection: it guards a query in flight as well as an idle connection. */
  readonly tcp: TcpSettings
  /** A dead server under a query in flight is found by TCP keepalive: its detection time, ms. */
  readonly detectionTime: number
  readonly lateBy: number
  readonly warnings: readonly string[]
}

/**
 * The pool rule: an idle pooled connection is closed before a middlebox forgets it,
 * idleTimeoutMillis = min(caller's or pool default, path − max(1 s, 10 %)) — the same margin HTTP pools keep
 * (httpClientSettings). The policy's idle does not bound it: an idle pooled connection is probed (by TCP keepalive,
 * and by an application probe where one runs), which also keeps NAT mappings open; the path bound is for middleboxes
 * that ignore TCP keepalive (proxies and load balancers that terminate TCP). Throws InvalidPolicyError and
 * InvalidArgumentError (a value that is not a non-negative number of ms, a path too short to keep a margin under).
 */
export function poolSettings(policyLike: PolicyLike, options: PoolSettingsOptions = {}): PoolSettings {
  const policy = definePolicy(policyLike)
  const { idleTimeoutMillis, pathIdleTimeout } = copyOptions('poolSettings', options)
  const tcp = tcpSettings(policy)
  const warnings: string[] = []
  const own = checkMs(idleTimeoutMillis, 'idleTimeoutMillis') ?? PG_POOL_IDLE_TIMEOUT
  let result = own
  let limitedBy: PoolSettings['limitedBy'] = 'pool'
  const path = checkMs(pathIdleTimeout, 'pathIdleTimeout')
  if (path !== undefined) {
    const bound = path - pathSafetyMargin(path)
    if (bound < 1) {
      throw new InvalidArgumentError(
        `pathIdleTimeout ${human(path)} leaves no room for the margin of ${human(pathSafetyMargin(path))} below it: a pool cannot keep idle connections on this path`,
      )
    }
    if (own === 0 || own > bound) {
      result = bound
      limitedBy = 'path'
      warnings.push(
        `Idle pooled connections are closed after ${human(bound)}, before the path's idle timeout of ${human(path)}, rather than ${own === 0 ? 'never' : `after ${human(own)}`}.`,
      )
    }
    if (policy.idle >= path) {
      warnings.push(
        `The policy's idle ${human(policy.idle)} is at or above the path's idle timeout of ${human(path)}: a query running longer than that is cut by the middlebox before the first probe. Choose an idle below ${human(path)}.`,
      )
    }
  }
  return Object.freeze({
    idleTimeoutMillis: result,
    limitedBy,
    tcp,
    detectionTime: tcp.detectionTime,
    lateBy: tcp.lateBy,
    warnings: Object.freeze([...warnings, ...tcp.warnings]),
  })
}

function checkMs(ms: unknown, name: string): number | undefined {
  if (ms === undefined) return undefined
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `${name} must be a number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${describeValue(ms)}`,
    )
  }
  return Math.floor(ms)
}

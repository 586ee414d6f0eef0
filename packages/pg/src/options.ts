/**
 * `pgOptions(policy?, base?, options?)`: pg Client / Pool options that carry the policy.
 *
 * - `stream`: a factory (pg's public `stream` option, which pg calls once per connection with the connection's
 *   config since pg 8.9) that makes the `net.Socket` pg connects and gives it the policy's full TCP keepalive and
 *   TCP_USER_TIMEOUT at connect (@keepalive/tcp's applyTcpKeepalive, read back from the kernel). With `ssl`, pg wraps
 *   this socket in TLS: the keepalive is on the TCP socket underneath. A caller's own `stream` factory is kept: it
 *   makes the socket, and the policy is applied to what it returns when that is a TCP socket.
 * - `keepAlive: false`: pg's own `keepAlive` would call `setKeepAlive(true, delay)` after ours at connect and put
 *   the kernel's default interval and count back (and idle 0 when no delay is given); ours replaces it.
 * - `idleTimeoutMillis` (pg.Pool): below the path's idle timeout by core's `poolSettings` rule when the path is
 *   known, otherwise the caller's value (or pg-pool's default 10 s) unchanged.
 *
 * Everything else is the caller's, copied: `base` is never written to.
 */
import { createRequire } from 'node:module'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import {
  definePolicy,
  InvalidArgumentError,
  type PolicyLike,
  type PoolSettings,
  poolSettings,
} from '@keepalive/core'
import { describeValue } from '@keepalive/core/internal'
import { applyTcpKeepalive } from '@keepalive/tcp'
import { pgChannels } from './diagnostics.js'
import { PgKeepaliveOffError, PgUnsupportedError } from './errors.js'

/** pg's `stream` option as a factory: called with the connection's config, returns the stream pg connects. */
export type PgStreamFactory = (config?: unknown) => Duplex

/** The options pgOptions reads or replaces; any other pg option passes through as given. */
export interface PgBaseOptions {
  stream?: unknown
  keepAlive?: boolean
  keepAliveInitialDelayMillis?: number
  idleTimeoutMillis?: number
  [option: string]: unknown
}

export interface PgKeepaliveOptions {
  /** Makes each connection's socket and applies the policy to it at connect. */
  stream: PgStreamFactory
  /** pg's own keepalive off: ours is on the socket (pg's would overwrite the interval and count). */
  keepAlive: false
  /** pg.Pool: idle clients are closed after this (pg.Client ignores it). */
  idleTimeoutMillis: number
}

export interface PgOptionsOptions {
  /** The shortest idle timeout of any NAT, firewall or load balancer between you and the server, ms. */
  pathIdleTimeout?: number
}

const OWN_OPTIONS = new Set(['pathIdleTimeout'])

export function pgOptions<T extends PgBaseOptions = PgBaseOptions>(
  policy?: PolicyLike,
  base?: T,
  options?: PgOptionsOptions,
): Omit<T, 'stream' | 'keepAlive' | 'keepAliveInitialDelayMillis' | 'idleTimeoutMillis'> &
  PgKeepaliveOptions {
  const resolved = definePolicy(policy)
  checkInstalledPg()
  if (base !== undefined && (base === null || typeof base !== 'object' || Array.isArray(base))) {
    throw new InvalidArgumentError(
      `pgOptions: base must be a pg Client or Pool options object, got ${describeValue(base)}`,
    )
  }
  const own = readOwnOptions(options)
  const caller: PgBaseOptions = { ...(base ?? {}) }
  if (caller.keepAlive === false) {
    throw new PgKeepaliveOffError(
      'pgOptions: base.keepAlive is false (keepalive off) but a policy asks for keepalive; drop base.keepAlive or do not use pgOptions',
    )
  }
  if (caller.keepAlive !== undefined && caller.keepAlive !== true) {
    throw new InvalidArgumentError(
      `pgOptions: base.keepAlive must be a boolean or absent, got ${describeValue(caller.keepAlive)}`,
    )
  }
  const userStream = caller.stream
  if (userStream !== undefined && typeof userStream !== 'function') {
    throw new InvalidArgumentError(
      `pgOptions: base.stream must be a factory function (one stream cannot serve every connection of a pool), got ${describeValue(userStream)}`,
    )
  }
  const settings: PoolSettings = poolSettings(resolved, {
    idleTimeoutMillis: checkIdleTimeout(caller.idleTimeoutMillis),
    pathIdleTimeout: own.pathIdleTimeout,
  })
  const makeSocket = userStream as PgStreamFactory | undefined
  const stream: PgStreamFactory = (config) => {
    const socket = makeSocket ? makeSocket(config) : new net.Socket()
    if (socket instanceof net.Socket) {
      const report = applyTcpKeepalive(socket, resolved)
      if (pgChannels.socket.hasSubscribers) {
        void report.ready?.then((applied) => pgChannels.socket.publish({ socket, report: applied }))
      }
    } else if (pgChannels.warning.hasSubscribers) {
      pgChannels.warning.publish({
        message:
          'pgOptions: base.stream made a stream that is not a net.Socket: no TCP keepalive applied to it',
      })
    }
    return socket
  }
  const { keepAliveInitialDelayMillis: _superseded, ...rest } = caller
  return {
    ...rest,
    stream,
    keepAlive: false,
    idleTimeoutMillis: settings.idleTimeoutMillis,
  } as unknown as Omit<T, 'stream' | 'keepAlive' | 'keepAliveInitialDelayMillis' | 'idleTimeoutMillis'> &
    PgKeepaliveOptions
}

function readOwnOptions(options: unknown): PgOptionsOptions {
  if (options === undefined) return {}
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(
      `pgOptions: options must be an object or absent, got ${describeValue(options)}`,
    )
  }
  for (const key of Object.keys(options)) {
    if (!OWN_OPTIONS.has(key)) {
      throw new InvalidArgumentError(
        `pgOptions: options.${key} is not an option (expected pathIdleTimeout); pg's options go in the second argument`,
      )
    }
  }
  return options as PgOptionsOptions
}

function checkIdleTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(
      `pgOptions: base.idleTimeoutMillis must be a non-negative number of ms or absent, got ${describeValue(value)}`,
    )
  }
  return value
}

/** The pg majors and minors whose `stream` option accepts a factory: 8.9 (where pg added it) up to 9. */
export function isSupportedPgVersion(version: string): boolean {
  const match = /^(\d+)\.(\d+)\.\d+/.exec(version)
  if (!match) return false
  const major = Number(match[1])
  const minor = Number(match[2])
  return major === 8 && minor >= 9
}

let checkedVersion: string | undefined
/** The pg this package resolves to (its peer): throws PgUnsupportedError outside 8.9–8.x; nothing when pg is not found. */
function checkInstalledPg(): void {
  if (checkedVersion !== undefined) return
  let version: string
  try {
    version = String(createRequire(import.meta.url)('pg/package.json').version)
  } catch {
    // pg is loaded some other way (bundled, or not installed beside us): nothing to check here.
    checkedVersion = 'unknown'
    return
  }
  if (!isSupportedPgVersion(version)) {
    throw new PgUnsupportedError(
      `pgOptions: pg ${version} is not supported (needs pg >=8.9.0 <9: the first release whose stream option takes a factory)`,
    )
  }
  checkedVersion = version
}

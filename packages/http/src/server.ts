/**
 * configureServer: timeouts for a node:http(s) server (so also Express's and Fastify's, which are node:http servers
 * underneath) that outlive the clients' and the load balancer's, so the server is never the side closing an idle
 * connection someone upstream is about to reuse — the cause of an ALB's 502s and of clients' ECONNRESETs. The numbers
 * are core's httpServerTimeouts; this module applies them, applies TCP keepalive to accepted sockets, and warns about
 * settings it finds that produce resets.
 */
import type http from 'node:http'
import type { Socket } from 'node:net'
import {
  type DurationInput,
  definePolicy,
  httpServerTimeouts,
  InvalidArgumentError,
  type PolicyLike,
  parseDuration,
} from '@keepalive/core'
import { applyTcpKeepalive } from '@keepalive/tcp'
import { httpChannels } from './stats.js'

export interface ConfigureServerOptions {
  /** What stands in front of the server: a load balancer or proxy and its idle timeout (ALB: 60 s, GCP: 600 s). */
  behind?: { idleTimeout?: DurationInput | undefined }
  /** The longest idle-socket timeout of the clients, when they are not ours (default: our agents' with this policy). */
  clientIdleTimeout?: DurationInput
  /** Apply the policy's TCP keepalive to every accepted socket (default true). */
  tcpKeepalive?: boolean
}

export interface ServerConfiguration {
  readonly keepAliveTimeout: number
  readonly headersTimeout: number
  readonly requestTimeout: number
  /** What was wrong before (and is now fixed), and what cannot be fixed here. Also emitted as process warnings. */
  readonly warnings: readonly string[]
}

type NodeServer = http.Server & { keepAliveTimeoutBuffer?: number }

/**
 * Sets `keepAliveTimeout` above the load balancer's and the clients' idle timeouts, `headersTimeout` above it, and
 * `requestTimeout` at least `headersTimeout`. Returns the values and the warnings.
 */
export function configureServer(
  server: http.Server,
  policy?: PolicyLike,
  options: ConfigureServerOptions = {},
): ServerConfiguration {
  const s = server as NodeServer
  if (
    s === null ||
    typeof s !== 'object' ||
    typeof s.keepAliveTimeout !== 'number' ||
    typeof s.on !== 'function'
  ) {
    throw new InvalidArgumentError(
      `configureServer: server must be a node:http or node:https Server, got ${s === null ? 'null' : typeof s}`,
    )
  }
  const resolved = definePolicy(policy)
  const duration = (name: string, value: unknown): number | undefined => {
    if (value === undefined) return undefined
    try {
      return parseDuration(value, name)
    } catch (error) {
      throw new InvalidArgumentError(
        `configureServer: option "${name}" must be a duration (ms or a string like "60s"), got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
        { cause: error },
      )
    }
  }
  if (options.behind !== undefined && (options.behind === null || typeof options.behind !== 'object')) {
    throw new InvalidArgumentError(
      `configureServer: option "behind" must be an object like { idleTimeout: '60s' }, got ${String(options.behind)}`,
    )
  }
  const pathIdleTimeout = duration('behind.idleTimeout', options.behind?.idleTimeout)
  const clientIdleTimeout = duration('clientIdleTimeout', options.clientIdleTimeout)
  const t = httpServerTimeouts(resolved, {
    ...(pathIdleTimeout === undefined ? {} : { pathIdleTimeout }),
    ...(clientIdleTimeout === undefined ? {} : { clientIdleTimeout }),
  })
  const warnings: string[] = []
  const upstream = Math.max(pathIdleTimeout ?? 0, clientIdleTimeout ?? 0)

  if (upstream > 0 && s.keepAliveTimeout > 0 && s.keepAliveTimeout <= upstream) {
    warnings.push(
      `keepAliveTimeout was ${s.keepAliveTimeout} ms, not above the ${upstream} ms idle timeout of the ${pathIdleTimeout !== undefined && pathIdleTimeout >= (clientIdleTimeout ?? 0) ? 'load balancer' : 'clients'}: it would close connections they are about to reuse (502s, ECONNRESET); now ${t.keepAliveTimeout} ms.`,
    )
  }
  if (s.headersTimeout > 0 && s.headersTimeout <= s.keepAliveTimeout) {
    warnings.push(
      `headersTimeout was ${s.headersTimeout} ms, not above keepAliveTimeout ${s.keepAliveTimeout} ms: a reused connection's next request could be cut (Node #27363); now ${t.headersTimeout} ms.`,
    )
  }
  if (s.timeout > 0 && s.timeout < t.keepAliveTimeout) {
    warnings.push(
      `server.timeout is ${s.timeout} ms, below keepAliveTimeout ${t.keepAliveTimeout} ms: idle connections are closed by it first, which is the reset this avoids. Set server.timeout = 0 (or above ${t.keepAliveTimeout} ms); left as it is.`,
    )
  }
  if (s.keepAliveTimeout === 0) {
    warnings.push('keepAliveTimeout was 0 (idle connections never closed by the server); now bounded.')
  }

  s.keepAliveTimeout = t.keepAliveTimeout
  s.headersTimeout = t.headersTimeout
  // 0 disables the request timeout: keep that choice; otherwise it must not be below headersTimeout.
  if (s.requestTimeout !== 0) s.requestTimeout = Math.max(s.requestTimeout, t.requestTimeout)
  // The core warnings (unknown path, capped values, TCP rounding) come after ours.
  warnings.push(...t.warnings)

  if (options.tcpKeepalive ?? true) {
    const onConnection = (socket: Socket) => {
      try {
        applyTcpKeepalive(socket, resolved)
      } catch {
        // A non-TCP socket (a Unix socket or a test's Duplex): nothing to apply.
      }
    }
    // Servers with TLS accept on 'connection' too (the raw TCP socket, before the handshake).
    s.on('connection', onConnection)
  }

  const result = Object.freeze({
    keepAliveTimeout: s.keepAliveTimeout,
    headersTimeout: s.headersTimeout,
    requestTimeout: s.requestTimeout,
    warnings: Object.freeze(warnings),
  })
  for (const warning of warnings.slice(0, warnings.length - t.warnings.length)) {
    process.emitWarning(`@keepalive/http configureServer: ${warning}`, { code: 'KEEPALIVE_HTTP_SERVER' })
  }
  if (httpChannels.serverConfigured.hasSubscribers)
    httpChannels.serverConfigured.publish({ server, ...result })
  return result
}

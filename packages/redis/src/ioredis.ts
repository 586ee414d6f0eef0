/**
 * `ioredisOptions(policy?, base?)`: ioredis options that carry the policy.
 *
 * - `Connector`: ioredis's public option for the class that opens each connection (typed in its RedisOptions;
 *   its base class `AbstractConnector` is exported). This one opens the connection as ioredis's own standalone
 *   connector does (TCP, TLS or a Unix path, from the same options) and gives every TCP connection the policy's full
 *   TCP keepalive and TCP_USER_TIMEOUT at connect (@keepalive/tcp's applyTcpKeepalive, read back from the kernel),
 *   on every reconnect too.
 * - `keepAlive: false`: ioredis's own `keepAlive` (default 30 s) calls `setKeepAlive(true, ms)` after ours at connect,
 *   which sets the idle only and puts libuv's interval and count (1 s × 10) back.
 *
 * Everything else is the caller's, copied: `base` is never written to. Sentinel and Cluster connections are not
 * covered (they bring their own connectors).
 */
import net from 'node:net'
import tls from 'node:tls'
import { definePolicy, InvalidArgumentError, type Policy, type PolicyLike } from '@keepalive/core'
import { describeValue } from '@keepalive/core/internal'
import { applyTcpKeepalive } from '@keepalive/tcp'
import { AbstractConnector } from 'ioredis'
import { redisChannels } from './diagnostics.js'
import { RedisOptionsConflictError } from './errors.js'

/** The options ioredisOptions reads or replaces; any other ioredis option passes through as given. */
export interface IoredisBaseOptions {
  keepAlive?: number
  Connector?: unknown
  host?: string
  port?: number
  path?: string
  family?: number
  tls?: tls.ConnectionOptions
  disconnectTimeout?: number
  sentinels?: unknown
  [option: string]: unknown
}

export interface IoredisKeepaliveOptions {
  /** Opens each connection and applies the policy to it at connect. */
  Connector: new (
    options: unknown,
  ) => AbstractConnector
  /** ioredis's own keepalive off (typed `number` by ioredis; `false` skips its setKeepAlive): ours is on the socket. */
  keepAlive: number
}

type ConnectOptions = IoredisBaseOptions & { disconnectTimeout: number }

function keepaliveConnector(policy: Policy): new (options: unknown) => AbstractConnector {
  return class KeepaliveConnector extends AbstractConnector {
    private readonly options: ConnectOptions
    constructor(options: unknown) {
      const o = options as ConnectOptions
      super(o.disconnectTimeout)
      this.options = o
    }

    // The same steps as ioredis's StandaloneConnector: options read the same way, the stream made on the next tick.
    connect(_: unknown): Promise<net.Socket> {
      const { options } = this
      this.connecting = true
      const connection: net.NetConnectOpts & tls.ConnectionOptions = options.path
        ? { path: options.path }
        : ({} as net.TcpNetConnectOpts)
      if (!options.path) {
        const tcp = connection as net.TcpNetConnectOpts
        if (options.port != null) tcp.port = options.port
        if (options.host != null) tcp.host = options.host
        if (options.family != null) tcp.family = options.family
      }
      if (options.tls) Object.assign(connection, options.tls)
      return new Promise((resolve, reject) => {
        process.nextTick(() => {
          if (!this.connecting) {
            reject(new Error('Connection is closed.'))
            return
          }
          let stream: net.Socket
          try {
            stream = options.tls ? tls.connect(connection) : net.createConnection(connection)
          } catch (error) {
            reject(error)
            return
          }
          this.stream = stream
          if (!options.path) {
            const report = applyTcpKeepalive(stream, policy)
            if (redisChannels.socket.hasSubscribers) {
              void report.ready?.then((applied) =>
                redisChannels.socket.publish({ socket: stream, report: applied }),
              )
            }
          }
          stream.once('error', (error) => {
            this.firstError = error
          })
          resolve(stream)
        })
      })
    }
  }
}

export function ioredisOptions<T extends IoredisBaseOptions = IoredisBaseOptions>(
  policy?: PolicyLike,
  base?: T,
): Omit<T, 'keepAlive' | 'Connector'> & IoredisKeepaliveOptions {
  const resolved = definePolicy(policy)
  if (base !== undefined && (base === null || typeof base !== 'object' || Array.isArray(base))) {
    throw new InvalidArgumentError(
      `ioredisOptions: base must be an ioredis options object, got ${describeValue(base)}`,
    )
  }
  const caller: IoredisBaseOptions = { ...(base ?? {}) }
  if (caller.Connector !== undefined) {
    throw new RedisOptionsConflictError(
      'ioredisOptions: base.Connector is set: ioredisOptions brings its own connector (to reach the socket at connect); drop one of them',
    )
  }
  if (caller.sentinels !== undefined) {
    throw new RedisOptionsConflictError(
      'ioredisOptions: base.sentinels is set: Sentinel connections use their own connector, which ioredisOptions does not cover',
    )
  }
  if (caller.keepAlive !== undefined && (typeof caller.keepAlive !== 'number' || !(caller.keepAlive >= 0))) {
    throw new InvalidArgumentError(
      `ioredisOptions: base.keepAlive must be a number of ms or absent, got ${describeValue(caller.keepAlive)}`,
    )
  }
  return {
    ...caller,
    Connector: keepaliveConnector(resolved),
    // ioredis only calls setKeepAlive for a number; false keeps it from overwriting ours.
    keepAlive: false as unknown as number,
  } as unknown as Omit<T, 'keepAlive' | 'Connector'> & IoredisKeepaliveOptions
}

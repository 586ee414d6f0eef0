/**
 * createDispatcher: an undici Dispatcher (undici 7 or 8) with the same policy and behaviour as createAgent.
 *
 * Built from undici's public parts: an Agent whose Pools (clientTtl = jittered maxSocketAge) make Clients
 * (keepAliveTimeout = core's idle budget, keepAliveTimeoutThreshold = the round-trip margin, maxRequestsPerClient =
 * jittered maxRequestsPerSocket) that connect through our connector (undici's buildConnector, then full TCP keepalive
 * from @keepalive/tcp on the connected socket). undici itself honours `Keep-Alive: timeout=` and checks an idle
 * socket's deadline before reuse. The connector also watches each socket's bytes, so that when a request fails the
 * error can be traced to its socket: was it reused, had any response byte arrived? That is what the retry needs,
 * and undici's RetryHandler cannot tell (it retries fresh sockets too, and no non-idempotent request at all).
 */
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import type { HttpClientSettings, PolicyLike } from '@keepalive/core'
import { applyTcpKeepalive } from '@keepalive/tcp'
import type * as Undici from 'undici'
import type { Dispatcher } from 'undici'
import { UndiciUnsupportedError } from './errors.js'
import { type HttpKeepaliveOptions, type ResolvedOptions, resolveOptions, splitOptions } from './options.js'
import { isReplayableRequest, whyNotRetry } from './retry-rules.js'
import {
  attachFacts,
  createStats,
  type HttpPoolStats,
  httpChannels,
  type NotRetriedReason,
  type ReuseFacts,
} from './stats.js'

type UndiciModule = typeof Undici

export interface DispatcherOptions extends HttpKeepaliveOptions {
  /** Sockets per origin (undici's Pool `connections`). Default: no limit. */
  connections?: number
  /** Connect options for undici's buildConnector: TLS (ca, cert, servername, rejectUnauthorized), timeout, … */
  connect?: Record<string, unknown>
  /** Other undici Pool/Client options (pipelining, allowH2, headersTimeout, bodyTimeout, …), passed as they are. */
  pool?: Record<string, unknown>
  /**
   * The undici module to build on (default: `undici` as this package resolves it). Pass your own when your
   * application has its own copy, so the dispatcher's classes are the ones your code checks with instanceof.
   */
  undici?: UndiciModule
}

/** An undici Dispatcher with the policy, plus its counters. */
export interface KeepaliveDispatcher extends Dispatcher {
  /** Counters since creation (a snapshot). */
  readonly stats: HttpPoolStats
  /** core's settings before any response was seen: idle budget, TCP keepalive, warnings. */
  readonly settings: HttpClientSettings
}

const ENGINE = 'undici'
const kRecord = Symbol('keepalive.http.undiciSocket')

interface SocketRecord {
  readonly socket: Socket
  readonly origin: string
  readonly createdAt: number
  /** Requests started on this socket (a write after the previous response was read starts the next one). */
  requests: number
  bytesReadAtLastWrite: number
  startBytesRead: number
  lastReadAt: number
  idleMs: number | undefined
}

type AnyHandler = Dispatcher.DispatchHandler & Record<string, unknown>
type Controller = Dispatcher.DispatchController & { rawHeaders?: unknown; rawTrailers?: unknown }

let defaultUndici: UndiciModule | undefined
function loadUndici(): UndiciModule {
  if (!defaultUndici) {
    try {
      defaultUndici = createRequire(import.meta.url)('undici') as UndiciModule
    } catch (error) {
      throw new UndiciUnsupportedError(
        'createDispatcher needs undici 7 or 8 (a peer dependency): npm install undici',
        { cause: error },
      )
    }
  }
  return defaultUndici
}

/** Checks that the module has the public parts this file uses (undici 7 and 8 both do). */
function checkUndici(u: UndiciModule): void {
  for (const name of ['Agent', 'Pool', 'Client', 'Dispatcher', 'buildConnector'] as const) {
    if (typeof u?.[name] !== 'function') {
      throw new UndiciUnsupportedError(
        `createDispatcher: the undici module given has no ${name} (undici 7 or 8 needed)`,
      )
    }
  }
}

/**
 * An undici Dispatcher for the policy (default: the `balanced` preset): use it as `dispatcher` in undici's request,
 * fetch, stream, or with setGlobalDispatcher (Node's global fetch; see useForGlobalFetch).
 */
export function createDispatcher(policy?: PolicyLike, options?: DispatcherOptions): KeepaliveDispatcher {
  const { keepalive, engine } = splitOptions(options)
  const resolved = resolveOptions('createDispatcher', policy, keepalive)
  const u = engine.undici ?? loadUndici()
  checkUndici(u)
  return new (dispatcherClass(u))(resolved, engine) as KeepaliveDispatcher
}

const classes = new WeakMap<
  UndiciModule,
  new (
    o: ResolvedOptions,
    e: Omit<DispatcherOptions, keyof HttpKeepaliveOptions>,
  ) => unknown
>()

/** One class per undici copy: it must extend that copy's Dispatcher. */
function dispatcherClass(u: UndiciModule) {
  const cached = classes.get(u)
  if (cached) return cached
  class PolicyDispatcher extends u.Dispatcher {
    readonly #options: ResolvedOptions
    readonly #stats = createStats()
    readonly #agent: Dispatcher
    readonly #dispatch: Dispatcher['dispatch']
    readonly #byPort = new Map<number, SocketRecord>()
    /** Smallest time to a response head per origin: the round trip the next Clients' margin is sized for. */
    readonly #rtt = new Map<string, number>()
    /** Options for a one-off Client that carries a retry: its own fresh socket, through the same connector. */
    readonly #retryClientOptions: object

    constructor(options: ResolvedOptions, engine: Omit<DispatcherOptions, keyof HttpKeepaliveOptions>) {
      super()
      this.#options = options
      const base = options.base
      const connector = u.buildConnector({ ...(engine.connect ?? {}), keepAlive: false } as never)
      const connect = (opts: object, callback: (error: Error | null, socket: Socket | null) => void) =>
        connector(opts as never, (error, socket) => {
          if (error || !socket) callback(error ?? new Error('no socket'), null)
          else {
            this.#adopt(socket as Socket, opts as { protocol?: string; hostname?: string; port?: string })
            callback(null, socket as Socket)
          }
        })
      const poolOptions = {
        ...(engine.pool ?? {}),
        ...(engine.connections === undefined ? {} : { connections: engine.connections }),
        connect,
        // The budget before any hint; a Keep-Alive hint can lower it (never raise it: keepAliveMaxTimeout).
        keepAliveTimeout: Math.max(1, base.freeSocketTimeout),
        keepAliveMaxTimeout: Math.max(1, base.freeSocketTimeout),
        ...(base.reuseSockets ? {} : { pipelining: 0 }),
      }
      this.#retryClientOptions = { ...poolOptions, keepAliveTimeoutThreshold: options.margin(0) }
      this.#agent = new u.Agent({
        factory: (origin: string | URL, agentOpts: object) => {
          const limits = options.socketLimits()
          const key = String(origin)
          return new u.Pool(origin, {
            ...agentOpts,
            ...poolOptions,
            ...(limits.maxAge > 0 ? { clientTtl: limits.maxAge } : {}),
            factory: (clientOrigin: string | URL, clientOpts: object) => {
              const own = options.socketLimits()
              return new u.Client(clientOrigin, {
                ...clientOpts,
                keepAliveTimeoutThreshold: options.margin(this.#rtt.get(key) ?? 0),
                // undici resets the socket after this many requests: the same count as node:http (pool.test.ts).
                ...(own.maxRequests > 0 ? { maxRequestsPerClient: own.maxRequests } : {}),
              } as never)
            },
          } as never)
        },
      } as never)
      const forward = this.emit.bind(this) as (event: string, ...args: unknown[]) => boolean
      const listen = this.#agent.on.bind(this.#agent) as (
        event: string,
        l: (...a: unknown[]) => void,
      ) => unknown
      for (const event of ['connect', 'disconnect', 'connectionError', 'drain']) {
        listen(event, (...args) => forward(event, ...args))
      }
      // compose: undici 7 hands the interceptor every handler in the new API (wrapping legacy ones, e.g. Node 20's
      // built-in fetch); undici 8 accepts only the new API anyway.
      this.#dispatch = this.#agent.compose(
        (dispatch) => (opts, handler) => this.#dispatchWithRetry(dispatch, opts, handler as AnyHandler, 0),
      ).dispatch
    }

    get stats(): HttpPoolStats {
      return { ...this.#stats }
    }
    get settings(): HttpClientSettings {
      return this.#options.base
    }

    override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      return this.#dispatch(opts, handler)
    }
    override close(callback?: () => void): Promise<void> {
      const done = this.#agent.close()
      if (callback) done.then(callback, callback)
      return done
    }
    // biome-ignore lint/suspicious/noExplicitAny: undici's overloads (err?, callback?) in one signature.
    override destroy(...args: any[]): any {
      const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined
      const done = this.#agent.destroy((args[0] as Error | null | undefined) ?? null)
      if (callback) done.then(callback, callback)
      return done
    }

    #adopt(socket: Socket, opts: { protocol?: string; hostname?: string; port?: string }): void {
      const record: SocketRecord = {
        socket,
        origin: `${opts.protocol ?? 'http:'}//${opts.hostname ?? ''}:${opts.port ?? ''}`,
        createdAt: performance.now(),
        requests: 0,
        bytesReadAtLastWrite: -1,
        startBytesRead: 0,
        lastReadAt: performance.now(),
        idleMs: undefined,
      }
      ;(socket as unknown as Record<symbol, SocketRecord>)[kRecord] = record
      this.#stats.socketsCreated += 1
      const port = socket.localPort
      if (port !== undefined) this.#byPort.set(port, record)
      // The connector ran `connect`: the socket is connected, so this applies now (TLS included).
      applyTcpKeepalive(socket, this.#options.policy)
      const write = socket.write
      const stats = this.#stats
      socket.write = function (this: Socket, ...args: unknown[]) {
        if (this.bytesRead !== record.bytesReadAtLastWrite) {
          // Something was read since our last write: this write starts the next request (undici pipelines 1 by default).
          record.requests += 1
          record.startBytesRead = this.bytesRead
          const now = performance.now()
          record.idleMs = record.requests > 1 ? now - record.lastReadAt : undefined
          if (record.requests > 1) stats.socketsReused += 1
        }
        record.bytesReadAtLastWrite = this.bytesRead
        return (write as (...a: unknown[]) => boolean).apply(this, args)
      } as Socket['write']
      socket.on('data', () => {
        record.lastReadAt = performance.now()
      })
      socket.on('error', (error: Error & { code?: string }) => {
        // The same object reaches the failed request's handler: tie it to this socket.
        if (!Object.isFrozen(error)) (error as unknown as Record<symbol, SocketRecord>)[kRecord] = record
        if (error.code === 'UND_ERR_INFO') this.#retired(record, error.message)
      })
      socket.on('end', () => {
        stats.closedByServer += 1
        if (httpChannels.socketClosedByServer.hasSubscribers) {
          httpChannels.socketClosedByServer.publish({
            engine: ENGINE,
            origin: record.origin,
            idleMs: performance.now() - record.lastReadAt,
            requests: record.requests,
          })
        }
      })
      socket.once('close', () => {
        // undici fails the socket's requests inside its own 'close' listener, after this one: keep the record a tick.
        if (port !== undefined)
          setImmediate(() => this.#byPort.get(port) === record && this.#byPort.delete(port))
      })
      if (httpChannels.socketCreated.hasSubscribers) {
        httpChannels.socketCreated.publish({ engine: ENGINE, origin: record.origin, socket })
      }
    }

    #retired(record: SocketRecord, message: string): void {
      const reason = message === 'socket idle timeout' ? 'idle' : 'requests'
      if (reason === 'idle') this.#stats.expiredIdle += 1
      else this.#stats.retired += 1
      if (httpChannels.socketRetired.hasSubscribers) {
        const now = performance.now()
        httpChannels.socketRetired.publish({
          engine: ENGINE,
          origin: record.origin,
          reason,
          idleMs: now - record.lastReadAt,
          ageMs: now - record.createdAt,
          requests: record.requests,
        })
      }
    }

    #recordOf(error: unknown): SocketRecord | undefined {
      if (error === null || typeof error !== 'object') return undefined
      const own = (error as Record<symbol, SocketRecord | undefined>)[kRecord]
      if (own) return own
      // SocketError('closed') is made at close without an 'error' event; it carries the socket's address.
      const port = (error as { socket?: { localPort?: number } }).socket?.localPort
      return port === undefined ? undefined : this.#byPort.get(port)
    }

    #dispatchWithRetry(
      dispatch: Dispatcher['dispatch'],
      opts: Dispatcher.DispatchOptions,
      handler: AnyHandler,
      attempt: number,
      firstError?: unknown,
      outer?: OuterController,
      finished?: () => void,
    ): boolean {
      const controller = outer ?? new OuterController()
      const started = performance.now()
      const origin = String(opts.origin ?? '')
      let responseStarted = false
      const self = this
      const wrapped: Dispatcher.DispatchHandler = {
        onRequestStart(inner, context) {
          controller.current = inner as Controller
          if (controller.abortedWith !== undefined) inner.abort(controller.abortedWith)
          else if (attempt === 0) handler.onRequestStart?.(controller as never, context)
        },
        onRequestUpgrade(inner, statusCode, headers, socket) {
          controller.current = inner as Controller
          handler.onRequestUpgrade?.(controller as never, statusCode, headers, socket)
        },
        onResponseStart(inner, statusCode, headers, statusMessage) {
          responseStarted = true
          const rtt = performance.now() - started
          if (rtt < (self.#rtt.get(origin) ?? Number.POSITIVE_INFINITY)) {
            if (self.#rtt.size >= 1024) self.#rtt.clear()
            self.#rtt.set(origin, rtt)
          }
          controller.current = inner as Controller
          return handler.onResponseStart?.(controller as never, statusCode, headers, statusMessage)
        },
        onResponseData(_inner, chunk) {
          return handler.onResponseData?.(controller as never, chunk)
        },
        onResponseEnd(_inner, trailers) {
          finished?.()
          return handler.onResponseEnd?.(controller as never, trailers)
        },
        onResponseError(_inner, error) {
          const record = self.#recordOf(error)
          const reusedSocket = attempt === 0 && record !== undefined && record.requests > 1
          const bytesArrived = record !== undefined && record.socket.bytesRead > record.startBytesRead
          const reason = whyNotRetry({
            enabled: self.#options.retry,
            reusedSocket,
            attempt,
            responseStarted: responseStarted || bytesArrived,
            replayableMethod: isReplayableRequest(opts.method, hasIdempotencyKey(opts.headers)),
            bodyKept: isReplayableBody(opts.body),
            aborted: controller.abortedWith !== undefined,
            error,
          })
          const facts: ReuseFacts = Object.freeze({
            engine: ENGINE,
            reusedSocket: attempt > 0 || reusedSocket,
            socketRequests: record ? record.requests - 1 : undefined,
            idleMs: record?.idleMs,
            retried: attempt > 0,
            notRetriedBecause: reason ?? 'already retried',
            ...(attempt > 0 ? { firstError } : {}),
          })
          if (reason === undefined) {
            self.#stats.requestsRetried += 1
            if (httpChannels.requestRetried.hasSubscribers) {
              httpChannels.requestRetried.publish({
                engine: ENGINE,
                method: opts.method,
                origin,
                error,
                facts,
              })
            }
            // The retry goes on a socket of its own: a pooled one could be the next stale socket of the same race.
            const client = new u.Client(origin, self.#retryClientOptions as never)
            const once: Dispatcher['dispatch'] = (o, h) => client.dispatch(o, h)
            const closeClient = () => {
              client.close().catch(() => {})
            }
            self.#dispatchWithRetry(once, opts, handler, attempt + 1, error, controller, closeClient)
            return
          }
          finished?.()
          attachFacts(error, facts)
          self.#stats.requestsFailed += 1
          if (httpChannels.requestFailed.hasSubscribers) {
            httpChannels.requestFailed.publish({ engine: ENGINE, method: opts.method, origin, error, facts })
          }
          handler.onResponseError?.(controller as never, error)
        },
      }
      return dispatch(opts, wrapped)
    }
  }
  classes.set(u, PolicyDispatcher as never)
  return PolicyDispatcher
}

/**
 * The controller the caller's handler sees: the same object across a retry, forwarding to the current attempt's.
 * An abort between attempts is remembered and applied when the next attempt starts.
 */
class OuterController {
  current: Controller | undefined
  abortedWith: Error | undefined
  abort(reason?: Error): void {
    this.abortedWith = reason ?? new Error('aborted')
    this.current?.abort(this.abortedWith)
  }
  pause(): void {
    this.current?.pause()
  }
  resume(): void {
    this.current?.resume()
  }
  get aborted(): boolean {
    return this.abortedWith !== undefined || (this.current?.aborted ?? false)
  }
  get paused(): boolean {
    return this.current?.paused ?? false
  }
  get reason(): Error | null {
    return this.abortedWith ?? this.current?.reason ?? null
  }
  get rawHeaders(): unknown {
    return this.current?.rawHeaders
  }
  get rawTrailers(): unknown {
    return this.current?.rawTrailers
  }
}

/** A body we can send again as it is: none, a string, or bytes (streams and iterables are consumed by the first try). */
function isReplayableBody(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer
  )
}

function hasIdempotencyKey(headers: unknown): boolean {
  if (!headers || typeof headers !== 'object') return false
  if (Array.isArray(headers)) {
    // undici's flat form [name, value, name, value, …], or pairs.
    for (let i = 0; i < headers.length; i += 1) {
      const item = headers[i]
      const name = Array.isArray(item) ? item[0] : i % 2 === 0 ? item : undefined
      if (String(name ?? '').toLowerCase() === 'idempotency-key') return true
    }
    return false
  }
  if (Symbol.iterator in headers && typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const pair of headers as Iterable<unknown>) {
      if (Array.isArray(pair) && String(pair[0]).toLowerCase() === 'idempotency-key') return true
    }
    return false
  }
  return Object.keys(headers).some((key) => key.toLowerCase() === 'idempotency-key')
}

/** Makes Node's global fetch (and undici's global request/fetch) use a dispatcher with the policy. Returns it. */
export function useForGlobalFetch(policy?: PolicyLike, options?: DispatcherOptions): KeepaliveDispatcher {
  const u = options?.undici ?? loadUndici()
  const dispatcher = createDispatcher(policy, { ...options, undici: u })
  u.setGlobalDispatcher(dispatcher)
  return dispatcher
}

/**
 * createDispatcher: an undici Dispatcher (undici 7 or 8) with the same policy and behaviour as createAgent.
 *
 * Built from undici's public parts: an Agent whose Pools make Clients (keepAliveTimeout = core's idle budget,
 * keepAliveTimeoutThreshold = the round-trip margin, maxRequestsPerClient = jittered maxRequestsPerSocket) that
 * connect through our connector (undici's buildConnector, then full TCP keepalive from @keepalive/tcp on the
 * connected socket). Each socket's idle budget comes from core's tolerant Keep-Alive parser, as the agent's does: a
 * timer per socket armed when a request ends, and a look at the deadlines before each dispatch (UndiciEngine.armIdle,
 * pruneIdle). undici's own keep-alive timer stays underneath and can only close sooner; its parser misses spellings
 * (undici 7 reads `timeout=N` exactly, undici 8 in any case but not `timeout = N` or quoted). undici 8 also reads the
 * clock before reusing an idle socket (client-h1.js isIdleSocketExpired); undici 7 does not.
 * The connector also watches each socket's bytes, so that when a request fails the error can be traced to its
 * socket: was it reused, had any response byte arrived? That is what the retry needs, and undici's RetryHandler
 * cannot tell (it retries fresh sockets too, and no non-idempotent request at all). A socket past its (jittered)
 * maxSocketAge is closed when the request on it ends — not with Pool's clientTtl, which reads the clock once per busy
 * Client on every dispatch (it is used only when undici pipelines, where "between requests" is not known here).
 *
 * Per request: one wrapper object (handler and, across a retry, the caller's controller), dispatched straight to the
 * Agent; no interceptor layer, and undici 7's old handler API passed through in its own terms.
 */
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import type { HttpClientSettings, PolicyLike } from '@keepalive/core'
import { applyTcpKeepalive } from '@keepalive/tcp'
import type * as Undici from 'undici'
import type { Dispatcher } from 'undici'
import { UndiciUnsupportedError } from './errors.js'
import { type HttpKeepaliveOptions, type ResolvedOptions, resolveOptions, splitOptions } from './options.js'
import { isIdempotencyKey, isReplayableRequest, whyNotRetry } from './retry-rules.js'
import { attachFacts, createStats, type HttpPoolStats, httpChannels, type ReuseFacts } from './stats.js'
import {
  checkLinked,
  informationalError,
  isIdleClose,
  isInformational,
  linkNextWrite,
  socketErrorPort,
  takeLink,
  type UndiciSupport,
  undiciSupport,
} from './undici-internals.js'

/**
 * The parts of an undici module this file uses (undici 7 and 8 both have them). A structural subset rather than the
 * whole module type, so a module loaded by `require` and one by `import` (types differing in their `default`) both fit.
 */
type UndiciModule = Pick<
  typeof Undici,
  'Agent' | 'buildConnector' | 'Client' | 'Dispatcher' | 'Pool' | 'setGlobalDispatcher'
>

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
/**
 * The messages of the informational errors a socket we retire is closed with (undici's own idle close uses one too,
 * see undici-internals.ts; its 'reset' also means a server's `Connection: close`, so our retirements use their own).
 */
const AGE_MESSAGE = 'socket max age'
const REQUESTS_MESSAGE = 'socket max requests'
const IDLE_MESSAGE = 'socket idle budget'
const MAX_TIMER_MS = 2 ** 31 - 1
const isOurs = (message: string): boolean =>
  message === AGE_MESSAGE || message === REQUESTS_MESSAGE || message === IDLE_MESSAGE

interface SocketRecord {
  readonly socket: Socket
  readonly origin: string
  readonly createdAt: number
  /** Requests started on this socket (a write after the previous response was read starts the next one). */
  requests: number
  bytesReadAtLastWrite: number
  startBytesRead: number
  /** When the last request on it ended (its response complete), for how long it has been idle. */
  lastReadAt: number
  /** lastReadAt is the end of the request before the one now on the socket (see RequestState.ended). */
  idleKnown: boolean
  idleMs: number | undefined
  /** Past its (jittered) maxSocketAge: retired when the request on it ends. */
  aged: boolean
  /** Its (jittered) maxRequestsPerSocket, 0 for none: retired when that many requests have ended on it. */
  maxRequests: number
  ageTimer: NodeJS.Timeout | undefined
  /**
   * Retires the socket at its idle budget (core's tolerant hint parser, as the agent), armed when a request ends;
   * re-armed with refresh() while the budget stays the same. Firing while a request is on the socket does nothing.
   */
  idleTimer: NodeJS.Timeout | undefined
  idleBudget: number
  /** The hint and round trip idleBudget was last computed for: the same again (the usual case) needs no lookup. */
  budgetHint: string | undefined
  budgetRtt: number
  /** When the idle budget runs out (infinite while a request is on the socket). */
  idleDeadline: number
}

type AnyHandler = Dispatcher.DispatchHandler & Record<string, unknown>
type Controller = Dispatcher.DispatchController & { rawHeaders?: unknown; rawTrailers?: unknown }
/** undici 7's handler API (onConnect, onHeaders, …): its own `request` and Node 20's bundled fetch still use it. */
interface LegacyHandler {
  onConnect(abort: (reason?: Error) => void, context?: unknown): void
  onHeaders?(statusCode: number, rawHeaders: unknown, resume: () => void, statusText?: string): boolean
  onData?(chunk: Buffer): boolean
  onComplete?(trailers: unknown): void
  onError(error: Error): void
  onUpgrade?(statusCode: number, rawHeaders: unknown, socket: unknown): void
  onResponseStarted?(): void
}
type AnyDispatch = (opts: Dispatcher.DispatchOptions, handler: object) => boolean
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

/**
 * Per dispatcher: options, counters, the sockets' records, the round trips measured. What the request wrappers and
 * the connector share; the Dispatcher subclass only holds it.
 */
class UndiciEngine {
  readonly stats = createStats()
  /** Smallest time to a response head per origin: the round trip the next Clients' margin is sized for. */
  readonly rtt = new Map<string, number>()
  readonly byPort = new Map<number, SocketRecord>()
  /** The margin with no round trip measured: once an origin's margin is down to it, the round trip is not timed any more. */
  readonly floorMargin: number
  /** Options for a one-off Client that carries a retry: its own fresh socket, through the same connector. */
  retryClientOptions: object = {}
  /**
   * Sockets retire at their maxSocketAge and maxRequestsPerSocket when a request ends (true unless undici pipelines:
   * then Pool clientTtl and Client maxRequestsPerClient).
   */
  limitsBySocket = true
  /** What undici-internals.ts found about this undici module (checked at its first dispatcher). */
  readonly support: UndiciSupport
  /** The one-off Clients carrying retries now: not the Agent's, so close() and destroy() see to them here. */
  readonly retryClients = new Set<Dispatcher>()
  /** destroy() was called: no request is sent again after it. */
  destroyed = false
  /** HTTP/2 may be negotiated: requests on a session are not written through the socket's write. */
  allowH2 = false

  constructor(
    readonly u: UndiciModule,
    readonly options: ResolvedOptions,
  ) {
    this.floorMargin = options.margin(0)
    this.support = undiciSupport(u)
  }

  /** A socket from the connector, connected: TCP keepalive, its record, and the write and read watchers. */
  adopt(socket: Socket, opts: { protocol?: string; hostname?: string; port?: string }): void {
    const now = performance.now()
    const record: SocketRecord = {
      socket,
      origin: `${opts.protocol ?? 'http:'}//${opts.hostname ?? ''}:${opts.port ?? ''}`,
      createdAt: now,
      requests: 0,
      bytesReadAtLastWrite: -1,
      startBytesRead: 0,
      lastReadAt: now,
      idleKnown: false,
      idleMs: undefined,
      aged: false,
      maxRequests: 0,
      ageTimer: undefined,
      idleTimer: undefined,
      idleBudget: -1,
      budgetHint: undefined,
      budgetRtt: -1,
      idleDeadline: Number.POSITIVE_INFINITY,
    }
    ;(socket as unknown as Record<symbol, SocketRecord>)[kRecord] = record
    const stats = this.stats
    stats.socketsCreated += 1
    const port = socket.localPort
    if (port !== undefined) this.byPort.set(port, record)
    // The connector ran `connect`: the socket is connected, so this applies now (TLS included).
    applyTcpKeepalive(socket, this.options.policy)
    const limits = this.limitsBySocket ? this.options.socketLimits() : undefined
    record.maxRequests = limits?.maxRequests ?? 0
    const maxAge = limits?.maxAge ?? 0
    if (maxAge > 0) {
      // Timers hold at most 2^31 - 1 ms (~24.8 days); a longer age is that long.
      record.ageTimer = setTimeout(
        () => {
          record.aged = true
        },
        Math.min(maxAge, MAX_TIMER_MS),
      )
      record.ageTimer.unref()
    }
    const write = socket.write
    socket.write = function (this: Socket) {
      const bytesRead = this.bytesRead
      if (bytesRead !== record.bytesReadAtLastWrite) {
        // Something was read since our last write: this write starts the next request (undici pipelines 1 by default).
        record.requests += 1
        record.startBytesRead = bytesRead
        if (record.requests > 1) stats.socketsReused += 1
        record.idleMs = record.idleKnown ? performance.now() - record.lastReadAt : undefined
        record.idleKnown = false
        record.idleDeadline = Number.POSITIVE_INFINITY
        record.bytesReadAtLastWrite = bytesRead
      }
      const link = takeLink() as RequestState | undefined
      if (link !== undefined) link.record = record
      // biome-ignore lint/complexity/noArguments: forwards every argument without allocating.
      return (write as (...a: unknown[]) => boolean).apply(this, arguments as unknown as unknown[])
    } as Socket['write']
    socket.on('error', (error: Error & { code?: string }) => {
      // The same object reaches the failed request's handler: tie it to this socket.
      if (!Object.isFrozen(error)) (error as unknown as Record<symbol, SocketRecord>)[kRecord] = record
      if (isInformational(error)) this.retired(record, error.message)
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
      if (record.ageTimer !== undefined) clearTimeout(record.ageTimer)
      if (record.idleTimer !== undefined) clearTimeout(record.idleTimer)
      // undici fails the socket's requests inside its own 'close' listener, after this one: keep the record a tick.
      if (port !== undefined) setImmediate(() => this.byPort.get(port) === record && this.byPort.delete(port))
    })
    if (httpChannels.socketCreated.hasSubscribers) {
      httpChannels.socketCreated.publish({ engine: ENGINE, origin: record.origin, socket })
    }
  }

  /**
   * A request ended on a socket past its age or its request count: close the socket now, between requests (undici
   * pipelines one request per socket unless told otherwise, and this one is complete). undici treats the
   * informational error as its own idle-timeout close: nothing fails, the next request connects anew.
   */
  retire(
    record: SocketRecord,
    message: typeof AGE_MESSAGE | typeof REQUESTS_MESSAGE | typeof IDLE_MESSAGE,
  ): void {
    if (record.socket.destroyed) return
    record.socket.destroy(informationalError(this.u, message))
  }

  /**
   * An informational close: undici's idle timeout or one of our retirements. undici's own 'reset' (the server said
   * `Connection: close`, or, with pipelining > 1, its maxRequestsPerClient) is not ours and not counted.
   */
  retired(record: SocketRecord, message: string): void {
    const reason =
      message === IDLE_MESSAGE || isIdleClose(this.support, record.socket, message, record.idleKnown, isOurs)
        ? 'idle'
        : message === AGE_MESSAGE
          ? 'age'
          : message === REQUESTS_MESSAGE
            ? 'requests'
            : undefined
    if (reason === undefined) return
    if (reason === 'idle') this.stats.expiredIdle += 1
    else this.stats.retired += 1
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

  /**
   * A request ended on the socket (it is idle now): arm its idle budget for the response's Keep-Alive hint, read by
   * core's tolerant parser like the agent's (undici's own reads `timeout=N` only in its exact spelling, and keeps the
   * socket for its default when it misses one). undici's own keep-alive timer stays: it can only close sooner.
   */
  armIdle(record: SocketRecord, origin: string, hint: string | undefined, now: number): void {
    const rtt = this.rtt.get(origin) ?? 0
    let ms = record.idleBudget
    if (hint !== record.budgetHint || rtt !== record.budgetRtt || ms < 0) {
      const budget = this.options.idleBudget(hint, rtt)
      ms = budget <= 0 ? 0 : Math.min(Math.max(1, Math.floor(budget)), MAX_TIMER_MS)
      record.budgetHint = hint
      record.budgetRtt = rtt
    }
    if (ms === 0) {
      // The server keeps idle sockets too briefly to reuse one safely.
      this.retire(record, IDLE_MESSAGE)
      return
    }
    record.idleDeadline = now + ms
    if (record.idleDeadline < this.earliestIdle) this.earliestIdle = record.idleDeadline
    if (record.idleTimer !== undefined && record.idleBudget === ms) {
      record.idleTimer.refresh()
      return
    }
    if (record.idleTimer !== undefined) clearTimeout(record.idleTimer)
    record.idleBudget = ms
    record.idleTimer = setTimeout(() => {
      if (record.idleKnown) this.retire(record, IDLE_MESSAGE)
    }, ms)
    record.idleTimer.unref()
  }

  /** No socket's idle deadline is earlier than this (lowered when one is armed, recomputed by pruneIdle). */
  earliestIdle = Number.POSITIVE_INFINITY

  /**
   * Before a request is dispatched: any idle socket past its deadline is retired now, even if its timer has not fired
   * yet (a busy event loop fires timers late). One clock read when none can be (the usual case).
   */
  pruneIdle(): void {
    const now = performance.now()
    if (now < this.earliestIdle) return
    let earliest = Number.POSITIVE_INFINITY
    for (const record of this.byPort.values()) {
      if (!record.idleKnown || record.socket.destroyed) continue
      if (record.idleDeadline <= now) this.retire(record, IDLE_MESSAGE)
      else if (record.idleDeadline < earliest) earliest = record.idleDeadline
    }
    this.earliestIdle = earliest
  }

  recordOf(error: unknown): SocketRecord | undefined {
    if (error === null || typeof error !== 'object') return undefined
    const own = (error as Record<symbol, SocketRecord | undefined>)[kRecord]
    if (own) return own
    // SocketError('closed') is made at close without an 'error' event; it carries the socket's address.
    const port = socketErrorPort(error)
    return port === undefined ? undefined : this.byPort.get(port)
  }

  /** Notes a response head's time to the origin's round trip, while that can still lower the margin. */
  noteRtt(origin: string, rtt: number): void {
    if (rtt < (this.rtt.get(origin) ?? Number.POSITIVE_INFINITY)) {
      if (this.rtt.size >= 1024) this.rtt.clear()
      this.rtt.set(origin, rtt)
      if (origin === this.lastOrigin) this.lastOrigin = undefined
    }
  }

  /** True while a smaller round trip could still lower this origin's margin (it is above the floor). */
  timesRtt(origin: string): boolean {
    // Requests mostly go to the origin of the one before: its answer is kept (a string compare, no hashing).
    if (origin === this.lastOrigin) return this.lastTimesRtt
    const rtt = this.rtt.get(origin)
    this.lastOrigin = origin
    this.lastTimesRtt = rtt === undefined || this.options.margin(rtt) > this.floorMargin
    return this.lastTimesRtt
  }
  lastOrigin: string | undefined = undefined
  lastTimesRtt = true
}

/**
 * One request through the dispatcher, for its whole life (both attempts): what the retry needs to know, whichever
 * handler API its caller speaks. One object per request (the handler undici calls is this object), its methods on
 * the prototype: no closures on the hot path.
 */
abstract class RequestState {
  attempt = 0
  firstError: unknown = undefined
  abortedWith: Error | undefined = undefined
  responseStarted = false
  /** When the attempt was dispatched, while the origin's round trip is still timed; otherwise -1. */
  started = -1
  /** The socket the current attempt was written on (see linkNextWrite in undici-internals.ts). */
  record: SocketRecord | undefined = undefined
  /** Closes the one-off Client of a retry. */
  finished: (() => void) | undefined = undefined
  readonly origin: string
  /** The body goes out with the head and can be sent again: none, a string or bytes. */
  readonly linkable: boolean

  constructor(
    readonly engine: UndiciEngine,
    readonly opts: Dispatcher.DispatchOptions,
  ) {
    const origin = opts.origin
    this.origin = typeof origin === 'string' ? origin : String(origin ?? '')
    this.linkable = isReplayableBody(opts.body)
    if (engine.timesRtt(this.origin)) this.started = performance.now()
  }

  /** The response's Keep-Alive header, raw (read by core's parser when the request ends). */
  hint: string | undefined = undefined
  /** This attempt's head was to be linked to its socket by the next write (linkNextWrite). */
  awaitingLink = false

  gotResponse(): void {
    this.responseStarted = true
    if (this.awaitingLink) {
      this.awaitingLink = false
      // Its head went out before its response came: the write linked it, unless undici changed (or it was HTTP/2).
      if (!this.engine.allowH2) checkLinked(this.engine.support, this.record !== undefined)
    }
    if (this.started >= 0) this.engine.noteRtt(this.origin, performance.now() - this.started)
  }

  linkNextWrite(): void {
    this.awaitingLink = true
    linkNextWrite(this)
  }

  ended(): void {
    const record = this.record
    if (record !== undefined) {
      // The socket is idle from now. Noted here rather than by a 'data' listener on the socket: undici reads its
      // sockets through 'readable', and a 'data' listener next to it cost 10–15 % of the client's CPU at 50 in flight.
      const now = performance.now()
      record.lastReadAt = now
      record.idleKnown = true
      // Between requests now (one request per socket at a time): a socket past its age or its requests goes; the
      // others may stay idle for their budget.
      const engine = this.engine
      if (record.aged) engine.retire(record, AGE_MESSAGE)
      else if (record.maxRequests > 0 && record.requests >= record.maxRequests) {
        engine.retire(record, REQUESTS_MESSAGE)
      } else if (engine.limitsBySocket && !record.socket.destroyed) {
        engine.armIdle(record, this.origin, this.hint, now)
      }
    }
    this.finished?.()
  }

  /** The request failed: sent again (true) by Go's rules, or the facts attached for the caller (false). */
  retried(error: unknown): boolean {
    const { engine, attempt, opts } = this
    const record = engine.recordOf(error)
    const reusedSocket = attempt === 0 && record !== undefined && record.requests > 1
    const bytesArrived = record !== undefined && record.socket.bytesRead > record.startBytesRead
    const reason = whyNotRetry({
      enabled: engine.options.retry && engine.support.off.retry === undefined,
      reusedSocket,
      attempt,
      responseStarted: this.responseStarted || bytesArrived,
      replayableMethod: isReplayableRequest(opts.method, hasIdempotencyKey(opts.headers)),
      bodyKept: this.linkable,
      aborted: this.abortedWith !== undefined || engine.destroyed,
      error,
    })
    const facts: ReuseFacts = Object.freeze({
      engine: ENGINE,
      reusedSocket: attempt > 0 || reusedSocket,
      socketRequests: record ? record.requests - 1 : undefined,
      idleMs: record?.idleMs,
      retried: attempt > 0,
      notRetriedBecause: reason ?? 'already retried',
      ...(attempt > 0 ? { firstError: this.firstError } : {}),
    })
    const stats = engine.stats
    if (reason === undefined) {
      stats.requestsRetried += 1
      if (httpChannels.requestRetried.hasSubscribers) {
        httpChannels.requestRetried.publish({
          engine: ENGINE,
          method: opts.method,
          origin: this.origin,
          error,
          facts,
        })
      }
      // The retry goes on a socket of its own: a pooled one could be the next stale socket of the same race.
      const client = new engine.u.Client(this.origin, engine.retryClientOptions as never)
      // Kept by the engine until the retry ends, so the dispatcher's close() waits for it and destroy() ends it.
      engine.retryClients.add(client)
      this.attempt = 1
      this.firstError = error
      this.responseStarted = false
      this.record = undefined
      this.started = this.started >= 0 ? performance.now() : -1
      this.finished = () => {
        engine.retryClients.delete(client)
        client.close().catch(() => {})
      }
      ;(client.dispatch as AnyDispatch).call(client, opts, this)
      return true
    }
    this.finished?.()
    attachFacts(error, facts)
    stats.requestsFailed += 1
    if (httpChannels.requestFailed.hasSubscribers) {
      httpChannels.requestFailed.publish({
        engine: ENGINE,
        method: opts.method,
        origin: this.origin,
        error,
        facts,
      })
    }
    return false
  }
}

/**
 * A request whose caller speaks the new handler API (undici 8; interceptors): the handler undici calls, and the
 * controller the caller's handler sees (the same object across a retry, forwarding to the current attempt's).
 */
class RequestWrapper extends RequestState {
  current: Controller | undefined = undefined

  constructor(
    engine: UndiciEngine,
    opts: Dispatcher.DispatchOptions,
    readonly handler: AnyHandler,
  ) {
    super(engine, opts)
  }

  // The caller's controller.
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

  // The handler undici calls.
  onRequestStart(inner: Controller, context: unknown): void {
    this.current = inner
    if (this.abortedWith !== undefined) inner.abort(this.abortedWith)
    else {
      if (this.attempt === 0) this.handler.onRequestStart?.(this as never, context as never)
      if (this.linkable && this.abortedWith === undefined && !inner.aborted) this.linkNextWrite()
    }
  }
  onRequestUpgrade(inner: Controller, statusCode: number, headers: unknown, socket: unknown): void {
    this.current = inner
    this.handler.onRequestUpgrade?.(this as never, statusCode, headers as never, socket as never)
  }
  onResponseStart(inner: Controller, statusCode: number, headers: unknown, statusMessage?: string): void {
    this.gotResponse()
    const value = (headers as Record<string, unknown> | undefined)?.['keep-alive']
    this.hint = typeof value === 'string' ? value : Array.isArray(value) ? value.join(', ') : undefined
    this.current = inner
    this.handler.onResponseStart?.(this as never, statusCode, headers as never, statusMessage)
  }
  onResponseData(_inner: Controller, chunk: Buffer): void {
    this.handler.onResponseData?.(this as never, chunk)
  }
  onResponseEnd(_inner: Controller, trailers: unknown): void {
    this.ended()
    this.handler.onResponseEnd?.(this as never, trailers as never)
  }
  onResponseError(_inner: Controller, error: Error): void {
    if (!this.retried(error)) this.handler.onResponseError?.(this as never, error)
  }
}

/**
 * A request whose caller speaks undici 7's old handler API (undici 7's own `request`, Node 20's fetch), passed
 * through in those terms: undici 7 runs it without adapters, where a new-API wrapper would add two adapter layers
 * (and a second header parse) per request. No onRequestStart here: that is how undici tells the APIs apart.
 */
class LegacyRequestWrapper extends RequestState {
  /** The caller's abort: the same function across a retry, forwarding to the current attempt's. */
  readonly abortFn: (reason?: Error) => void
  innerAbort: ((reason?: Error) => void) | undefined = undefined

  constructor(
    engine: UndiciEngine,
    opts: Dispatcher.DispatchOptions,
    readonly legacy: LegacyHandler,
  ) {
    super(engine, opts)
    this.abortFn = (reason) => {
      this.abortedWith = reason ?? new Error('aborted')
      this.innerAbort?.(this.abortedWith)
    }
  }

  onConnect(abort: (reason?: Error) => void, context?: unknown): void {
    this.innerAbort = abort
    if (this.abortedWith !== undefined) abort(this.abortedWith)
    else {
      if (this.attempt === 0) this.legacy.onConnect(this.abortFn, context)
      if (this.linkable && this.abortedWith === undefined) this.linkNextWrite()
    }
  }
  onResponseStarted(): void {
    this.legacy.onResponseStarted?.()
  }
  onHeaders(statusCode: number, rawHeaders: unknown, resume: () => void, statusText?: string): boolean {
    this.gotResponse()
    this.hint = Array.isArray(rawHeaders) ? keepAliveHint(rawHeaders) : undefined
    return this.legacy.onHeaders?.(statusCode, rawHeaders, resume, statusText) ?? true
  }
  onData(chunk: Buffer): boolean {
    return this.legacy.onData?.(chunk) ?? true
  }
  onComplete(trailers: unknown): void {
    this.ended()
    this.legacy.onComplete?.(trailers)
  }
  onUpgrade(statusCode: number, rawHeaders: unknown, socket: unknown): void {
    this.legacy.onUpgrade?.(statusCode, rawHeaders, socket)
  }
  onError(error: Error): void {
    if (!this.retried(error)) this.legacy.onError(error)
  }
}

/** One class per undici copy: it must extend that copy's Dispatcher. */
function dispatcherClass(u: UndiciModule) {
  const cached = classes.get(u)
  if (cached) return cached
  class PolicyDispatcher extends u.Dispatcher {
    readonly #engine: UndiciEngine
    readonly #agent: Dispatcher

    constructor(options: ResolvedOptions, engine: Omit<DispatcherOptions, keyof HttpKeepaliveOptions>) {
      super()
      const state = new UndiciEngine(u, options)
      this.#engine = state
      const base = options.base
      const connector = u.buildConnector({ ...(engine.connect ?? {}), keepAlive: false } as never)
      const connect = (opts: object, callback: (error: Error | null, socket: Socket | null) => void) =>
        connector(opts as never, (error, socket) => {
          if (error || !socket) callback(error ?? new Error('no socket'), null)
          else {
            state.adopt(socket as Socket, opts as { protocol?: string; hostname?: string; port?: string })
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
      // With more than one request in flight per socket, "between requests" is not known here: undici's Pool then
      // retires whole Clients at clientTtl instead (checked on every dispatch, which is why it is not the default).
      const pipelining = (poolOptions as { pipelining?: unknown }).pipelining
      state.limitsBySocket =
        (pipelining === undefined || pipelining === 0 || pipelining === 1) &&
        state.support.off.limits === undefined
      state.allowH2 = (poolOptions as { allowH2?: unknown }).allowH2 === true
      state.retryClientOptions = { ...poolOptions, keepAliveTimeoutThreshold: options.margin(0) }
      this.#agent = new u.Agent({
        factory: (origin: string | URL, agentOpts: object) => {
          const key = String(origin)
          const maxAge = state.limitsBySocket ? 0 : options.socketLimits().maxAge
          return new u.Pool(origin, {
            ...agentOpts,
            ...poolOptions,
            ...(maxAge > 0 ? { clientTtl: maxAge } : {}),
            factory: (clientOrigin: string | URL, clientOpts: object) => {
              // One request at a time per socket: sockets retire at their own limits between requests (adopt,
              // RequestState.ended). Pipelined: undici resets the socket after this many requests.
              const own = state.limitsBySocket ? undefined : options.socketLimits()
              return new u.Client(clientOrigin, {
                ...clientOpts,
                keepAliveTimeoutThreshold: options.margin(state.rtt.get(key) ?? 0),
                ...(own !== undefined && own.maxRequests > 0
                  ? { maxRequestsPerClient: own.maxRequests }
                  : {}),
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
      // 'drain' comes once per request when the pool is saturated: forwarded only when someone listens.
      for (const event of ['connect', 'disconnect', 'connectionError', 'drain']) {
        listen(event, (origin, targets, error) => {
          if (this.listenerCount(event) > 0) forward(event, origin, targets, error)
        })
      }
    }

    get stats(): HttpPoolStats {
      return { ...this.#engine.stats }
    }
    get settings(): HttpClientSettings {
      return this.#engine.options.base
    }

    /**
     * Straight to the Agent with one wrapper object per request. A handler in undici 7's old API (undici 7's own
     * `request`, Node 20's fetch) gets an old-API wrapper, which undici 7 runs without adapters; one in the new API
     * (undici 8, interceptors) the new-API wrapper.
     */
    override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      const h = handler as AnyHandler
      this.#engine.pruneIdle()
      const wrapped =
        typeof h?.onRequestStart !== 'function' && typeof h?.onConnect === 'function'
          ? new LegacyRequestWrapper(this.#engine, opts, h as unknown as LegacyHandler)
          : new RequestWrapper(this.#engine, opts, h)
      return (this.#agent.dispatch as AnyDispatch).call(this.#agent, opts, wrapped)
    }
    /**
     * undici's close(): resolves once every request in flight has ended and every socket is closed — the retries on
     * their own Clients included (a request failing during the Agent's close may start one: they are looked at after).
     */
    override close(callback?: () => void): Promise<void> {
      const engine = this.#engine
      const done = this.#agent
        .close()
        .then(() => Promise.all(Array.from(engine.retryClients, (client) => client.close())))
        .then(() => undefined)
      if (callback) done.then(callback, callback)
      return done
    }
    // biome-ignore lint/suspicious/noExplicitAny: undici's overloads (err?, callback?) in one signature.
    override destroy(...args: any[]): any {
      const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined
      const error = (args[0] as Error | null | undefined) ?? null
      const engine = this.#engine
      engine.destroyed = true
      const done = Promise.all([
        this.#agent.destroy(error),
        ...Array.from(engine.retryClients, (client) => client.destroy(error)),
      ]).then(() => undefined)
      if (callback) done.then(callback, callback)
      return done
    }
  }
  classes.set(u, PolicyDispatcher as never)
  return PolicyDispatcher
}

/** The Keep-Alive header's value(s) in undici 7's raw header list [name, value, …] (Buffers or strings), joined. */
function keepAliveHint(raw: unknown[]): string | undefined {
  let hint: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as { length: number; toString(): string }
    if (name?.length === 10 && name.toString().toLowerCase() === 'keep-alive') {
      const value = String(raw[i + 1])
      hint = hint === undefined ? value : `${hint}, ${value}`
    }
  }
  return hint
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

/** True when the request's headers carry a real Idempotency-Key (isIdempotencyKey: a value that names a key). */
function hasIdempotencyKey(headers: unknown): boolean {
  if (!headers || typeof headers !== 'object') return false
  const isKey = (name: unknown) => String(name ?? '').toLowerCase() === 'idempotency-key'
  if (Array.isArray(headers)) {
    // undici's flat form [name, value, name, value, …], or pairs.
    for (let i = 0; i < headers.length; i += 1) {
      const item = headers[i]
      if (Array.isArray(item)) {
        if (isKey(item[0]) && isIdempotencyKey(item[1])) return true
      } else if (i % 2 === 0 && isKey(item) && isIdempotencyKey(headers[i + 1])) return true
    }
    return false
  }
  if (Symbol.iterator in headers && typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const pair of headers as Iterable<unknown>) {
      if (Array.isArray(pair) && isKey(pair[0]) && isIdempotencyKey(pair[1])) return true
    }
    return false
  }
  const record = headers as Record<string, unknown>
  return Object.keys(record).some((name) => isKey(name) && isIdempotencyKey(record[name]))
}

/** Makes Node's global fetch (and undici's global request/fetch) use a dispatcher with the policy. Returns it. */
export function useForGlobalFetch(policy?: PolicyLike, options?: DispatcherOptions): KeepaliveDispatcher {
  const u = options?.undici ?? loadUndici()
  const dispatcher = createDispatcher(policy, { ...options, undici: u })
  u.setGlobalDispatcher(dispatcher)
  return dispatcher
}

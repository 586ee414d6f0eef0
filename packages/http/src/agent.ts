/**
 * createAgent / createHttpsAgent: node:http(s) Agents that never hand out a socket the server is about to close.
 *
 * Per socket, from connect to close:
 * - connect: full TCP keepalive from @keepalive/tcp (idle, interval, count, user timeout), so in-flight requests and
 *   long streams are covered, not only idle sockets (Node's keepAliveMsecs reaches free sockets only, #41965);
 * - each response: the Keep-Alive hint and the round trip (time to the response head) are noted;
 * - going idle ('free'): retired if it reached its age or request limit (jittered); otherwise it may stay idle for
 *   core's idle budget (policy, path, server timeout, hint, minus a round-trip margin), enforced by a timer AND
 *   checked again when a request is about to take it;
 * - a request failing on it after reuse, before any response byte: sent once more on a fresh socket by Go's rules
 *   (retry-rules.ts; the node:http internals it needs are in node-internals.ts); otherwise the error goes to the
 *   caller with the reuse facts attached.
 */
import http from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { HttpClientSettings, PolicyLike } from '@keepalive/core'
import { applyTcpKeepalive } from '@keepalive/tcp'
import { requestOnSocket, resendOnNewSocket, retrySupport } from './node-internals.js'
import { type HttpKeepaliveOptions, type ResolvedOptions, resolveOptions, splitOptions } from './options.js'
import { isReplayableRequest, MAX_REPLAY_BYTES, whyNotRetry } from './retry-rules.js'
import {
  attachFacts,
  createStats,
  type HttpPoolStats,
  httpChannels,
  type NotRetriedReason,
  type ReuseFacts,
} from './stats.js'

export type AgentOptions = HttpKeepaliveOptions & Omit<http.AgentOptions, 'keepAlive' | 'timeout'>
export type HttpsAgentOptions = HttpKeepaliveOptions & Omit<https.AgentOptions, 'keepAlive' | 'timeout'>

/** What both agent classes add to http.Agent. */
export interface KeepaliveAgentExtras {
  /** Counters since creation (a snapshot). */
  readonly stats: HttpPoolStats
  /** core's settings before any response was seen: idle budget, TCP keepalive, warnings. */
  readonly settings: HttpClientSettings
}
export type KeepaliveAgent = http.Agent & KeepaliveAgentExtras
export type KeepaliveHttpsAgent = https.Agent & KeepaliveAgentExtras

const kState = Symbol('keepalive.http.socket')
const kTrack = Symbol('keepalive.http.request')
const ENGINE = 'node:http'
const RETRY_UNSUPPORTED = retrySupport()

interface SocketState {
  readonly createdAt: number
  readonly origin: string
  readonly connectOptions: object
  readonly maxAge: number
  readonly maxRequests: number
  readonly write: Socket['write']
  /** Agent pool key, known once the socket first goes free. */
  name: string | undefined
  /** Requests completed on this socket. */
  requests: number
  /** Smallest time from a request's first byte out to its response head: an upper bound of the round trip. */
  rtt: number
  hint: string | undefined
  free: boolean
  freeAt: number | undefined
  deadline: number
  retired: boolean
  current: RequestTrack | undefined
}

interface RequestTrack {
  attempt: number
  startBytesRead: number | undefined
  firstWriteAt: number | undefined
  idleMs: number | undefined
  chunks: Array<readonly [string | Uint8Array, BufferEncoding | undefined]> | undefined
  bytes: number
  overflow: boolean
  aborted: boolean
  retrying: boolean
  prefinished: boolean
  firstError: unknown
  socket: SocketState | undefined
}

/** The shared engine of both agent classes. */
class NodePool {
  readonly stats = createStats()
  #closed = false

  constructor(
    readonly agent: http.Agent,
    readonly options: ResolvedOptions,
    readonly protocol: 'http:' | 'https:',
  ) {
    // Before the agent's own 'free' handler: a socket past its limits is destroyed, which that handler then sees.
    agent.prependListener('free', (socket: Socket, options: object) => this.onFree(socket, options))
  }

  adopt(socket: Socket, connectOptions: Record<string, unknown>): void {
    const limits = this.options.socketLimits()
    const host = String(connectOptions.host ?? connectOptions.hostname ?? 'localhost')
    const state: SocketState = {
      createdAt: performance.now(),
      origin: `${this.protocol}//${host}:${String(connectOptions.port ?? '')}`,
      connectOptions,
      maxAge: limits.maxAge,
      maxRequests: limits.maxRequests,
      write: socket.write,
      name: undefined,
      requests: 0,
      rtt: Number.POSITIVE_INFINITY,
      hint: undefined,
      free: false,
      freeAt: undefined,
      deadline: Number.POSITIVE_INFINITY,
      retired: false,
      current: undefined,
    }
    ;(socket as unknown as Record<symbol, SocketState>)[kState] = state
    this.stats.socketsCreated += 1
    // Every byte a request writes passes here: where a request starts on this socket, and its bytes for a replay.
    const pool = this
    socket.write = function write(this: Socket, ...args: unknown[]) {
      pool.onWrite(
        state,
        this,
        args[0],
        typeof args[1] === 'string' ? (args[1] as BufferEncoding) : undefined,
      )
      return (state.write as (...a: unknown[]) => boolean).apply(this, args)
    } as Socket['write']
    socket.on('timeout', () => {
      if (state.free) this.retireFree(socket, state, 'idle')
    })
    socket.once('close', () => {
      if (state.free && !state.retired && !this.#closed) {
        state.free = false
        this.stats.closedByServer += 1
        if (httpChannels.socketClosedByServer.hasSubscribers) {
          httpChannels.socketClosedByServer.publish({
            engine: ENGINE,
            origin: state.origin,
            idleMs: performance.now() - (state.freeAt ?? state.createdAt),
            requests: state.requests,
          })
        }
      }
    })
    if (connectOptions.socketPath === undefined) {
      // Before connect this applies at 'connect' (TLS included); warnings go to keepalive:tcp:warning.
      applyTcpKeepalive(socket, this.options.policy)
    }
    if (httpChannels.socketCreated.hasSubscribers) {
      httpChannels.socketCreated.publish({ engine: ENGINE, origin: state.origin, socket })
    }
  }

  /** A request writes on a socket: the first write of a request notes where it starts and whether it may be replayed. */
  onWrite(state: SocketState, socket: Socket, chunk: unknown, encoding: BufferEncoding | undefined): void {
    const req = requestOnSocket(socket)
    const track = req ? trackOf(req) : undefined
    if (!req || !track) return
    if (state.current !== track) {
      state.current = track
      track.socket = state
      const now = performance.now()
      track.startBytesRead = socket.bytesRead
      track.firstWriteAt = now
      track.idleMs = state.freeAt === undefined ? undefined : now - state.freeAt
      // Only a request on a reused socket can be retried; only then are its bytes kept.
      track.chunks =
        this.options.retry && state.requests > 0 && track.attempt === 0 && RETRY_UNSUPPORTED === undefined
          ? []
          : undefined
    }
    if (track.chunks && (typeof chunk === 'string' || chunk instanceof Uint8Array)) {
      track.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.byteLength
      if (track.bytes > MAX_REPLAY_BYTES) {
        track.chunks = undefined
        track.overflow = true
      } else {
        track.chunks.push([chunk, encoding])
      }
    }
  }

  addRequest(req: http.ClientRequest): void {
    this.pruneFree()
    const track: RequestTrack = {
      attempt: 0,
      startBytesRead: undefined,
      firstWriteAt: undefined,
      idleMs: undefined,
      chunks: undefined,
      bytes: 0,
      overflow: false,
      aborted: false,
      retrying: false,
      prefinished: false,
      firstError: undefined,
      socket: undefined,
    }
    ;(req as unknown as Record<symbol, RequestTrack>)[kTrack] = track
    req.once('response', (res: http.IncomingMessage) => {
      const state = socketState(req.socket)
      if (!state) return
      const hint = res.headers['keep-alive']
      state.hint = Array.isArray(hint) ? hint.join(', ') : hint
      if (track.firstWriteAt !== undefined)
        state.rtt = Math.min(state.rtt, performance.now() - track.firstWriteAt)
    })
    const destroy = req.destroy
    req.destroy = function (this: http.ClientRequest, error?: Error) {
      track.aborted = true
      return destroy.call(this, error)
    }
    const emit = req.emit
    const pool = this
    // `arguments` instead of a rest parameter: no array per event on the hot path.
    req.emit = function (this: http.ClientRequest, event: string | symbol, first?: unknown): boolean {
      if (event === 'error' && pool.onRequestError(this, track, first)) return true
      if (event === 'close' && track.retrying) {
        // The old socket's close listener has run to its end once this tick is over (its parser freed).
        track.retrying = false
        process.nextTick(() => pool.resend(this, track, emit))
        return true
      }
      if (event === 'prefinish') {
        // After a replay, attaching the new socket flushes the finished request again: one 'prefinish' is enough.
        if (track.prefinished) return true
        track.prefinished = true
      }
      // biome-ignore lint/complexity/noArguments: forwards every argument without allocating.
      return (emit as (...a: unknown[]) => boolean).apply(this, arguments as unknown as unknown[])
    } as http.ClientRequest['emit']
  }

  /** True when the error is held back because the request is being sent again. */
  onRequestError(req: http.ClientRequest, track: RequestTrack, error: unknown): boolean {
    const socket = req.socket
    const state = track.socket ?? socketState(socket)
    const reusedSocket = track.attempt === 0 && state !== undefined && state.requests > 0
    const responseStarted =
      (req as unknown as { res?: unknown }).res != null ||
      (socket != null && track.startBytesRead !== undefined && socket.bytesRead > track.startBytesRead)
    const reason = whyNotRetry({
      enabled: this.options.retry && RETRY_UNSUPPORTED === undefined,
      reusedSocket,
      attempt: track.attempt,
      responseStarted,
      replayableMethod: isReplayableRequest(req.method, req.hasHeader('idempotency-key')),
      bodyKept: !track.overflow && (track.chunks !== undefined || track.firstWriteAt === undefined),
      aborted: track.aborted,
      error,
    })
    if (reusedSocket && !responseStarted) this.stats.closedByServer += 1
    if (reason === undefined) {
      track.retrying = true
      track.firstError = error
      this.stats.requestsRetried += 1
      if (httpChannels.requestRetried.hasSubscribers) {
        httpChannels.requestRetried.publish({
          engine: ENGINE,
          method: req.method,
          origin: state?.origin,
          error,
          facts: this.facts(track, state, reusedSocket, 'already retried'),
        })
      }
      return true
    }
    this.fail(req, track, state, reusedSocket, reason, error)
    return false
  }

  fail(
    req: http.ClientRequest,
    track: RequestTrack,
    state: SocketState | undefined,
    reusedSocket: boolean,
    reason: NotRetriedReason,
    error: unknown,
  ): void {
    const facts = this.facts(track, state, reusedSocket, reason)
    attachFacts(error, facts)
    this.stats.requestsFailed += 1
    if (httpChannels.requestFailed.hasSubscribers) {
      httpChannels.requestFailed.publish({
        engine: ENGINE,
        method: req.method,
        origin: state?.origin,
        error,
        facts,
      })
    }
  }

  facts(
    track: RequestTrack,
    state: SocketState | undefined,
    reusedSocket: boolean,
    reason: NotRetriedReason,
  ): ReuseFacts {
    return Object.freeze({
      engine: ENGINE,
      reusedSocket: track.attempt > 0 ? true : reusedSocket,
      socketRequests: state?.requests,
      idleMs: track.idleMs,
      retried: track.attempt > 0,
      notRetriedBecause: reason,
      ...(track.attempt > 0 ? { firstError: track.firstError } : {}),
    })
  }

  resend(req: http.ClientRequest, track: RequestTrack, emit: http.ClientRequest['emit']): void {
    const old = track.socket
    const replay = track.chunks ?? []
    track.attempt = 1
    track.chunks = undefined
    track.socket = undefined
    track.startBytesRead = undefined
    track.firstWriteAt = undefined
    if (track.aborted || !old || this.#closed) {
      // Destroyed by its caller while we waited, or the agent is gone: the first error and the close it held back.
      this.fail(req, track, old, true, 'aborted', track.firstError)
      emit.call(req, 'error', track.firstError)
      emit.call(req, 'close')
      return
    }
    resendOnNewSocket(
      this.agent,
      req,
      old.connectOptions,
      replay,
      (socket, chunk, encoding) => {
        const state = socketState(socket)
        if (state) {
          state.current = track
          track.socket = state
          track.startBytesRead = 0
          track.firstWriteAt = performance.now()
        }
        ;(state?.write ?? socket.write).call(socket, chunk, encoding as BufferEncoding)
      },
      (error) => {
        if (error) {
          this.fail(req, track, old, true, 'already retried', error)
          emit.call(req, 'error', error)
          emit.call(req, 'close')
        }
      },
    )
  }

  onFree(socket: Socket, options: object): void {
    const state = socketState(socket)
    if (!state) return
    state.requests += 1
    state.current = undefined
    state.name ??= this.agent.getName(options as http.ClientRequestArgs)
    if (state.maxRequests > 0 && state.requests >= state.maxRequests) this.retire(socket, state, 'requests')
    else if (state.maxAge > 0 && performance.now() - state.createdAt >= state.maxAge)
      this.retire(socket, state, 'age')
  }

  /** The agent asks whether to pool a socket that just went free: set its idle deadline, or refuse. */
  keepSocketAlive(socket: Socket): boolean {
    const state = socketState(socket)
    if (!state) return true
    socket.unref()
    const now = performance.now()
    const budget = this.options.idleBudget(state.hint, Number.isFinite(state.rtt) ? state.rtt : 0)
    const ageLeft = state.maxAge > 0 ? state.createdAt + state.maxAge - now : Number.POSITIVE_INFINITY
    if (budget <= 0) {
      // The server keeps idle sockets too briefly to reuse one safely (core warns about it in settings.warnings).
      this.retire(socket, state, 'idle')
      return false
    }
    const ms = Math.max(1, Math.floor(ageLeft < budget ? ageLeft : budget))
    state.free = true
    state.freeAt = now
    state.deadline = now + ms
    // Node re-arms the timer on every call; skip it when the budget is the one already set (the usual case).
    if ((socket as Socket & { timeout?: number }).timeout !== ms) socket.setTimeout(ms)
    return true
  }

  reuseSocket(socket: Socket): void {
    const state = socketState(socket)
    if (!state) return
    state.free = false
    socket.setTimeout(0)
    this.stats.socketsReused += 1
  }

  /**
   * Before a request takes a pooled socket: any socket Node would pick (the newest for lifo, the oldest for fifo)
   * whose deadline has passed is retired now, even if its timer has not fired yet (a busy event loop fires it late).
   */
  pruneFree(): void {
    const now = performance.now()
    const lifo = (this.agent as { scheduling?: string }).scheduling !== 'fifo'
    const lists = this.agent.freeSockets as Record<string, Socket[] | undefined>
    for (const name in lists) {
      const list = lists[name]
      while (list && list.length > 0) {
        const socket = (lifo ? list[list.length - 1] : list[0]) as Socket
        const state = socketState(socket)
        if (!state || state.deadline > now) break
        this.retireFree(socket, state, 'idle')
      }
    }
  }

  /** Takes a free socket out of the pool and closes it (the agent's own 'close' handler then finds nothing to remove). */
  retireFree(socket: Socket, state: SocketState, reason: 'idle' | 'age'): void {
    const lists = this.agent.freeSockets as Record<string, Socket[] | undefined>
    const list = state.name === undefined ? undefined : lists[state.name]
    const index = list ? list.indexOf(socket) : -1
    if (list && index >= 0) {
      list.splice(index, 1)
      if (list.length === 0 && state.name !== undefined) delete lists[state.name]
      ;(this.agent as unknown as { totalSocketCount: number }).totalSocketCount -= 1
    }
    state.free = false
    const aged = state.maxAge > 0 && performance.now() - state.createdAt >= state.maxAge
    this.retire(socket, state, aged ? 'age' : reason)
  }

  retire(socket: Socket, state: SocketState, reason: 'idle' | 'age' | 'requests'): void {
    if (state.retired) return
    state.retired = true
    state.free = false
    if (reason === 'idle') this.stats.expiredIdle += 1
    else this.stats.retired += 1
    if (httpChannels.socketRetired.hasSubscribers) {
      const t = performance.now()
      httpChannels.socketRetired.publish({
        engine: ENGINE,
        origin: state.origin,
        reason,
        idleMs: state.freeAt === undefined ? 0 : t - state.freeAt,
        ageMs: t - state.createdAt,
        requests: state.requests,
      })
    }
    socket.destroy()
  }

  close(): void {
    this.#closed = true
  }
}

function socketState(socket: unknown): SocketState | undefined {
  return socket ? (socket as Record<symbol, SocketState | undefined>)[kState] : undefined
}

function trackOf(req: http.ClientRequest): RequestTrack | undefined {
  return (req as unknown as Record<symbol, RequestTrack | undefined>)[kTrack]
}

function warnRetryUnsupported(options: ResolvedOptions): void {
  if (RETRY_UNSUPPORTED !== undefined && options.retry) {
    process.emitWarning(
      `@keepalive/http: requests on reused sockets are not retried on this Node (${RETRY_UNSUPPORTED})`,
      { code: 'KEEPALIVE_HTTP_NO_RETRY' },
    )
  }
}

/** A node:http Agent with the policy: drop-in wherever an `http.Agent` goes (http.request, axios, got, node-fetch). */
class HttpAgentWithPolicy extends http.Agent implements KeepaliveAgentExtras {
  readonly #pool: NodePool
  constructor(options: ResolvedOptions, engine: http.AgentOptions) {
    super({ scheduling: 'lifo', ...engine, keepAlive: true })
    this.#pool = new NodePool(this, options, 'http:')
  }
  get stats(): HttpPoolStats {
    return { ...this.#pool.stats }
  }
  get settings(): HttpClientSettings {
    return this.#pool.options.base
  }
  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): Duplex {
    const socket = super.createConnection(options, callback) as Socket
    if (socket) this.#pool.adopt(socket, options as Record<string, unknown>)
    return socket
  }
  override keepSocketAlive(socket: Duplex): boolean {
    return this.#pool.keepSocketAlive(socket as Socket)
  }
  override reuseSocket(socket: Duplex, request: http.ClientRequest): void {
    super.reuseSocket(socket, request)
    this.#pool.reuseSocket(socket as Socket)
  }
  addRequest(request: http.ClientRequest, options: http.ClientRequestArgs): void {
    this.#pool.addRequest(request)
    ;(http.Agent.prototype as unknown as { addRequest: (r: unknown, o: unknown) => void }).addRequest.call(
      this,
      request,
      options,
    )
  }
  override destroy(): void {
    this.#pool.close()
    super.destroy()
  }
}

/** The https flavour: the same engine on https.Agent (TLS session reuse, servername, ALPN as Node does them). */
class HttpsAgentWithPolicy extends https.Agent implements KeepaliveAgentExtras {
  readonly #pool: NodePool
  constructor(options: ResolvedOptions, engine: https.AgentOptions) {
    super({ scheduling: 'lifo', ...engine, keepAlive: true })
    this.#pool = new NodePool(this, options, 'https:')
  }
  get stats(): HttpPoolStats {
    return { ...this.#pool.stats }
  }
  get settings(): HttpClientSettings {
    return this.#pool.options.base
  }
  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): Duplex {
    const socket = (
      https.Agent.prototype as unknown as { createConnection: (o: unknown, c: unknown) => Socket }
    ).createConnection.call(this, options, callback)
    if (socket) this.#pool.adopt(socket, options as Record<string, unknown>)
    return socket
  }
  override keepSocketAlive(socket: Duplex): boolean {
    return this.#pool.keepSocketAlive(socket as Socket)
  }
  override reuseSocket(socket: Duplex, request: http.ClientRequest): void {
    super.reuseSocket(socket, request)
    this.#pool.reuseSocket(socket as Socket)
  }
  addRequest(request: http.ClientRequest, options: http.ClientRequestArgs): void {
    this.#pool.addRequest(request)
    ;(https.Agent.prototype as unknown as { addRequest: (r: unknown, o: unknown) => void }).addRequest.call(
      this,
      request,
      options,
    )
  }
  override destroy(): void {
    this.#pool.close()
    super.destroy()
  }
}

/**
 * An http.Agent for the policy (default: the `balanced` preset). Options: this package's (see HttpKeepaliveOptions)
 * and any http.AgentOptions (maxSockets, maxFreeSockets, scheduling, …) except keepAlive (always on) and timeout
 * (idle sockets are timed by the policy; request timeouts stay the caller's `req.setTimeout`).
 */
export function createAgent(policy?: PolicyLike, options?: AgentOptions): KeepaliveAgent {
  const { keepalive, engine } = splitOptions(options)
  const resolved = resolveOptions('createAgent', policy, keepalive)
  warnRetryUnsupported(resolved)
  return new HttpAgentWithPolicy(resolved, engine as http.AgentOptions)
}

/** createAgent for https: an https.Agent (TLS options such as ca, cert, servername, rejectUnauthorized pass through). */
export function createHttpsAgent(policy?: PolicyLike, options?: HttpsAgentOptions): KeepaliveHttpsAgent {
  const { keepalive, engine } = splitOptions(options)
  const resolved = resolveOptions('createHttpsAgent', policy, keepalive)
  warnRetryUnsupported(resolved)
  return new HttpsAgentWithPolicy(resolved, engine as https.AgentOptions)
}

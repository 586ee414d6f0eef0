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
import {
  baseAddRequest,
  checkFirstRequest,
  type NodeFeature,
  nodeFeatureOff,
  removeFreeSocket,
  replaceRequestMethods,
  requestNotAdded,
  requestOnSocket,
  resendOnNewSocket,
  responseOf,
  takesNewestFree,
  warnNodeFeatures,
  watchSocketWrites,
} from './node-internals.js'
import { type HttpKeepaliveOptions, type ResolvedOptions, resolveOptions, splitOptions } from './options.js'
import { isIdempotencyKey, isReplayableRequest, MAX_REPLAY_BYTES, whyNotRetry } from './retry-rules.js'
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
/** A request wrote on one of our sockets without passing addRequest (node-internals turns features off once). */
let notAddedSeen = false
const kTrack = Symbol('keepalive.http.request')
const ENGINE = 'node:http'

interface SocketState {
  readonly createdAt: number
  readonly origin: string
  readonly connectOptions: object
  readonly maxAge: number
  readonly maxRequests: number
  /** The socket's own write (ours replaces it to watch requests' bytes). */
  write: Socket['write']
  /** Agent pool key, known once the socket first goes free. */
  name: string | undefined
  /** Requests completed on this socket. */
  requests: number
  /** Smallest time from a request's first byte out to its response head: an upper bound of the round trip. */
  rtt: number
  /** False once the margin for `rtt` is the smallest margin there is: no request is timed for it any more. */
  timesRtt: boolean
  hint: string | undefined
  /** The idle budget last computed, and the hint and round trip it was computed for. */
  budget: number
  budgetHint: string | undefined
  budgetRtt: number
  /** The socket's timer fired while it was in use (it re-arms on the next byte; set again when it goes idle). */
  timerFired: boolean
  free: boolean
  freeAt: number | undefined
  deadline: number
  retired: boolean
  current: RequestTrack | undefined
}

/** What the agent keeps about one request (both attempts): its own fields instead of closures per request. */
interface RequestTrack {
  readonly pool: NodePool
  /** The request's own emit and destroy, called by the shared replacements below. */
  emit: http.ClientRequest['emit']
  destroy: http.ClientRequest['destroy']
  attempt: number
  startBytesRead: number | undefined
  /** A byte of this request was written (on the current attempt's socket). */
  written: boolean
  /** When the first byte went out, if the round trip is being timed (-1 otherwise). */
  writeAt: number
  idleMs: number | undefined
  chunks: Array<readonly [string | Uint8Array, BufferEncoding | undefined]> | undefined
  bytes: number
  overflow: boolean
  aborted: boolean
  retrying: boolean
  prefinished: boolean
  responded: boolean
  firstError: unknown
  socket: SocketState | undefined
}

/** The engine of both agent classes: per socket from connect to close, per request from addRequest to its end. */
class NodePool {
  readonly stats = createStats()
  readonly floorMargin: number
  /**
   * No pooled socket's idle deadline is earlier than this (a lower bound: it is lowered whenever a socket goes free,
   * and recomputed only when pruneFree looks at the pool), so most requests skip the look.
   */
  #earliestDeadline = Number.POSITIVE_INFINITY
  #closed = false

  constructor(
    readonly agent: http.Agent,
    readonly options: ResolvedOptions,
    readonly protocol: 'http:' | 'https:',
  ) {
    this.floorMargin = options.margin(0)
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
      timesRtt: true,
      hint: undefined,
      budget: 0,
      budgetHint: undefined,
      budgetRtt: -1,
      timerFired: false,
      free: false,
      freeAt: undefined,
      deadline: Number.POSITIVE_INFINITY,
      retired: false,
      current: undefined,
    }
    ;(socket as unknown as Record<symbol, SocketState>)[kState] = state
    this.stats.socketsCreated += 1
    // Every byte a request writes passes here: where a request starts on this socket, and its bytes for a replay.
    state.write = watchSocketWrites(socket, (s, chunk, encoding) => this.onWrite(state, s, chunk, encoding))
    socket.on('timeout', () => {
      if (state.free) this.retireFree(socket, state, 'idle')
      else state.timerFired = true
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
    if (!track) {
      if (req !== undefined && !notAddedSeen) {
        notAddedSeen = true
        requestNotAdded()
      }
      return
    }
    if (state.current !== track) {
      state.current = track
      track.socket = state
      track.written = true
      track.startBytesRead = socket.bytesRead
      // One clock read per request at most: for the idle time of a reused socket and, until the margin is as small
      // as it gets, for the round trip.
      const reused = state.freeAt !== undefined
      const now = reused || state.timesRtt ? performance.now() : -1
      track.writeAt = state.timesRtt ? now : -1
      track.idleMs = reused ? now - (state.freeAt as number) : undefined
      // Only a request on a reused socket can be retried; only then are its bytes kept.
      track.chunks =
        this.options.retry &&
        state.requests > 0 &&
        track.attempt === 0 &&
        nodeFeatureOff('retry') === undefined
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
    checkFirstRequest(req)
    this.pruneFree()
    const track: RequestTrack = {
      pool: this,
      emit: req.emit,
      destroy: req.destroy,
      attempt: 0,
      startBytesRead: undefined,
      written: false,
      writeAt: -1,
      idleMs: undefined,
      chunks: undefined,
      bytes: 0,
      overflow: false,
      aborted: false,
      retrying: false,
      prefinished: false,
      responded: false,
      firstError: undefined,
      socket: undefined,
    }
    ;(req as unknown as Record<symbol, RequestTrack>)[kTrack] = track
    const own = replaceRequestMethods(
      req,
      trackedEmit as http.ClientRequest['emit'],
      trackedDestroy as http.ClientRequest['destroy'],
    )
    track.emit = own.emit
    track.destroy = own.destroy
  }

  /** The response head: the socket's Keep-Alive hint and, while it is timed, the round trip. */
  onResponse(req: http.ClientRequest, track: RequestTrack, res: http.IncomingMessage): void {
    track.responded = true
    const state = socketState(req.socket)
    if (!state) return
    state.hint = keepAliveHint(res.rawHeaders)
    if (track.writeAt >= 0 && state.timesRtt) {
      state.rtt = Math.min(state.rtt, performance.now() - track.writeAt)
      state.timesRtt = this.options.margin(state.rtt) > this.floorMargin
    }
  }

  /** True when the error is held back because the request is being sent again. */
  onRequestError(req: http.ClientRequest, track: RequestTrack, error: unknown): boolean {
    const socket = req.socket
    const state = track.socket ?? socketState(socket)
    const reusedSocket = track.attempt === 0 && state !== undefined && state.requests > 0
    const responseStarted =
      responseOf(req) != null ||
      (socket != null && track.startBytesRead !== undefined && socket.bytesRead > track.startBytesRead)
    const reason = whyNotRetry({
      enabled: this.options.retry && nodeFeatureOff('retry') === undefined,
      reusedSocket,
      attempt: track.attempt,
      responseStarted,
      replayableMethod: isReplayableRequest(req.method, isIdempotencyKey(req.getHeader('idempotency-key'))),
      bodyKept: !track.overflow && (track.chunks !== undefined || !track.written),
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

  resend(req: http.ClientRequest, track: RequestTrack): void {
    const old = track.socket
    const replay = track.chunks ?? []
    const emit = track.emit
    track.attempt = 1
    track.chunks = undefined
    track.socket = undefined
    track.startBytesRead = undefined
    track.written = false
    track.writeAt = -1
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
          track.written = true
          track.writeAt = state.timesRtt ? performance.now() : -1
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

  /**
   * A socket finished its request (the agent's 'free' event; called before the agent's own handler, which then
   * finds a socket past its limits destroyed).
   */
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
    const rtt = Number.isFinite(state.rtt) ? state.rtt : 0
    // The same hint and round trip as last time (the usual case): the same budget, no lookup.
    if (state.hint !== state.budgetHint || rtt !== state.budgetRtt) {
      state.budget = this.options.idleBudget(state.hint, rtt)
      state.budgetHint = state.hint
      state.budgetRtt = rtt
    }
    const budget = state.budget
    if (budget <= 0) {
      // The server keeps idle sockets too briefly to reuse one safely (core warns about it in settings.warnings).
      this.retire(socket, state, 'idle')
      return false
    }
    const ageLeft = state.maxAge > 0 ? state.createdAt + state.maxAge - now : Number.POSITIVE_INFINITY
    const ms = Math.max(1, Math.floor(Math.min(ageLeft, budget)))
    state.free = true
    state.freeAt = now
    state.deadline = now + ms
    if (state.deadline < this.#earliestDeadline) this.#earliestDeadline = state.deadline
    // The socket's timer stays armed while the socket is in use (as Node's agent does with `timeout`): a byte read
    // or written restarts it, so after the response it runs `ms` from the last byte. Set it only when its length
    // changes or it ran out during a long request.
    if ((socket as Socket & { timeout?: number }).timeout !== ms || state.timerFired) {
      state.timerFired = false
      socket.setTimeout(ms)
    }
    return true
  }

  reuseSocket(socket: Socket): void {
    const state = socketState(socket)
    if (!state) return
    state.free = false
    this.stats.socketsReused += 1
  }

  /**
   * Before a request takes a pooled socket: any socket Node would pick (the newest for lifo, the oldest for fifo)
   * whose deadline has passed is retired now, even if its timer has not fired yet (a busy event loop fires it late).
   * One clock read when no pooled socket can be past its deadline (the usual case).
   */
  pruneFree(): void {
    const now = performance.now()
    if (now < this.#earliestDeadline || nodeFeatureOff('prune') !== undefined) return
    const lists = this.agent.freeSockets as Record<string, Socket[] | undefined>
    const lifo = takesNewestFree(this.agent)
    let earliest = Number.POSITIVE_INFINITY
    for (const name in lists) {
      const list = lists[name]
      while (list && list.length > 0) {
        const socket = (lifo ? list[list.length - 1] : list[0]) as Socket
        const state = socketState(socket)
        if (!state || state.deadline > now) break
        this.retireFree(socket, state, 'idle')
      }
      if (list) {
        for (const socket of list) {
          const deadline = socketState(socket)?.deadline ?? Number.POSITIVE_INFINITY
          if (deadline < earliest) earliest = deadline
        }
      }
    }
    this.#earliestDeadline = earliest
  }

  /** Takes a free socket out of the pool and closes it (the agent's own 'close' handler then finds nothing to remove). */
  retireFree(socket: Socket, state: SocketState, reason: 'idle' | 'age'): void {
    removeFreeSocket(this.agent, state.name, socket)
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

/**
 * Every request's `emit` while the agent has it (one function for all, its state in the request's track): holds
 * back the error and close of a request being sent again, notes the response head, and lets one 'prefinish' through.
 */
function trackedEmit(this: http.ClientRequest, event: string | symbol, first?: unknown): boolean {
  const track = trackOf(this) as RequestTrack
  if (event === 'response') {
    if (!track.responded) track.pool.onResponse(this, track, first as http.IncomingMessage)
  } else if (event === 'error') {
    if (track.pool.onRequestError(this, track, first)) return true
  } else if (event === 'close') {
    if (track.retrying) {
      // The old socket's close listener has run to its end once this tick is over (its parser freed).
      track.retrying = false
      process.nextTick(() => track.pool.resend(this, track))
      return true
    }
  } else if (event === 'prefinish') {
    // After a replay, attaching the new socket flushes the finished request again: one 'prefinish' is enough.
    if (track.prefinished) return true
    track.prefinished = true
  }
  // biome-ignore lint/complexity/noArguments: forwards every argument without allocating.
  return (track.emit as (...a: unknown[]) => boolean).apply(this, arguments as unknown as unknown[])
}

/** Every request's `destroy` while the agent has it: a request its caller destroyed is never sent again. */
function trackedDestroy(this: http.ClientRequest, error?: Error): http.ClientRequest {
  const track = trackOf(this) as RequestTrack
  track.aborted = true
  return track.destroy.call(this, error)
}

/**
 * The Keep-Alive header's value(s), joined: read from `rawHeaders`, because `res.headers` is built on first access
 * and the caller may never need it.
 */
function keepAliveHint(raw: string[]): string | undefined {
  let hint: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    if (name.length === 10 && name.toLowerCase() === 'keep-alive') {
      const value = raw[i + 1] as string
      hint = hint === undefined ? value : `${hint}, ${value}`
    }
  }
  return hint
}

function socketState(socket: unknown): SocketState | undefined {
  return socket ? (socket as Record<symbol, SocketState | undefined>)[kState] : undefined
}

function trackOf(req: http.ClientRequest): RequestTrack | undefined {
  return (req as unknown as Record<symbol, RequestTrack | undefined>)[kTrack]
}

const ALL_FEATURES: readonly NodeFeature[] = ['retry', 'prune', 'counts']
const NO_RETRY_FEATURES: readonly NodeFeature[] = ['prune', 'counts']

/** A process warning for each feature this agent would use that node-internals.ts found changed on this Node. */
function warnChangedInternals(options: ResolvedOptions): void {
  warnNodeFeatures(options.retry ? ALL_FEATURES : NO_RETRY_FEATURES)
}

/**
 * The agent class for a base (http.Agent or https.Agent): the base's own connection making (net or TLS, with TLS
 * session reuse, servername and ALPN as Node does them) and the pool's hooks around it.
 */
function agentWithPolicy<Base extends typeof http.Agent>(
  base: Base,
  protocol: 'http:' | 'https:',
  name: string,
): new (
  options: ResolvedOptions,
  engine: ConstructorParameters<Base>[0],
) => InstanceType<Base> & KeepaliveAgentExtras {
  const addRequest = baseAddRequest(base)
  const baseEmit = base.prototype.emit
  // typeof http.Agent: TypeScript's mixin rules want a concrete base here; the return type restores the real one.
  class AgentWithPolicy extends (base as typeof http.Agent) implements KeepaliveAgentExtras {
    readonly #pool: NodePool
    constructor(options: ResolvedOptions, engine: http.AgentOptions) {
      super({ scheduling: 'lifo', ...engine, keepAlive: true })
      this.#pool = new NodePool(this, options, protocol)
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
      addRequest.call(this, request, options)
    }
    // 'free' seen here rather than by a second listener: an event with two listeners copies its listener array on
    // every emit, and 'free' is emitted once per request.
    override emit(event: string | symbol, socket?: unknown, options?: unknown): boolean {
      if (event === 'free') this.#pool.onFree(socket as Socket, options as object)
      // biome-ignore lint/complexity/noArguments: forwards every argument without allocating.
      return (baseEmit as (...a: unknown[]) => boolean).apply(this, arguments as unknown as unknown[])
    }
    override destroy(): void {
      this.#pool.close()
      super.destroy()
    }
  }
  Object.defineProperty(AgentWithPolicy, 'name', { value: name })
  return AgentWithPolicy as never
}

/** A node:http Agent with the policy: drop-in wherever an `http.Agent` goes (http.request, axios, got, node-fetch). */
const HttpAgentWithPolicy = agentWithPolicy(http.Agent, 'http:', 'HttpAgentWithPolicy')
/** The https flavour: the same engine on https.Agent. */
const HttpsAgentWithPolicy = agentWithPolicy(https.Agent, 'https:', 'HttpsAgentWithPolicy')

/**
 * An http.Agent for the policy (default: the `balanced` preset). Options: this package's (see HttpKeepaliveOptions)
 * and any http.AgentOptions (maxSockets, maxFreeSockets, scheduling, …) except keepAlive (always on) and timeout
 * (idle sockets are timed by the policy; request timeouts stay the caller's `req.setTimeout`).
 */
export function createAgent(policy?: PolicyLike, options?: AgentOptions): KeepaliveAgent {
  const { keepalive, engine } = splitOptions(options)
  const resolved = resolveOptions('createAgent', policy, keepalive)
  warnChangedInternals(resolved)
  return new HttpAgentWithPolicy(resolved, engine as http.AgentOptions)
}

/** createAgent for https: an https.Agent (TLS options such as ca, cert, servername, rejectUnauthorized pass through). */
export function createHttpsAgent(policy?: PolicyLike, options?: HttpsAgentOptions): KeepaliveHttpsAgent {
  const { keepalive, engine } = splitOptions(options)
  const resolved = resolveOptions('createHttpsAgent', policy, keepalive)
  warnChangedInternals(resolved)
  return new HttpsAgentWithPolicy(resolved, engine as https.AgentOptions)
}

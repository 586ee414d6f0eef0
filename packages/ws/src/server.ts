/**
 * `watchWebSocketServer(wss, policy?, options?)`: one `watchWebSocket` per connection of a ws `WebSocketServer`,
 * those it has now (`wss.clients`, when it tracks clients) and every new one ('connection', tapped on the upgrade
 * request's `req.socket`), with aggregate counters. Each connection has its own deadline from its own last byte:
 * no shared `setInterval`, so no connection is probed on another's tick. The watcher stops with the server
 * ('close'), or on `stop()`; either way every per-connection watcher is stopped and no listener is left.
 */
import { EventEmitter } from 'node:events'
import { definePolicy, InvalidArgumentError, type Policy, type PolicyLike } from '@keepalive/core'
import { describeValue } from '@keepalive/core/internal'
import {
  readOptions,
  type WatchGroup,
  type WatchWebSocketOptions,
  type WebSocketWatcher,
  type WsDeadEvent,
  type WsLike,
  watch,
} from './watch.js'

export interface WsServerDeadEvent extends WsDeadEvent {
  /** The connection that died (already terminated). */
  readonly ws: WsLike
}

export interface WebSocketServerWatcherEvents {
  /** A connection died of silence. */
  dead: WsServerDeadEvent
  /** A connection started being watched: `{ ws, watcher }` (for per-connection listeners). */
  watch: { readonly ws: WsLike; readonly watcher: WebSocketWatcher }
}

export interface WebSocketServerStats {
  /** Connections watched now (a connection declared dead leaves at once). */
  readonly connections: number
  /** Connections watched since start. */
  readonly watched: number
  /** Probes sent, all connections, since start (the contract's name). */
  readonly probesTotal: number
  /** Connections declared dead (and terminated) since start. */
  readonly deaths: number
}

export interface WebSocketServerWatcher {
  on<E extends keyof WebSocketServerWatcherEvents>(
    event: E,
    listener: (event: WebSocketServerWatcherEvents[E]) => void,
  ): this
  off<E extends keyof WebSocketServerWatcherEvents>(
    event: E,
    listener: (event: WebSocketServerWatcherEvents[E]) => void,
  ): this
  once<E extends keyof WebSocketServerWatcherEvents>(
    event: E,
    listener: (event: WebSocketServerWatcherEvents[E]) => void,
  ): this
  /** Stops every per-connection watcher and stops watching new connections (idempotent). Connections stay open. */
  stop(): void
  readonly state: 'running' | 'stopped'
  readonly policy: Policy
  readonly stats: WebSocketServerStats
  /** The watcher of one connection, if it is watched. */
  watcherOf(ws: object): WebSocketWatcher | undefined
}

interface WssLike {
  on(event: string, listener: (...args: never[]) => void): unknown
  removeListener(event: string, listener: (...args: never[]) => void): unknown
  readonly clients?: Iterable<unknown>
}

/** Servers with a running watcher. */
const watchedServers = new WeakSet<object>()

const SERVER_EVENTS: ReadonlySet<string> = new Set(['dead', 'watch'])

class ServerWatcher extends EventEmitter implements WebSocketServerWatcher, WatchGroup {
  readonly policy: Policy
  probes = 0
  deaths = 0
  private total = 0
  private stopped = false
  private readonly watchers = new Map<object, WebSocketWatcher>()

  constructor(
    private readonly wss: WssLike,
    policy: Policy,
    private readonly options: WatchWebSocketOptions | undefined,
  ) {
    super()
    this.policy = policy
    watchedServers.add(wss)
    wss.on('connection', this.onConnection)
    wss.on('close', this.onServerClose)
    if (wss.clients !== undefined) for (const ws of wss.clients) this.add(ws, undefined)
  }

  override on<E extends keyof WebSocketServerWatcherEvents>(
    event: E,
    listener: (e: WebSocketServerWatcherEvents[E]) => void,
  ): this {
    checkServerListener(event, listener)
    return super.on(event, listener)
  }
  override off<E extends keyof WebSocketServerWatcherEvents>(
    event: E,
    listener: (e: WebSocketServerWatcherEvents[E]) => void,
  ): this {
    checkServerListener(event, listener)
    return super.off(event, listener)
  }
  override once<E extends keyof WebSocketServerWatcherEvents>(
    event: E,
    listener: (e: WebSocketServerWatcherEvents[E]) => void,
  ): this {
    checkServerListener(event, listener)
    return super.once(event, listener)
  }

  get state(): 'running' | 'stopped' {
    return this.stopped ? 'stopped' : 'running'
  }

  get stats(): WebSocketServerStats {
    return {
      connections: this.watchers.size,
      watched: this.total,
      probesTotal: this.probes,
      deaths: this.deaths,
    }
  }

  watcherOf(ws: object): WebSocketWatcher | undefined {
    return this.watchers.get(ws)
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    watchedServers.delete(this.wss)
    this.wss.removeListener('connection', this.onConnection)
    this.wss.removeListener('close', this.onServerClose)
    for (const watcher of this.watchers.values()) watcher.stop()
    this.watchers.clear()
  }

  onDead(ws: WsLike, _watcher: WebSocketWatcher, event: WsDeadEvent): void {
    // A dead connection is no longer watched: counted out now, not when its terminated socket's 'close' comes.
    this.watchers.delete(ws)
    if (this.listenerCount('dead') > 0) this.emit('dead', { ws, ...event } satisfies WsServerDeadEvent)
  }

  onClose(ws: WsLike): void {
    this.watchers.delete(ws)
  }

  private add(ws: unknown, socket: unknown): void {
    // A connection that closed before its 'connection' handler ran, or one the caller already watches, is not an
    // error of the server's: skip it (watch() throws for both).
    let watcher: WebSocketWatcher
    try {
      watcher = watch(ws, this.policy, this.options, socket as never, this)
    } catch (error) {
      const code = (error as { code?: unknown })?.code
      if (code === 'KA_ERR_WS_CONNECTION_CLOSED') return
      throw error
    }
    this.total++
    this.watchers.set(ws as object, watcher)
    if (this.listenerCount('watch') > 0) this.emit('watch', { ws: ws as WsLike, watcher })
  }

  private readonly onConnection = (ws: unknown, request: { socket?: unknown } | undefined): void => {
    if (!this.stopped) this.add(ws, request?.socket)
  }

  private readonly onServerClose = (): void => {
    this.stop()
  }
}

function checkServerListener(event: string, listener: unknown): void {
  if (!SERVER_EVENTS.has(event)) {
    throw new InvalidArgumentError(
      `WebSocketServerWatcher events are dead and watch; got ${describeValue(event)}`,
    )
  }
  if (typeof listener !== 'function') {
    throw new InvalidArgumentError(`A ${event} listener must be a function, got ${describeValue(listener)}`)
  }
}

/**
 * Watches every connection of a ws `WebSocketServer` with one policy. With `noServer: true`, the 'connection'
 * events are the ones the application emits after `handleUpgrade` (the ws README's pattern), as ws itself expects.
 *
 * Throws `InvalidPolicyError` for a bad policy and `InvalidArgumentError` for bad options, something that is not a
 * WebSocketServer, or a server already watched.
 */
export function watchWebSocketServer(
  wss: object,
  policy?: PolicyLike,
  options?: WatchWebSocketOptions,
): WebSocketServerWatcher {
  const validPolicy = definePolicy(policy)
  const server = wss as Partial<WssLike> | null
  if (
    server === null ||
    typeof server !== 'object' ||
    typeof server.on !== 'function' ||
    typeof server.removeListener !== 'function' ||
    typeof (server as { handleUpgrade?: unknown }).handleUpgrade !== 'function'
  ) {
    throw new InvalidArgumentError(
      `watchWebSocketServer: wss must be a WebSocketServer from the ws package, got ${describeValue(wss)}`,
    )
  }
  if (watchedServers.has(server)) {
    throw new InvalidArgumentError(
      'watchWebSocketServer: this WebSocketServer is already watched (stop() the other watcher first)',
    )
  }
  readOptions(options) // checked once here, not at each connection
  return new ServerWatcher(server as WssLike, validPolicy, options)
}

/**
 * `watchWebSocket(ws, policy?, options?)`: liveness for one ws WebSocket, either side, on core's `createMonitor`.
 *
 * Life is any byte received: the watcher listens to the underlying `net.Socket`'s 'data' ahead of ws's own
 * listener (`prependListener`), so a peer still streaming a large message is alive even while its pong is
 * queued behind that message (the ws README's recipe counts only pongs and kills it). After `idle` of silence
 * the watcher sends `ws.ping()` (or the application message of `options.probe`), then again every `interval`;
 * `detectionTime = idle + interval × probes` after the last byte with nothing received, the connection is
 * terminated (`ws.terminate()`: no closing handshake to wait for on a dead peer) and `dead` carries a
 * `WsPongTimeoutError` (`KA_ERR_WS_PONG_TIMEOUT`).
 *
 * A stalled event loop is not peer silence: core's monitor confirms a death reached by a late run only after the
 * poll phase, so bytes that arrived during the stall are read first. The monitor's timers are unref'd: a watcher
 * never keeps the process alive. On the WebSocket's 'close' the watcher stops by itself and emits `close`.
 */
import { errorMonitor } from 'node:events'
import { performance } from 'node:perf_hooks'
import {
  createMonitor,
  definePolicy,
  InvalidArgumentError,
  type KeepaliveError,
  type Monitor,
  type Policy,
  type PolicyLike,
  WATCHER_EVENTS,
  type Watcher,
  type WatcherDeadEvent,
  type WatcherEvents,
  type WatcherState,
} from '@keepalive/core'
import { describeValue, WatcherEmitter } from '@keepalive/core/internal'
import { wsChannels } from './diagnostics.js'
import { WsConnectionClosedError, WsPongTimeoutError, WsUnsupportedError } from './errors.js'
import { checkWsVersion } from './ws-version.js'

/** An application-level probe, for paths that drop control frames or peers whose pongs prove too little. */
export interface WsMessageProbe {
  /**
   * Sends the probe message (e.g. `ws.send('{"type":"ping"}')`), which the peer's application answers. A throw is
   * reported as `probeError`. There is no `isAnswer`: any byte received is life whatever it says, and `lastRttMs`
   * runs to the first byte after the probe (the watcher contract), so recognising the answer would change nothing.
   */
  send: (ws: WsLike) => void
}

export interface WatchWebSocketOptions {
  /** 'ping' (default): `ws.ping()`, answered by any RFC 6455 peer (browsers too) with a pong. Or an application message. */
  probe?: 'ping' | WsMessageProbe
  /** A label for diagnostics (the monitor's name). */
  name?: string
}

/** The contract's dead event; `reason` is a `WsPongTimeoutError` (`KA_ERR_WS_PONG_TIMEOUT`), `cause` the monitor's `ProbeTimeoutError`. */
export type WsDeadEvent = WatcherDeadEvent

export interface WsCloseEvent {
  /** The `dead` reason, or a `WsConnectionClosedError` with the close code and reason (`cause`: ws's error, if any). */
  readonly reason: KeepaliveError
  /** The WebSocket close code (1006 when the connection was terminated or dropped). */
  readonly code: number
}

/** The contract's four events, and `close` (once, when the WebSocket closed, whatever the reason). */
export interface WebSocketWatcherEvents extends WatcherEvents {
  close: WsCloseEvent
}

/**
 * The contract's states. A WebSocket watcher is `connecting` while a client WebSocket is still connecting,
 * `idle`/`probing` while open, `dead` after it terminated a silent peer, `disconnected` when the WebSocket closed
 * for any other reason, and `stopped` after `stop()`. It never reports `stalled`.
 */
export type WebSocketWatcherState = WatcherState

/** core's watcher contract (`Watcher`), plus what a WebSocket adds. */
export interface WebSocketWatcher extends Watcher<WebSocketWatcherEvents> {
  /** 'server' for a connection a WebSocketServer accepted, 'client' for one this process opened. */
  readonly side: 'client' | 'server'
  /** 'ping' or 'message' (an application-message probe). */
  readonly probe: 'ping' | 'message'
}

/** The part of a ws `WebSocket` the watcher uses. */
export interface WsLike {
  readonly readyState: number
  ping(data?: unknown, mask?: boolean, cb?: (err?: Error) => void): void
  send(data: unknown, cb?: (err?: Error) => void): void
  terminate(): void
  on(event: string | symbol, listener: (...args: never[]) => void): unknown
  once(event: string | symbol, listener: (...args: never[]) => void): unknown
  removeListener(event: string | symbol, listener: (...args: never[]) => void): unknown
}

/** The net.Socket under a ws WebSocket. */
interface RawSocket {
  readonly destroyed?: boolean
  prependListener(event: 'data', listener: () => void): unknown
  removeListener(event: 'data', listener: () => void): unknown
}

const CONNECTING = 0
const OPEN = 1

const EVENT_NAMES: readonly string[] = [...WATCHER_EVENTS, 'close']

/** WebSockets with a running watcher: a second one would double every probe. */
const watched = new WeakSet<object>()

/** What a server-side aggregate (./server.ts) counts; one object per WebSocketServer watcher. */
export interface WatchGroup {
  probes: number
  deaths: number
  onDead(ws: WsLike, watcher: WebSocketWatcher, event: WsDeadEvent): void
  onClose(ws: WsLike, watcher: WebSocketWatcher): void
}

class WsWatcher extends WatcherEmitter implements WebSocketWatcher {
  readonly side: 'client' | 'server'
  readonly policy: Policy
  readonly probe: 'ping' | 'message'
  probesTotal = 0
  lastRttMs: number | undefined
  deaths = 0
  private monitor: Monitor | undefined
  private socket: RawSocket | undefined
  /** stop() was called, or the WebSocket closed: no listener, no timer left. */
  private ended = false
  private closed = false
  /** stop() was called: 'stopped' is final, also after 'dead' or 'disconnected'. */
  private stopCalled = false
  private deadReason: KeepaliveError | undefined
  /** Monitor events already passed on (bits: probe 1, alive 2, probeError 4). */
  private forwarded = 0
  private lastError: unknown
  /** performance.now() when the last unanswered probe went out, for lastRttMs. */
  private probeSentAt: number | undefined

  constructor(
    private readonly ws: WsLike,
    side: 'client' | 'server',
    policy: Policy,
    private readonly messageProbe: WsMessageProbe | undefined,
    private readonly name: string | undefined,
    socket: RawSocket | undefined,
    private readonly group: WatchGroup | undefined,
  ) {
    super('WebSocketWatcher', EVENT_NAMES)
    this.side = side
    this.policy = policy
    this.probe = messageProbe === undefined ? 'ping' : 'message'
    watched.add(ws)
    ws.on(errorMonitor, this.onError)
    ws.once('close', this.onClose)
    if (ws.readyState === OPEN && socket !== undefined) this.start(socket)
    else {
      ws.once('upgrade', this.onUpgrade)
      ws.once('open', this.onOpen)
    }
  }

  /** The contract's hook, called for every listener added by any way in: start passing that monitor event on. */
  protected override listenerAdded(event: string): void {
    this.forward(event)
  }

  get state(): WebSocketWatcherState {
    if (this.stopCalled) return 'stopped'
    if (this.deadReason !== undefined) return 'dead'
    if (this.closed) return 'disconnected'
    const monitor = this.monitor
    if (monitor === undefined) return 'connecting'
    return monitor.state === 'probing' ? 'probing' : 'idle'
  }

  get probesSent(): number {
    return this.monitor?.probesSent ?? 0
  }

  /** The contract: undefined unless a connection is being timed (idle or probing). */
  get lastSeen(): number | undefined {
    const monitor = this.monitor
    if (monitor === undefined || this.ended || this.deadReason !== undefined) return undefined
    return monitor.lastSeen
  }

  stop(): void {
    this.stopCalled = true
    if (this.ended) return
    this.ended = true
    this.unhook()
    this.monitor?.stop()
  }

  /** The client's upgrade response carries the socket ws is about to read from (the issue's tap point). */
  private readonly onUpgrade = (response: { socket?: RawSocket }): void => {
    if (response?.socket !== undefined) this.socket = response.socket
  }

  private readonly onOpen = (): void => {
    if (this.ended) return
    const socket = this.socket ?? (this.ws as { _socket?: RawSocket })._socket
    if (socket === undefined) return // unreachable with ws 8: setSocket runs before 'open'
    this.start(socket)
  }

  private start(socket: RawSocket): void {
    this.socket = socket
    const monitor = createMonitor({ policy: this.policy, probe: this.sendProbe, name: this.name })
    this.monitor = monitor
    socket.prependListener('data', this.onData)
    for (const event of ['probe', 'probeError'] as const)
      if (this.listenerCount(event) > 0) this.forward(event)
    if (this.listenerCount('alive') > 0 || wsChannels.alive.hasSubscribers) this.forward('alive')
    monitor.on('dead', (e) => {
      const peer = this.side === 'client' ? 'server' : 'client'
      const what = this.probe === 'ping' ? 'ping' : 'probe message'
      const reason = new WsPongTimeoutError(
        `WebSocket ${peer} silent for ${Math.round(e.silenceMs)} ms: ${e.probesSent} ${what}${e.probesSent === 1 ? '' : 's'} unanswered (policy detection time ${detection(this.policy)} ms)`,
        { cause: e.reason },
      )
      this.die({
        reason,
        silenceMs: e.silenceMs,
        probesSent: e.probesSent,
        detectionMs: detection(this.policy),
      })
      this.ws.terminate()
    })
  }

  /**
   * Passes a monitor event on, from the first listener (or, for `alive`, a diagnostics subscriber at start) on:
   * an idle watcher with no listeners holds no forwarding closures, which keeps ten thousand of them small.
   */
  private forward(event: string): void {
    const monitor = this.monitor
    if (monitor === undefined || event === 'dead' || event === 'close') return
    const bit = event === 'probe' ? 1 : event === 'alive' ? 2 : 4
    if ((this.forwarded & bit) !== 0) return
    this.forwarded |= bit
    if (event === 'probe') monitor.on('probe', (e) => this.emit('probe', e))
    else if (event === 'probeError') monitor.on('probeError', (e) => this.emit('probeError', e))
    else {
      monitor.on('alive', (e) => {
        if (wsChannels.alive.hasSubscribers) {
          wsChannels.alive.publish({ ws: this.ws, watcher: this, rttMs: e.rttMs })
        }
        this.emit('alive', e)
      })
    }
  }

  /** Any byte received is life, before ws parses it; the first after a probe also ends its round trip. */
  private readonly onData = (): void => {
    this.monitor?.touch()
    const sentAt = this.probeSentAt
    if (sentAt !== undefined) {
      this.probeSentAt = undefined
      this.lastRttMs = performance.now() - sentAt
    }
  }

  /**
   * Sends one probe. Its answer needs no promise: it arrives as bytes, which touch the monitor, and a promise would
   * report the same answer twice.
   */
  private readonly sendProbe = ({ attempt }: { attempt: number }): void => {
    const ws = this.ws
    if (ws.readyState !== OPEN) {
      throw new WsConnectionClosedError(
        `probe ${attempt}: the WebSocket is no longer open (readyState ${ws.readyState})`,
      )
    }
    if (wsChannels.probe.hasSubscribers) {
      wsChannels.probe.publish({ ws, watcher: this, attempt, silenceMs: this.monitor?.silence ?? 0 })
    }
    this.probesTotal++
    if (this.group !== undefined) this.group.probes++
    this.probeSentAt = performance.now()
    const message = this.messageProbe
    if (message === undefined) ws.ping()
    else message.send(ws)
  }

  private readonly onError = (error: unknown): void => {
    this.lastError = error
  }

  private die(event: WsDeadEvent): void {
    this.deadReason = event.reason
    this.deaths = 1
    this.monitor?.stop()
    if (wsChannels.dead.hasSubscribers) {
      wsChannels.dead.publish({ ws: this.ws, watcher: this, ...event })
    }
    if (this.group !== undefined) {
      this.group.deaths++
      this.group.onDead(this.ws, this, event)
    }
    this.emit('dead', event)
  }

  private readonly onClose = (code: number, why: unknown): void => {
    if (this.ended) return
    this.ended = true
    this.closed = true
    this.unhook()
    this.monitor?.stop()
    const text = Buffer.isBuffer(why) && why.length > 0 ? ` ${JSON.stringify(why.toString('utf8'))}` : ''
    const error = this.lastError
    const reason =
      this.deadReason ??
      new WsConnectionClosedError(
        `The WebSocket closed with code ${code}${text}${error instanceof Error ? `: ${error.message}` : ''}`,
        error === undefined ? undefined : { cause: error },
      )
    if (wsChannels.close.hasSubscribers) {
      wsChannels.close.publish({ ws: this.ws, watcher: this, reason })
    }
    this.group?.onClose(this.ws, this)
    this.emit('close', { reason, code } satisfies WsCloseEvent)
  }

  private unhook(): void {
    watched.delete(this.ws)
    this.socket?.removeListener('data', this.onData)
    const ws = this.ws
    ws.removeListener(errorMonitor, this.onError)
    ws.removeListener('close', this.onClose)
    ws.removeListener('upgrade', this.onUpgrade)
    ws.removeListener('open', this.onOpen)
  }
}

function detection(policy: Policy): number {
  return policy.idle + policy.interval * policy.probes
}

export function readOptions(options: unknown): {
  probe: WsMessageProbe | undefined
  name: string | undefined
} {
  if (options === undefined) return { probe: undefined, name: undefined }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(
      `watchWebSocket: options must be an object { probe?, name? }, got ${describeValue(options)}`,
    )
  }
  const o = options as Record<string, unknown>
  for (const key of Object.keys(o)) {
    if (key !== 'probe' && key !== 'name') {
      throw new InvalidArgumentError(
        `watchWebSocket: options.${key} is not an option (allowed: probe, name), got ${describeValue(o[key])}`,
      )
    }
  }
  const name = o.name
  if (name !== undefined && typeof name !== 'string') {
    throw new InvalidArgumentError(
      `watchWebSocket: options.name must be a string, got ${describeValue(name)}`,
    )
  }
  const probe = o.probe
  if (probe === undefined || probe === 'ping') return { probe: undefined, name }
  if (probe === null || typeof probe !== 'object' || typeof (probe as WsMessageProbe).send !== 'function') {
    throw new InvalidArgumentError(
      `watchWebSocket: options.probe must be 'ping' or { send(ws) }, got ${describeValue(probe)}`,
    )
  }
  for (const key of Object.keys(probe)) {
    if (key !== 'send') {
      throw new InvalidArgumentError(
        `watchWebSocket: options.probe.${key} is not an option (allowed: send), got ${describeValue((probe as Record<string, unknown>)[key])}`,
      )
    }
  }
  return { probe: { send: (probe as WsMessageProbe).send }, name }
}

function isWsLike(value: unknown): value is WsLike {
  if (value === null || typeof value !== 'object') return false
  const ws = value as Partial<Record<keyof WsLike, unknown>>
  return (
    typeof ws.readyState === 'number' &&
    typeof ws.ping === 'function' &&
    typeof ws.terminate === 'function' &&
    typeof ws.on === 'function' &&
    typeof ws.once === 'function' &&
    typeof ws.removeListener === 'function'
  )
}

/** The shared start of watchWebSocket and the server watcher (which passes the upgrade request's socket and its group). */
export function watch(
  ws: unknown,
  policy: PolicyLike | undefined,
  options: unknown,
  socket: RawSocket | undefined,
  group: WatchGroup | undefined,
): WebSocketWatcher {
  const validPolicy = definePolicy(policy)
  const { probe, name } = readOptions(options)
  if (!isWsLike(ws)) {
    throw new InvalidArgumentError(
      `watchWebSocket: ws must be a WebSocket from the ws package (readyState, ping, terminate, on, once, removeListener), got ${describeValue(ws)}`,
    )
  }
  checkWsVersion()
  if (ws.readyState !== CONNECTING && ws.readyState !== OPEN) {
    throw new WsConnectionClosedError(
      `watchWebSocket: the WebSocket is ${ws.readyState === 2 ? 'closing' : 'closed'} (readyState ${ws.readyState})`,
    )
  }
  if (watched.has(ws)) {
    throw new InvalidArgumentError(
      'watchWebSocket: this WebSocket is already watched (stop() the other watcher first): two would double every probe',
    )
  }
  const raw = socket ?? (ws as { _socket?: RawSocket })._socket
  if (
    ws.readyState === OPEN &&
    (raw === undefined || raw === null || typeof raw.prependListener !== 'function')
  ) {
    throw new WsUnsupportedError(
      'watchWebSocket: this WebSocket has no underlying net.Socket to read from (only ws 8 WebSockets in Node can be watched; a browser or undici WebSocket cannot)',
    )
  }
  if (raw?.destroyed === true) {
    throw new WsConnectionClosedError('watchWebSocket: the WebSocket’s socket is already destroyed')
  }
  // ws marks the connections its server accepted: `_isServer` (a client masks its frames, a server does not).
  const side = (ws as { _isServer?: unknown })._isServer === true ? 'server' : 'client'
  const watcher = new WsWatcher(ws, side, validPolicy, probe, name, raw ?? undefined, group)
  if (wsChannels.watch.hasSubscribers) {
    wsChannels.watch.publish({ ws, watcher, side, policy: validPolicy, probe: watcher.probe })
  }
  return watcher
}

/**
 * Watches one ws `WebSocket`, a client's or a server's connection, open or still connecting. On death the
 * connection is terminated and `dead` carries a `WsPongTimeoutError`; on 'close' the watcher stops itself.
 *
 * Throws `InvalidPolicyError` for a bad policy, `InvalidArgumentError` for bad options or something that is not a
 * ws WebSocket (or one already watched), `WsConnectionClosedError` for a closing or closed one, and
 * `WsUnsupportedError` when there is no net.Socket to tap or the installed ws is not major 8.
 */
export function watchWebSocket(
  ws: WsLike | object,
  policy?: PolicyLike,
  options?: WatchWebSocketOptions,
): WebSocketWatcher {
  return watch(ws, policy, options, undefined, undefined)
}

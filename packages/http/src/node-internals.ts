/**
 * Every use of node:http's undocumented state, in one place, each checked. node:http has no public call to send a
 * ClientRequest again, to learn which request is writing on a socket, or to take a socket out of an agent's pool;
 * createAgent needs all three. What it relies on (present from Node 20 to 26), and what turns off if one changes:
 *
 * | assumption | checked | feature that depends on it |
 * |---|---|---|
 * | ClientRequest's constructor hands itself to `agent.addRequest(req, options)` (`Agent.prototype.addRequest`) | load (the method); the first write on a pooled socket (that it was called) | retry; pruning before a request |
 * | a new ClientRequest has `res === null` (set to the response at its head), `destroyed === false`, `_closed === false` and `timeoutCb === null` (its timeout listener, once set) | the first request | retry |
 * | `Agent.prototype.createSocket(req, options, cb)` and `ClientRequest.prototype.onSocket(socket)` | load | retry |
 * | an Agent listens to its own `'free'` event `(socket, options)`, emitted by the request when its socket is free | load | request counts: retry, maxRequestsPerSocket, maxSocketAge |
 * | `agent.freeSockets[name]` lists and the `totalSocketCount` counter the agent keeps with them; `scheduling` | load | pruning before a request |
 * | `socket._httpMessage` is the ClientRequest writing on the socket | first write on a pooled socket | retry, round-trip timing, idle facts |
 *
 * Behaviour this module also relies on, which no check at load can see, pinned by test/node-internals.test.ts on
 * every Node of the matrix: a request writes its bytes through its socket's `write` property and emits its events
 * through its own `emit` property (so replacing them sees every byte and event); lifo takes the last socket of a free
 * list and fifo the first; after `destroyed`/`_closed` are reset, `onSocket` sends the request again.
 *
 * No request is made at load: on Node 22+ a ClientRequest announces itself on `http.client.request.created`, and an
 * APM subscribed to it would see a request that never was. What only a request can show is checked on the first one.
 *
 * A failed check turns the feature off for the process, with one process warning naming what changed
 * (code KEEPALIVE_HTTP_NODE_CHANGED); requests keep working without it.
 */
import http from 'node:http'
import type { Socket } from 'node:net'

/** The private members this module uses. */
interface AgentInternals {
  createSocket(
    req: http.ClientRequest,
    options: object,
    cb: (error: Error | null, socket?: Socket) => void,
  ): void
  addRequest(req: http.ClientRequest, options: object): void
  totalSocketCount: number
  scheduling: string
}
interface RequestInternals {
  destroyed: boolean
  _closed: boolean
  res: unknown
  timeout?: number
  timeoutCb?: () => void
  onSocket(socket: Socket, error?: Error): void
}

export type NodeFeature = 'retry' | 'prune' | 'counts'

/** Why each feature is off on this Node (undefined: on). Set at load; `_httpMessage` may turn retry off later. */
const off: Record<NodeFeature, string | undefined> = { retry: undefined, prune: undefined, counts: undefined }
const warned = new Set<NodeFeature>()
const WHAT: Record<NodeFeature, string> = {
  retry: 'requests failing on a reused socket are not sent again',
  prune:
    'idle sockets past their deadline are closed by their timer only, not also when a request is about to take one',
  counts:
    'requests per socket are not counted: no retry, and maxRequestsPerSocket and maxSocketAge are not applied',
}

/** The checks that can run at load: undefined when node:http is as expected, otherwise what changed. */
export function checkAtLoad(): Record<NodeFeature, string | undefined> {
  const found: Record<NodeFeature, string | undefined> = {
    retry: undefined,
    prune: undefined,
    counts: undefined,
  }
  const agentProto = http.Agent.prototype as unknown as Partial<AgentInternals>
  const requestProto = http.ClientRequest.prototype as unknown as Partial<RequestInternals>
  if (typeof agentProto.createSocket !== 'function')
    found.retry = 'http.Agent.prototype.createSocket is missing'
  else if (typeof requestProto.onSocket !== 'function')
    found.retry = 'http.ClientRequest.prototype.onSocket is missing'

  const agent = new http.Agent({ keepAlive: true, scheduling: 'fifo' })
  const a = agent as unknown as Partial<AgentInternals> & { freeSockets?: unknown }
  if (typeof agentProto.addRequest !== 'function') {
    found.retry ??= 'http.Agent.prototype.addRequest is missing'
    found.prune = 'http.Agent.prototype.addRequest is missing'
  }
  if (agent.listenerCount('free') !== 1) {
    found.counts = `a new http.Agent has ${agent.listenerCount('free')} 'free' listeners, not 1`
  }
  if (typeof a.totalSocketCount !== 'number') found.prune ??= 'http.Agent has no totalSocketCount counter'
  else if (a.freeSockets === null || typeof a.freeSockets !== 'object') {
    found.prune ??= 'http.Agent has no freeSockets object'
  } else if (a.scheduling !== 'fifo')
    found.prune ??= "http.Agent's scheduling no longer holds options.scheduling"
  agent.destroy()
  return found
}

Object.assign(off, checkAtLoad())

/** What a real ClientRequest shows that node-internals relies on: undefined when as expected, else what changed. */
export function checkRequest(request: http.ClientRequest): string | undefined {
  const req = request as unknown as Partial<RequestInternals>
  if (req.res !== null) return `a new ClientRequest's res is ${String(req.res)}, not null`
  if (req.destroyed !== false) return "a new ClientRequest's destroyed is not false"
  if (req._closed !== false) return "a new ClientRequest's _closed is not false"
  if (req.timeoutCb !== null && typeof req.timeoutCb !== 'function')
    return 'ClientRequest has no timeoutCb field'
  return undefined
}

let requestChecked = false

/** The first request an agent of ours sees (from addRequest): checkRequest, once; retry off if it fails. */
export function checkFirstRequest(request: http.ClientRequest): void {
  if (requestChecked) return
  requestChecked = true
  const reason = checkRequest(request)
  if (reason !== undefined) turnOff('retry', reason)
}

/** A request wrote on a pooled socket without having passed the agent's addRequest: node:http stopped calling it. */
export function requestNotAdded(): void {
  const reason = 'a ClientRequest wrote on a pooled socket without passing agent.addRequest'
  turnOff('retry', reason)
  if (off.prune === undefined) {
    off.prune = reason
    warnNodeFeatures(['prune'])
  }
}

/** Why `feature` is off on this Node, or undefined when it is on. */
export function nodeFeatureOff(feature: NodeFeature): string | undefined {
  return off[feature]
}

/** One process warning per feature that is off (called when an agent that would use it is created). */
export function warnNodeFeatures(features: readonly NodeFeature[]): void {
  for (const feature of features) {
    const reason = off[feature]
    if (reason === undefined || warned.has(feature)) continue
    warned.add(feature)
    process.emitWarning(
      `@keepalive/http: node:http changed on Node ${process.versions.node} (${reason}): ${WHAT[feature]}`,
      { code: 'KEEPALIVE_HTTP_NODE_CHANGED' },
    )
  }
}

/** Turns a feature off at first use (a check only a real request can make), with its warning. */
function turnOff(feature: NodeFeature, reason: string): void {
  if (off[feature] !== undefined) return
  off[feature] = reason
  warnNodeFeatures([feature])
}

let httpMessageChecked = false

/**
 * The ClientRequest writing on a pooled socket (node:http's `socket._httpMessage`, set by onSocket/tickOnSocket).
 * The first call in the process comes from a request's first write, so it must find one: if not, retry is off.
 */
export function requestOnSocket(socket: Socket): http.ClientRequest | undefined {
  const req = (socket as unknown as { _httpMessage?: unknown })._httpMessage
  if (req instanceof http.ClientRequest) {
    httpMessageChecked = true
    return req
  }
  if (!httpMessageChecked) {
    httpMessageChecked = true
    turnOff(
      'retry',
      `socket._httpMessage is ${req === null ? 'null' : typeof req} during a request's first write`,
    )
  }
  return undefined
}
/** The response object once its head was parsed (node:http's `req.res`), else null. */
export function responseOf(req: http.ClientRequest): unknown {
  return (req as unknown as RequestInternals).res
}

/** The base class's addRequest (the agent sees each request there before the base picks a socket for it). */
export function baseAddRequest(base: typeof http.Agent): (req: http.ClientRequest, options: object) => void {
  const add = (base.prototype as unknown as Partial<AgentInternals>).addRequest
  return typeof add === 'function' ? add : () => {}
}

/** True when the agent takes the last socket of a free list (lifo, its default), false when the first (fifo). */
export function takesNewestFree(agent: http.Agent): boolean {
  return (agent as unknown as AgentInternals).scheduling !== 'fifo'
}

/**
 * Takes a free socket out of the agent's pool (its `freeSockets[name]` list and its `totalSocketCount`), as the
 * agent's own 'close' handler would: so no request is handed the socket between our destroy and its 'close'.
 * False when it was not in the list (or pruning is off: then the agent's own handlers remove it on close).
 */
export function removeFreeSocket(agent: http.Agent, name: string | undefined, socket: Socket): boolean {
  if (off.prune !== undefined || name === undefined) return false
  const lists = agent.freeSockets as Record<string, Socket[] | undefined>
  const list = lists[name]
  const index = list ? list.indexOf(socket) : -1
  if (!list || index < 0) return false
  list.splice(index, 1)
  if (list.length === 0) delete lists[name]
  ;(agent as unknown as AgentInternals).totalSocketCount -= 1
  return true
}

/**
 * Replaces a socket's `write` with one that calls `before` first; returns the original (for writes of our own).
 * node:http writes a request's head and body through the socket's `write` property (pinned by test).
 */
export function watchSocketWrites(
  socket: Socket,
  before: (socket: Socket, chunk: unknown, encoding: BufferEncoding | undefined) => void,
): Socket['write'] {
  const write = socket.write
  socket.write = function watchedWrite(this: Socket, chunk: unknown, encoding?: unknown) {
    before(this, chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined)
    // biome-ignore lint/complexity/noArguments: forwards every argument without allocating.
    return (write as (...a: unknown[]) => boolean).apply(this, arguments as unknown as unknown[])
  } as Socket['write']
  return write
}

/**
 * Replaces a request's `emit` and `destroy` (one shared function each, for all requests); returns the originals.
 * node:http emits a request's 'response', 'error', 'close' and 'prefinish' through its `emit` property, and its
 * abort paths (AbortSignal, `req.abort()`) go through `destroy` (pinned by test).
 */
export function replaceRequestMethods(
  req: http.ClientRequest,
  emit: http.ClientRequest['emit'],
  destroy: http.ClientRequest['destroy'],
): { emit: http.ClientRequest['emit']; destroy: http.ClientRequest['destroy'] } {
  const original = { emit: req.emit, destroy: req.destroy }
  req.emit = emit
  req.destroy = destroy
  return original
}

/**
 * Opens a fresh socket through the agent and sends `request` on it again: the recorded bytes (head and body, as they
 * went out the first time) are written first, then the request is attached so its parser reads the new response.
 * Called after the old socket's 'close' has been handled (its parser freed), with the request's error and close
 * events held back by the caller. `done` gets the new socket, or the error of opening it.
 */
export function resendOnNewSocket(
  agent: http.Agent,
  request: http.ClientRequest,
  connectOptions: object,
  replay: ReadonlyArray<readonly [chunk: string | Uint8Array, encoding: BufferEncoding | undefined]>,
  write: (socket: Socket, chunk: string | Uint8Array, encoding: BufferEncoding | undefined) => void,
  done: (error: Error | null, socket?: Socket) => void,
): void {
  const req = request as unknown as RequestInternals
  // socketCloseListener marked the request destroyed and closed; it is alive again on the new socket.
  req.destroyed = false
  req._closed = false
  ;(agent as unknown as AgentInternals).createSocket(request, connectOptions, (error, socket) => {
    if (error || !socket) {
      done(error ?? new Error('createSocket gave no socket'))
      return
    }
    for (const [chunk, encoding] of replay) write(socket, chunk, encoding)
    // tickOnSocket skips the timeout forwarding when the request already has its callback: forward it here.
    if (req.timeout !== undefined) socket.setTimeout(req.timeout)
    if (req.timeoutCb) socket.once('timeout', req.timeoutCb)
    req.onSocket(socket)
    done(null, socket)
  })
}

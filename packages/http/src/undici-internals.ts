/**
 * Every assumption createDispatcher makes about undici beyond its documented API, in one place, each checked. undici
 * is a peer dependency loaded when the first dispatcher is made (and a caller may pass its own copy), so the checks run
 * once per undici module at its first createDispatcher, or at first use where only a real request can tell:
 *
 * | assumption (undici 7 and 8, lib/dispatcher/client-h1.js, lib/core/errors.js) | checked | feature that depends on it |
 * |---|---|---|
 * | `errors.InformationalError` has code `UND_ERR_INFO`, and a socket destroyed with one between requests fails nothing (undici's own idle close does that) | first createDispatcher | per-socket maxSocketAge / maxRequestsPerSocket (off: undici's Pool `clientTtl` and Client `maxRequestsPerClient` do it instead) |
 * | `errors.SocketError` keeps its second argument as `socket`, which undici fills with the socket's addresses (`localPort`): how SocketError('closed'), raised without an 'error' event, is traced to its socket | first createDispatcher | retry |
 * | a Client calls the handler's `onRequestStart` (undici 7's API: `onConnect`) and writes the request head through the socket's `write` in the same synchronous step (`linkNextWrite`) | the first response to a request that waited for its link | retry |
 * | undici closes an idle socket with `InformationalError('socket idle timeout')` | the first informational close of an HTTP/1.1 socket between requests | `expiredIdle` counting undici's idle closes |
 *
 * Also relied on, pinned by test/undici-internals.test.ts on undici 7 (Node 20) and 8 (Node 22, 24, 26): the error a
 * socket is destroyed with reaches the failed request's handler as the same object.
 *
 * A failed check turns the feature off for that undici module, with one process warning naming what changed (code
 * KEEPALIVE_HTTP_UNDICI_CHANGED); requests keep working without it.
 */
import type { Socket } from 'node:net'

export type UndiciFeature = 'retry' | 'limits' | 'idleCount'

/** What this module found about one undici module: why each feature is off (undefined: on). */
export interface UndiciSupport {
  readonly off: Record<UndiciFeature, string | undefined>
  /** The first-use checks already made (each once per module). */
  linkChecked: boolean
  idleMessageChecked: boolean
}

/** The message undici closes its idle sockets with. */
export const IDLE_CLOSE_MESSAGE = 'socket idle timeout'
/**
 * The other messages undici closes a socket between requests with (`reset`: the server said `Connection: close`;
 * the rest when a Client no longer needs its socket): not an idle close, and no sign of a change either.
 */
const OTHER_BETWEEN_REQUESTS = new Set([
  'reset',
  'servername changed',
  'no request waits for this connection',
])

const WHAT: Record<UndiciFeature, string> = {
  retry: 'requests failing on a reused socket are not sent again',
  limits:
    "maxSocketAge and maxRequestsPerSocket are applied by undici's Pool clientTtl and Client maxRequestsPerClient",
  idleCount: "undici's idle closes are not counted in expiredIdle",
}

interface UndiciErrors {
  InformationalError?: new (message: string) => Error & { code?: unknown }
  SocketError?: new (message: string, socket?: unknown) => Error & { code?: unknown; socket?: unknown }
}

const supports = new WeakMap<object, UndiciSupport>()

/** The checks for one undici module, made at its first createDispatcher; warnings for what is off. */
export function undiciSupport(u: object): UndiciSupport {
  let support = supports.get(u)
  if (support) return support
  support = { off: checkModule(u), linkChecked: false, idleMessageChecked: false }
  supports.set(u, support)
  for (const feature of Object.keys(support.off) as UndiciFeature[]) warn(support, feature)
  return support
}

/** The checks that need only the module: undefined per feature when undici is as expected, else what changed. */
export function checkModule(u: object): Record<UndiciFeature, string | undefined> {
  const off: Record<UndiciFeature, string | undefined> = {
    retry: undefined,
    limits: undefined,
    idleCount: undefined,
  }
  const errors = (u as { errors?: UndiciErrors }).errors
  const Info = errors?.InformationalError
  if (typeof Info !== 'function') off.limits = 'undici.errors.InformationalError is missing'
  else {
    const code = new Info('x').code
    if (code !== 'UND_ERR_INFO') off.limits = `InformationalError's code is ${String(code)}, not UND_ERR_INFO`
  }
  const SocketError = errors?.SocketError
  if (typeof SocketError !== 'function') off.retry = 'undici.errors.SocketError is missing'
  else {
    const info = { localPort: 1 }
    const error = new SocketError('closed', info)
    if (error.code !== 'UND_ERR_SOCKET')
      off.retry = `SocketError's code is ${String(error.code)}, not UND_ERR_SOCKET`
    else if (error.socket !== info)
      off.retry = 'SocketError no longer keeps the socket it is given as error.socket'
  }
  return off
}

function warn(support: UndiciSupport, feature: UndiciFeature): void {
  const reason = support.off[feature]
  if (reason === undefined) return
  process.emitWarning(`@keepalive/http: undici changed (${reason}): ${WHAT[feature]}`, {
    code: 'KEEPALIVE_HTTP_UNDICI_CHANGED',
  })
}

function turnOff(support: UndiciSupport, feature: UndiciFeature, reason: string): void {
  if (support.off[feature] !== undefined) return
  support.off[feature] = reason
  warn(support, feature)
}

/** An informational error with `message`: undici closes the socket as it closes its own idle ones, failing nothing. */
export function informationalError(u: object, message: string): Error {
  const Info = (u as { errors?: UndiciErrors }).errors?.InformationalError
  return Info ? new Info(message) : Object.assign(new Error(message), { code: 'UND_ERR_INFO' })
}

/** True for undici's informational errors (a close that fails no request). */
export function isInformational(error: { code?: unknown }): boolean {
  return error.code === 'UND_ERR_INFO'
}

/**
 * An informational close of a socket. Returns true when it is undici's idle close. The first such close of an
 * HTTP/1.1 socket between requests whose message undici is not known to use means the idle message changed.
 */
export function isIdleClose(
  support: UndiciSupport,
  socket: Socket,
  message: string,
  betweenRequests: boolean,
  ours: (message: string) => boolean,
): boolean {
  if (message === IDLE_CLOSE_MESSAGE) {
    support.idleMessageChecked = true
    return support.off.idleCount === undefined
  }
  if (
    !support.idleMessageChecked &&
    betweenRequests &&
    !ours(message) &&
    !OTHER_BETWEEN_REQUESTS.has(message) &&
    (socket as Socket & { alpnProtocol?: unknown }).alpnProtocol !== 'h2'
  ) {
    support.idleMessageChecked = true
    turnOff(support, 'idleCount', `an idle socket was closed with '${message}', not '${IDLE_CLOSE_MESSAGE}'`)
  }
  return false
}

/** The local port of the socket a SocketError was raised for (undici puts the socket's addresses in `error.socket`). */
export function socketErrorPort(error: object): number | undefined {
  const port = (error as { socket?: { localPort?: unknown } }).socket?.localPort
  return typeof port === 'number' ? port : undefined
}

/**
 * The request whose head is about to be written. undici calls a handler's onRequestStart (onConnect in undici 7's
 * old API) and then writes the request head on the socket in the same synchronous step, so the socket write that
 * follows tells which socket the request went on. Set only for requests whose head goes out in that step (a body
 * that is none, a string or bytes; a stream's head waits for its first chunk), taken by the next write.
 */
let pendingLink: object | undefined

/** From onRequestStart/onConnect: the next socket write is this request's head. */
export function linkNextWrite(request: object): void {
  pendingLink = request
}

/** From a socket's write: the request whose head this write is, if one is waiting. */
export function takeLink(): object | undefined {
  const link = pendingLink
  pendingLink = undefined
  return link
}

/**
 * At the response head of a request that waited for its link: it must have been linked by then (its head went out
 * before its response came). The first time it was not, undici no longer writes in that step: retry off.
 */
export function checkLinked(support: UndiciSupport, linked: boolean): void {
  if (support.linkChecked) return
  support.linkChecked = true
  if (!linked) {
    turnOff(
      support,
      'retry',
      "a request's head was not written through socket.write in the same step as its onRequestStart/onConnect",
    )
  }
}

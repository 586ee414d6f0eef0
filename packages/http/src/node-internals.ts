/**
 * The one place that touches node:http's private state: sending a ClientRequest again on a new socket after its
 * reused socket died before any response byte. node:http has no public call for this (`req.reusedSocket` only tells
 * the caller to build a new request itself). What it relies on, present from Node 20 to 26:
 * `Agent.prototype.createSocket(req, options, cb)` (opens a socket and registers it with the agent), and
 * `ClientRequest.prototype.onSocket(socket)` (attaches a socket: parser, listeners, then flushes), plus the
 * `destroyed` / `_closed` flags that socketCloseListener set on the request. `retrySupport()` checks them at load;
 * test/retry.test.ts fails loudly on every Node of the matrix if a release changes them.
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
}
interface RequestInternals {
  destroyed: boolean
  _closed: boolean
  timeout?: number
  timeoutCb?: () => void
  onSocket(socket: Socket, error?: Error): void
}

/** Undefined when this Node has what a replay needs; otherwise why not (retries are then off, with a warning). */
export function retrySupport(): string | undefined {
  const agent = http.Agent.prototype as unknown as Partial<AgentInternals>
  const request = http.ClientRequest.prototype as unknown as Partial<RequestInternals>
  if (typeof agent.createSocket !== 'function') return 'http.Agent.prototype.createSocket is missing'
  if (typeof request.onSocket !== 'function') return 'http.ClientRequest.prototype.onSocket is missing'
  return undefined
}

/** The socket a ClientRequest is writing on (node:http's `socket._httpMessage` link, set by onSocket/tickOnSocket). */
export function requestOnSocket(socket: Socket): http.ClientRequest | undefined {
  const req = (socket as unknown as { _httpMessage?: unknown })._httpMessage
  return req instanceof http.ClientRequest ? req : undefined
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

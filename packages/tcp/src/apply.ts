/**
 * Applying a policy to TCP sockets: one socket (applyTcpKeepalive), every socket of net.connect / net.createServer,
 * connected or not yet. Invariant: a socket is set once, at connect or accept, and nothing is added to its data path
 * (no 'data' listener, no wrapped write); what the kernel then holds is read back into the report.
 */
import net from 'node:net'
import { InvalidArgumentError, type PolicyLike, type TcpSettings, tcpSettings } from '@keepalive/core'
import { describeValue, memoizeByPolicy } from '@keepalive/core/internal'
import { appliedReport, pendingReport, type TcpKeepaliveReport, warn } from './diagnostics.js'
import { resolveTcp, type TcpTarget } from './kernel.js'
import {
  type ApplyTcpKeepaliveOptions,
  chooseMechanism,
  type KeepalivePlan,
  keepalivePlan,
  type MechanismChoice,
  type MechanismOptions,
  mechanismOptions,
  setKeepalive,
} from './mechanisms.js'

type ConnectedTarget = Extract<TcpTarget, { state: 'connected' }>

/** What a policy asks of TCP here (any PolicyLike), computed once per policy; throws InvalidPolicyError, whatever the input. */
const planFor = memoizeByPolicy((policy) => keepalivePlan(tcpSettings(policy)))

/**
 * Applies a keepalive policy to a TCP socket (net.Socket or tls.TLSSocket; client, accepted or TLS) and returns what the
 * kernel holds. Before connect, it applies at 'connect': the returned report is `pending`, its `ready` promise gives
 * the real one. Throws InvalidPolicyError, TcpNotTcpError, TcpSocketClosedError, or TcpUnsupportedError (a forced
 * mechanism that is not available). A failing setsockopt is a warning and a fallback, never a throw.
 */
export function applyTcpKeepalive(
  socket: net.Socket,
  policy?: PolicyLike,
  options?: ApplyTcpKeepaliveOptions,
): TcpKeepaliveReport {
  const plan = planFor(policy)
  return applyPlan(socket, plan, mechanismOptions(options, 'applyTcpKeepalive: options'))
}

/** applyTcpKeepalive with hand-made settings: the seam for tests of the mechanisms with exact numbers. */
export function applySettings(
  socket: net.Socket,
  settings: TcpSettings,
  options?: ApplyTcpKeepaliveOptions,
): TcpKeepaliveReport {
  return applyPlan(socket, keepalivePlan(settings), mechanismOptions(options, 'applyTcpKeepalive: options'))
}

/** `onApplied` is called synchronously with the final report (or null), before the socket's other 'connect' listeners. */
function applyPlan(
  socket: net.Socket,
  plan: KeepalivePlan,
  resolved: MechanismOptions,
  onApplied?: (report: TcpKeepaliveReport | null) => void,
): TcpKeepaliveReport {
  const target = resolveTcp(socket, 'applyTcpKeepalive')
  const choice = chooseMechanism(resolved, plan)
  if (target.state === 'pending') {
    return applyAtConnect(socket, target.emitter, plan, resolved, choice.mechanism, onApplied)
  }
  const report = applyToConnected(socket, target, plan, resolved, choice)
  onApplied?.(report)
  return report
}

/**
 * A socket that is not connected yet: return a pending report now (the values that will be applied), and apply at
 * the TCP 'connect'. Its `ready` resolves with the applied report, or null if the socket closes first.
 */
function applyAtConnect(
  socket: net.Socket,
  emitter: net.Socket,
  plan: KeepalivePlan,
  options: MechanismOptions,
  predicted: TcpKeepaliveReport['mechanism'],
  onApplied: ((report: TcpKeepaliveReport | null) => void) | undefined,
): TcpKeepaliveReport {
  let resolveReady!: (report: TcpKeepaliveReport | null) => void
  const ready = new Promise<TcpKeepaliveReport | null>((resolve) => {
    resolveReady = resolve
  })
  const onConnect = (): void => {
    emitter.off('close', onClose)
    let report: TcpKeepaliveReport | null = null
    try {
      // Resolved again: a fresh net.Socket may have connected to a path (not TCP), and the native verdict may be in.
      const target = resolveTcp(socket, 'applyTcpKeepalive')
      if (target.state === 'connected')
        report = applyToConnected(socket, target, plan, options, chooseMechanism(options, plan))
    } catch (error) {
      // A throw inside a 'connect' listener would crash the process: report it instead.
      warn(socket, `keepalive not applied at connect: ${(error as Error).message}`)
    }
    onApplied?.(report)
    resolveReady(report)
  }
  const onClose = (): void => {
    emitter.off('connect', onConnect)
    onApplied?.(null)
    resolveReady(null)
  }
  emitter.once('connect', onConnect)
  emitter.once('close', onClose)
  return pendingReport(socket, plan.settings, predicted, options.userTimeout, ready)
}

/** A connected socket: set by the chosen mechanism, read back, and report every difference. */
function applyToConnected(
  socket: net.Socket,
  target: ConnectedTarget,
  plan: KeepalivePlan,
  options: MechanismOptions,
  choice: MechanismChoice,
): TcpKeepaliveReport {
  const warnings: string[] = [...plan.settings.warnings]
  const result = setKeepalive(target.fd, target.nodeSocket, plan, options, choice, warnings)
  return appliedReport(socket, plan.settings, result, warnings)
}

// ---------------------------------------------------------------------------------------------------------------
// net.connect and net.createServer with a `keepalive` option: every connection gets the policy at connect/accept.

export interface KeepaliveSocketOptions {
  /** The policy for every connection (a policy, a preset name or a policy input; omitted: `balanced`). */
  readonly keepalive?: PolicyLike
  /** How to apply it (mechanism, user timeout, FFI). */
  readonly keepaliveOptions?: ApplyTcpKeepaliveOptions
}

export type ConnectOptions = net.TcpNetConnectOpts & KeepaliveSocketOptions
export type ServerOptions = net.ServerOpts & KeepaliveSocketOptions

/**
 * Like `net.connect(options, connectListener)`, with the keepalive policy applied when the socket connects, before
 * `connectListener` runs. The socket emits `'keepalive'` with the report (or null if it closed before connecting).
 * Everything is checked before any connection is attempted: InvalidPolicyError, InvalidArgumentError (options that
 * are not an object, bad keepaliveOptions, or options net.connect refuses) or TcpUnsupportedError. Whatever throws
 * later (e.g. a `path`: not TCP) destroys the socket first.
 */
export function connect(options: ConnectOptions, connectListener?: () => void): net.Socket {
  const { keepalive, keepaliveOptions, netOptions } = splitOptions(options, 'connect', false)
  checkListener(connectListener, 'connect: connectListener')
  const plan = planFor(keepalive as PolicyLike)
  const resolved = mechanismOptions(keepaliveOptions, 'connect: keepaliveOptions')
  chooseMechanism(resolved, plan)
  const socket = fromNet('connect', () => net.connect(netOptions as net.NetConnectOpts))
  try {
    applyPlan(socket, plan, resolved, (report) => socket.emit('keepalive', report))
  } catch (error) {
    // The caller gets no socket: one left connecting would leak, and its 'error' would have no listener.
    socket.destroy()
    throw error
  }
  if (connectListener) socket.once('connect', connectListener)
  return socket
}

/**
 * Like `net.createServer(options, connectionListener)` (or `createServer(connectionListener)`), with the keepalive
 * policy applied to every accepted socket before any 'connection' listener sees it. The server emits `'keepalive'`
 * with `(report, socket)` for each. A socket the policy cannot be applied to is not dropped: the error becomes the
 * server's 'keepalive' report null and a `keepalive:tcp:warning`. Bad options or policy throw here, at creation.
 */
export function createServer(connectionListener?: (socket: net.Socket) => void): net.Server
export function createServer(
  options?: ServerOptions,
  connectionListener?: (socket: net.Socket) => void,
): net.Server
export function createServer(
  optionsOrListener?: ServerOptions | ((socket: net.Socket) => void),
  connectionListener?: (socket: net.Socket) => void,
): net.Server {
  let options: unknown = optionsOrListener
  let listener = connectionListener
  if (typeof optionsOrListener === 'function') {
    // net.createServer's one-argument form.
    if (connectionListener !== undefined) {
      throw new InvalidArgumentError(
        `createServer: the first argument is a listener, so the second must be omitted, got ${describeValue(connectionListener)}`,
      )
    }
    options = undefined
    listener = optionsOrListener
  }
  const { keepalive, keepaliveOptions, netOptions } = splitOptions(options, 'createServer', true)
  checkListener(listener, 'createServer: connectionListener')
  const plan = planFor(keepalive as PolicyLike)
  const resolved = mechanismOptions(keepaliveOptions, 'createServer: keepaliveOptions')
  chooseMechanism(resolved, plan)
  const server = fromNet('createServer', () => net.createServer(netOptions as net.ServerOpts))
  // Registered first, so it runs before the user's 'connection' listeners.
  server.on('connection', (socket: net.Socket) => {
    let report: TcpKeepaliveReport | null = null
    try {
      report = applyPlan(socket, plan, resolved)
    } catch (error) {
      // E.g. an accepted socket the peer already reset: nothing to apply, and no reason to crash the server.
      warn(socket, `keepalive not applied to an accepted socket: ${(error as Error).message}`)
    }
    server.emit('keepalive', report, socket)
  })
  if (listener) server.on('connection', listener)
  return server
}

/** The two keepalive options apart from net's, read once; anything but an object (or, for a server, nothing) throws. */
function splitOptions(
  options: unknown,
  where: string,
  optional: boolean,
): { keepalive: unknown; keepaliveOptions: unknown; netOptions: object } {
  if (optional && (options === undefined || options === null)) {
    return { keepalive: undefined, keepaliveOptions: undefined, netOptions: {} }
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    const like = optional
      ? "net.createServer's ({ keepalive, … })"
      : "net.connect's ({ host, port, keepalive, … })"
    throw new InvalidArgumentError(
      `${where}: options must be an object like ${like}, got ${describeValue(options)}`,
    )
  }
  try {
    const { keepalive, keepaliveOptions, ...netOptions } = options as Record<string, unknown>
    return { keepalive, keepaliveOptions, netOptions }
  } catch (cause) {
    throw new InvalidArgumentError(`${where}: options cannot be read (a getter or Proxy trap threw)`, {
      cause,
    })
  }
}

function checkListener(listener: unknown, what: string): void {
  if (listener !== undefined && typeof listener !== 'function') {
    throw new InvalidArgumentError(`${what} must be a function, got ${describeValue(listener)}`)
  }
}

/** Calls net; what it throws for options it refuses (a bad port, a wrong type) becomes an InvalidArgumentError. */
function fromNet<T>(where: string, create: () => T): T {
  try {
    return create()
  } catch (cause) {
    throw new InvalidArgumentError(`${where}: net refused the options: ${describeError(cause)}`, { cause })
  }
}

/** An error's message for another message; never throws, whatever was thrown. */
function describeError(error: unknown): string {
  try {
    if (error instanceof Error && typeof error.message === 'string') return error.message
  } catch {
    // A Proxy or a throwing getter: described below.
  }
  return describeValue(error)
}

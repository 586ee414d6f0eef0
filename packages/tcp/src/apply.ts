/**
 * applyTcpKeepalive: idle, interval, count and user timeout on one socket, by the best mechanism this Node and
 * platform have, read back from the kernel. Runs once per socket, at connect or accept; nothing is added to the
 * data path (no 'data' listener, no wrapped write).
 */
import type { Socket } from 'node:net'
import {
  channels,
  definePolicy,
  type PolicyLike,
  type TcpSettings,
  TcpUnsupportedError,
  tcpSettings,
} from '@keepalive/core'
import { nativeKeepaliveLikely, recordNativeVerdict, setNativeKeepalive } from './native-keepalive.js'
import { readFd, type TcpKeepaliveValues } from './read.js'
import { resolveTcp, type TcpTarget } from './socket-fd.js'
import { describeErrno, loadSockopt, type Sockopt, sockoptUnavailableReason } from './sockopt-ffi.js'

/** How idle/interval/count were set: Node's own four-argument setKeepAlive, setsockopt through FFI, or only what old Node can. */
export type TcpKeepaliveMechanism = 'native' | 'ffi' | 'partial'

export interface ApplyTcpKeepaliveOptions {
  /** Which mechanism to use. `auto` (default) picks the best available; forcing an unavailable one throws TcpUnsupportedError. */
  readonly mechanism?: 'auto' | TcpKeepaliveMechanism
  /**
   * Set TCP_USER_TIMEOUT to the detection time (default true), so a peer that vanishes while sent data is unacknowledged
   * is caught too: the kernel sends no keepalive probes while data is in flight. `false` leaves the kernel's value alone.
   */
  readonly userTimeout?: boolean
  /** Use the FFI (koffi) at all, to set and to read back (default true). */
  readonly ffi?: boolean
}

/** What the kernel holds after applying (ms / count), how it got there, and everything that did not go as asked. */
export interface TcpKeepaliveReport extends TcpKeepaliveValues {
  readonly mechanism: TcpKeepaliveMechanism
  /** True when the values were read back from the kernel; false when they are what Node was asked to set. */
  readonly verified: boolean
  /**
   * True when the socket was not connected yet: nothing is applied, the values are the ones that will be, and
   * `ready` resolves with the real report at 'connect' (or null if the socket closes first or turns out not to be TCP).
   */
  readonly pending: boolean
  /** Everything not applied as asked. Also published on `keepalive:tcp:warning`. Empty when all is as asked. */
  readonly warnings: readonly string[]
  /** What the policy asks of TCP (core's `tcpSettings`). */
  readonly requested: TcpSettings
  /** The applied report: this report when not pending. Never rejects. */
  readonly ready: Promise<TcpKeepaliveReport | null>
}

/** Internal: called synchronously with the final report (or null), before the socket's other 'connect' listeners run on. */
export interface InternalApplyOptions extends ApplyTcpKeepaliveOptions {
  readonly onApplied?: (report: TcpKeepaliveReport | null) => void
}

const reports = new WeakMap<Socket, TcpKeepaliveReport>()

/** The last report applyTcpKeepalive produced for this socket (the applied one, once a pending socket connects). */
export function getTcpKeepaliveReport(socket: Socket): TcpKeepaliveReport | undefined {
  return reports.get(socket)
}

// Settings per policy: frozen policies (definePolicy's output) and preset names are cached, so applying one policy to
// many sockets validates it once. Plain input objects are not: the caller may mutate them.
const frozenSettings = new WeakMap<object, TcpSettings>()
const namedSettings = new Map<string, TcpSettings>()

/** core's tcpSettings for any PolicyLike; throws InvalidPolicyError from definePolicy. */
export function settingsFor(policy: PolicyLike): TcpSettings {
  if (policy === undefined || typeof policy === 'string') {
    const key = policy ?? ''
    let settings = namedSettings.get(key)
    if (settings === undefined) {
      settings = tcpSettings(definePolicy(policy))
      namedSettings.set(key, settings)
    }
    return settings
  }
  if (typeof policy === 'object' && policy !== null && Object.isFrozen(policy)) {
    let settings = frozenSettings.get(policy)
    if (settings === undefined) {
      settings = tcpSettings(definePolicy(policy))
      frozenSettings.set(policy, settings)
    }
    return settings
  }
  return tcpSettings(definePolicy(policy))
}

/**
 * Applies a keepalive policy to a TCP socket (net.Socket or tls.TLSSocket; client, accepted or TLS) and returns what the
 * kernel holds. Before connect, it applies at 'connect': the returned report is `pending`, its `ready` promise gives
 * the real one. Throws InvalidPolicyError, TcpNotTcpError, TcpSocketClosedError, or TcpUnsupportedError (a forced
 * mechanism that is not available). A failing setsockopt is a warning and a fallback, never a throw.
 */
export function applyTcpKeepalive(
  socket: Socket,
  policy?: PolicyLike,
  options?: ApplyTcpKeepaliveOptions,
): TcpKeepaliveReport {
  return applySettings(socket, settingsFor(policy), options ?? {})
}

/** applyTcpKeepalive with the settings already computed (also the seam for tests with hand-made numbers). */
export function applySettings(
  socket: Socket,
  settings: TcpSettings,
  options: InternalApplyOptions,
): TcpKeepaliveReport {
  const target = resolveTcp(socket)
  checkForced(options)
  if (target.state === 'pending') return applyLater(socket, target.emitter, settings, options)
  const report = applyNow(socket, target, settings, options)
  options.onApplied?.(report)
  return report
}

/** A forced mechanism that cannot work is the caller's mistake: say so now, not at 'connect'. */
function checkForced(options: ApplyTcpKeepaliveOptions): void {
  if (options.mechanism === 'native' && !nativeKeepaliveLikely()) {
    throw new TcpUnsupportedError(
      `mechanism 'native' needs Node's setKeepAlive(enable, idle, interval, count) (Node 24.21+ or 26.4+); this is Node ${process.version}`,
    )
  }
  if (options.mechanism === 'ffi' && (options.ffi === false || loadSockopt() === undefined)) {
    throw new TcpUnsupportedError(
      `mechanism 'ffi' is not available: ${options.ffi === false ? 'disabled by the ffi option' : sockoptUnavailableReason()}`,
    )
  }
}

function applyLater(
  socket: Socket,
  emitter: Socket,
  settings: TcpSettings,
  options: InternalApplyOptions,
): TcpKeepaliveReport {
  let resolveReady!: (report: TcpKeepaliveReport | null) => void
  const ready = new Promise<TcpKeepaliveReport | null>((resolve) => {
    resolveReady = resolve
  })
  const onConnect = (): void => {
    emitter.off('close', onClose)
    let report: TcpKeepaliveReport | null = null
    try {
      report = applyNow(socket, resolveTcp(socket), settings, options)
    } catch (error) {
      // A throw inside a 'connect' listener would crash the process: report it instead.
      warn(socket, `keepalive not applied at connect: ${(error as Error).message}`)
    }
    options.onApplied?.(report)
    resolveReady(report)
  }
  const onClose = (): void => {
    emitter.off('connect', onConnect)
    options.onApplied?.(null)
    resolveReady(null)
  }
  emitter.once('connect', onConnect)
  emitter.once('close', onClose)
  const report = withReady(
    {
      enabled: false,
      idle: settings.idleSeconds * 1000,
      interval: settings.intervalSeconds * 1000,
      probes: settings.probes,
      userTimeout: options.userTimeout === false ? 0 : settings.userTimeoutMs,
      mechanism: predictMechanism(options),
      verified: false,
      pending: true,
      warnings: settings.warnings,
      requested: settings,
    },
    ready,
  )
  reports.set(socket, report)
  return report
}

function predictMechanism(options: ApplyTcpKeepaliveOptions): TcpKeepaliveMechanism {
  const mechanism = options.mechanism ?? 'auto'
  if (mechanism !== 'auto') return mechanism
  if (nativeKeepaliveLikely()) return 'native'
  return options.ffi !== false && loadSockopt() !== undefined ? 'ffi' : 'partial'
}

function applyNow(
  socket: Socket,
  target: TcpTarget,
  settings: TcpSettings,
  options: ApplyTcpKeepaliveOptions,
): TcpKeepaliveReport {
  if (target.state !== 'connected') throw new Error('unreachable: applyNow on a pending socket')
  const warnings: string[] = [...settings.warnings]
  const sockopt = options.ffi === false ? undefined : loadSockopt()
  const fd = target.fd
  const ffi = sockopt !== undefined && fd >= 0 ? sockopt : undefined
  const setUserTimeout = options.userTimeout !== false
  const forced = options.mechanism ?? 'auto'
  let mechanism: TcpKeepaliveMechanism =
    forced !== 'auto' ? forced : nativeKeepaliveLikely() ? 'native' : ffi ? 'ffi' : 'partial'
  if (mechanism === 'ffi' && !ffi) {
    // Forced ffi, but Node exposes no fd (Windows).
    throw new TcpUnsupportedError(
      `mechanism 'ffi' needs the socket's fd, which Node does not expose on ${process.platform}`,
    )
  }

  if (mechanism === 'native') {
    setNativeKeepalive(target.nodeSocket, settings.idleSeconds, settings.intervalSeconds, settings.probes)
    if (ffi && setUserTimeout) setUserTimeoutFfi(ffi, fd, settings, warnings)
  } else if (mechanism === 'ffi') {
    if (!setAllFfi(ffi!, fd, settings, setUserTimeout, warnings)) {
      mechanism = 'partial'
      warnings.push('fell back to partial: setsockopt(SO_KEEPALIVE) failed')
    }
  }
  if (mechanism === 'partial') setPartial(target.nodeSocket, settings)

  let values: TcpKeepaliveValues | undefined
  if (ffi) {
    const read = readFd(ffi, fd)
    if (typeof read === 'string') warnings.push(`values not read back: ${read}`)
    else values = read
  }

  if (mechanism === 'native' && values !== undefined) {
    const matches = values.interval === settings.intervalSeconds * 1000 && values.probes === settings.probes
    if (withinLimits(ffi!, settings)) recordNativeVerdict(matches)
    if (!matches || values.idle !== settings.idleSeconds * 1000 || !values.enabled) {
      // Node did not set everything (an older Node, or its cache skipped a call after someone changed the socket
      // behind its back): set it by FFI, which reports errno for anything the kernel refuses.
      setAllFfi(ffi!, fd, settings, false, warnings)
      mechanism = 'ffi'
      const reread = readFd(ffi!, fd)
      values = typeof reread === 'string' ? undefined : reread
    }
  }

  if (mechanism === 'partial') warnings.push(...partialWarnings(options, fd))
  else if (setUserTimeout && !ffi && settings.userTimeoutMs > 0) {
    warnings.push(
      `TCP_USER_TIMEOUT not set (${unavailableFfi(options, fd)}): a peer that vanishes while sent data is unacknowledged is detected only when retransmissions give up (~15 min on Linux)`,
    )
  }

  const verified = values !== undefined
  values ??= expectedValues(mechanism, settings, setUserTimeout && ffi !== undefined)
  if (verified) compare(values, settings, mechanism, setUserTimeout, warnings)
  else
    warnings.push(
      `values not read back from the kernel (${unavailableFfi(options, fd)}): they are what Node was asked to set`,
    )

  const report = withReady({
    enabled: values.enabled,
    idle: values.idle,
    interval: values.interval,
    probes: values.probes,
    userTimeout: values.userTimeout,
    mechanism,
    verified,
    pending: false,
    warnings,
    requested: settings,
  })
  reports.set(socket, report)
  publish(socket, report)
  return report
}

/**
 * Adds `ready` as a non-enumerable property, so that logging or JSON.stringify of a report shows the values, not a
 * Promise. Without `ready`, the report is already applied and `ready` resolves with the report itself.
 */
function withReady(
  fields: Omit<TcpKeepaliveReport, 'ready'>,
  ready?: Promise<TcpKeepaliveReport | null>,
): TcpKeepaliveReport {
  const report = fields as TcpKeepaliveReport
  Object.defineProperty(report, 'ready', { value: ready ?? Promise.resolve(report), enumerable: false })
  return report
}

function withinLimits(sockopt: Sockopt, settings: TcpSettings): boolean {
  const c = sockopt.constants
  return (
    settings.idleSeconds <= c.maxSeconds &&
    settings.intervalSeconds <= c.maxSeconds &&
    settings.probes <= c.maxProbes
  )
}

/** SO_KEEPALIVE, idle, interval, count and (optionally) the user timeout. False if keepalive could not even be enabled. */
function setAllFfi(
  sockopt: Sockopt,
  fd: number,
  settings: TcpSettings,
  userTimeout: boolean,
  warnings: string[],
): boolean {
  const c = sockopt.constants
  const on = sockopt.set(fd, c.SOL_SOCKET, c.SO_KEEPALIVE, 1)
  if (on !== 0) {
    warnings.push(`setsockopt(SO_KEEPALIVE, 1) failed: ${describeErrno(on)}`)
    return false
  }
  setOne(sockopt, fd, c.TCP_KEEPIDLE, 'TCP_KEEPIDLE', settings.idleSeconds, warnings)
  setOne(sockopt, fd, c.TCP_KEEPINTVL, 'TCP_KEEPINTVL', settings.intervalSeconds, warnings)
  setOne(sockopt, fd, c.TCP_KEEPCNT, 'TCP_KEEPCNT', settings.probes, warnings)
  if (userTimeout) setUserTimeoutFfi(sockopt, fd, settings, warnings)
  return true
}

function setOne(
  sockopt: Sockopt,
  fd: number,
  name: number,
  label: string,
  value: number,
  warnings: string[],
): void {
  const errno = sockopt.set(fd, sockopt.constants.IPPROTO_TCP, name, value)
  if (errno !== 0) warnings.push(`setsockopt(${label}, ${value}) failed: ${describeErrno(errno)}`)
}

function setUserTimeoutFfi(sockopt: Sockopt, fd: number, settings: TcpSettings, warnings: string[]): void {
  const c = sockopt.constants
  if (c.TCP_USER_TIMEOUT === undefined) {
    warnings.push(`TCP_USER_TIMEOUT not set: ${process.platform} has no such option`)
    return
  }
  // macOS and Windows count this one in seconds: round up so the cap is never shorter than the detection time.
  const value = c.userTimeoutUnit === 's' ? Math.ceil(settings.userTimeoutMs / 1000) : settings.userTimeoutMs
  setOne(sockopt, fd, c.TCP_USER_TIMEOUT, 'TCP_USER_TIMEOUT', value, warnings)
}

/** What old Node can do: idle only. libuv (1.35+) then forces interval 1 s and 10 probes. */
function setPartial(socket: Socket, settings: TcpSettings): void {
  socket.setKeepAlive(true, settings.idleSeconds * 1000)
}

function partialWarnings(options: ApplyTcpKeepaliveOptions, fd: number): string[] {
  const why = options.mechanism === 'partial' ? 'forced by the mechanism option' : unavailableFfi(options, fd)
  return [
    `partial: only the idle time was set, with Node's setKeepAlive (${why})`,
    'TCP_KEEPINTVL not set: Node/libuv uses 1 s',
    'TCP_KEEPCNT not set: Node/libuv uses 10 probes',
    ...(options.userTimeout === false
      ? []
      : [
          'TCP_USER_TIMEOUT not set: a peer that vanishes while sent data is unacknowledged is detected only when retransmissions give up (~15 min on Linux)',
        ]),
  ]
}

/** Why the FFI could not be used for this socket. */
function unavailableFfi(options: ApplyTcpKeepaliveOptions, fd: number): string {
  if (options.ffi === false) return 'FFI disabled by the ffi option'
  const reason = sockoptUnavailableReason()
  if (reason !== undefined) return `FFI unavailable: ${reason}`
  if (fd < 0) return `Node exposes no socket fd on ${process.platform}`
  return 'FFI unavailable'
}

/** Without read-back: what the mechanism was asked to set, and libuv's fixed values for what it cannot. */
function expectedValues(
  mechanism: TcpKeepaliveMechanism,
  settings: TcpSettings,
  userTimeoutSet: boolean,
): TcpKeepaliveValues {
  const partial = mechanism === 'partial'
  return {
    enabled: true,
    idle: settings.idleSeconds * 1000,
    interval: partial ? 1000 : settings.intervalSeconds * 1000,
    probes: partial ? 10 : settings.probes,
    userTimeout: userTimeoutSet ? settings.userTimeoutMs : 0,
  }
}

/** Anything the kernel holds that differs from what was set is a warning: the report never hides a difference. */
function compare(
  values: TcpKeepaliveValues,
  settings: TcpSettings,
  mechanism: TcpKeepaliveMechanism,
  userTimeout: boolean,
  warnings: string[],
): void {
  const differs = (label: string, held: number, asked: number, unit: string): void => {
    if (held !== asked) warnings.push(`the kernel holds ${label} ${held}${unit}, asked ${asked}${unit}`)
  }
  if (!values.enabled) warnings.push('the kernel holds SO_KEEPALIVE off')
  differs('idle', values.idle, settings.idleSeconds * 1000, ' ms')
  if (mechanism === 'partial') return
  differs('interval', values.interval, settings.intervalSeconds * 1000, ' ms')
  differs('probes', values.probes, settings.probes, '')
  if (userTimeout) {
    const c = loadSockopt()?.constants
    const asked =
      c?.userTimeoutUnit === 's' ? Math.ceil(settings.userTimeoutMs / 1000) * 1000 : settings.userTimeoutMs
    if (c?.TCP_USER_TIMEOUT !== undefined) differs('user timeout', values.userTimeout, asked, ' ms')
  }
}

/** Publishes a warning that belongs to no report. */
export function warn(socket: Socket, warning: string): void {
  if (channels.tcpWarning.hasSubscribers) channels.tcpWarning.publish({ socket, warning })
}

function publish(socket: Socket, report: TcpKeepaliveReport): void {
  if (channels.tcpWarning.hasSubscribers) {
    for (const warning of report.warnings) channels.tcpWarning.publish({ socket, warning })
  }
  if (channels.tcpApplied.hasSubscribers) channels.tcpApplied.publish({ socket, report })
}

/**
 * The three ways to set keepalive on a connected socket, and the choice between them: Node's own four-argument
 * setKeepAlive ('native'), setsockopt through koffi ('ffi'), and Node's two-argument setKeepAlive ('partial': idle
 * only). Invariant: whatever is not set as asked becomes a warning, and a failing setsockopt falls back to Node,
 * never a throw; only a forced mechanism that cannot work throws (TcpUnsupportedError), before anything is set.
 */
import { Socket } from 'node:net'
import { InvalidArgumentError, type TcpSettings } from '@keepalive/core'
import {
  describeValue,
  didYouMean,
  type TcpPlatformValues,
  type TcpSockoptValue,
  tcpPlatformValues,
} from '@keepalive/core/internal'
import { TcpUnsupportedError } from './errors.js'
import {
  describeErrno,
  inReportUnits,
  type Kernel,
  kernelUnavailableReason,
  loadKernel,
  readValues,
  type TcpKeepaliveValues,
} from './kernel.js'

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

/** The options with their defaults filled in: a plain snapshot, so nothing the caller passed is read twice. */
export interface MechanismOptions {
  readonly mechanism: 'auto' | TcpKeepaliveMechanism
  readonly userTimeout: boolean
  readonly ffi: boolean
}

const OPTION_NAMES = ['mechanism', 'userTimeout', 'ffi']
const MECHANISMS = ['auto', 'native', 'ffi', 'partial']

/**
 * Checks the options and fills in the defaults. `where` names them in messages (`applyTcpKeepalive: options`).
 * Throws InvalidArgumentError naming the field and value: a wrong type, an unknown mechanism, an unknown key (a typo
 * would otherwise be silently ignored), or an object whose getters or Proxy traps throw.
 */
export function mechanismOptions(options: unknown, where: string): MechanismOptions {
  if (options === undefined || options === null) return { mechanism: 'auto', userTimeout: true, ffi: true }
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(
      `${where} must be an object like { mechanism, userTimeout, ffi }, got ${describeValue(options)}`,
    )
  }
  let keys: string[]
  let fields: Record<string, unknown>
  try {
    keys = Object.keys(options)
    const { mechanism, userTimeout, ffi } = options as Record<string, unknown>
    fields = { mechanism, userTimeout, ffi }
  } catch (cause) {
    throw new InvalidArgumentError(`${where} cannot be read (a getter or Proxy trap threw)`, { cause })
  }
  for (const key of keys) {
    if (!OPTION_NAMES.includes(key)) {
      throw new InvalidArgumentError(
        `${where} has an unknown field ${describeValue(key)}${didYouMean(key, OPTION_NAMES)}; allowed: ${OPTION_NAMES.join(', ')}`,
      )
    }
  }
  const { mechanism, userTimeout, ffi } = fields
  if (mechanism !== undefined && !MECHANISMS.includes(mechanism as string)) {
    const hint = typeof mechanism === 'string' ? didYouMean(mechanism, MECHANISMS) : ''
    throw new InvalidArgumentError(
      `${where}.mechanism must be one of ${MECHANISMS.map((m) => `"${m}"`).join(', ')}, got ${describeValue(mechanism)}${hint}`,
    )
  }
  for (const [name, value] of [
    ['userTimeout', userTimeout],
    ['ffi', ffi],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean') {
      throw new InvalidArgumentError(`${where}.${name} must be true or false, got ${describeValue(value)}`)
    }
  }
  return {
    mechanism: (mechanism ?? 'auto') as MechanismOptions['mechanism'],
    userTimeout: userTimeout !== false,
    ffi: ffi !== false,
  }
}

/**
 * What one policy asks of TCP: core's settings, and core's setsockopt values for them on this platform (null where
 * core has no option table). Computed once per policy (apply.ts memoizes it with core's memoizeByPolicy).
 */
export interface KeepalivePlan {
  readonly settings: TcpSettings
  readonly calls: TcpPlatformValues | null
}

export function keepalivePlan(settings: TcpSettings): KeepalivePlan {
  return { settings, calls: tcpPlatformValues(settings, process.platform) }
}

// ---------------------------------------------------------------------------------------------------------------
// The choice.

/** The kernel binding with core's values for this platform: what the FFI needs to set anything. */
interface Ffi {
  readonly kernel: Kernel
  readonly calls: TcpPlatformValues
}

/** The mechanism for a socket, and the FFI when the options allow it and koffi loads. */
export type MechanismChoice =
  | { readonly mechanism: 'ffi'; readonly ffi: Ffi }
  | { readonly mechanism: 'native' | 'partial'; readonly ffi: Ffi | undefined }

/**
 * The best mechanism this Node and platform have, or the forced one. Throws TcpUnsupportedError for a forced
 * mechanism that cannot work: the caller's mistake is reported at once, not at 'connect'.
 */
export function chooseMechanism(options: MechanismOptions, plan: KeepalivePlan): MechanismChoice {
  const kernel = options.ffi ? loadKernel() : undefined
  // The binding is loaded only where core has this platform's table, so `calls` is there whenever `kernel` is.
  const ffi = kernel && plan.calls ? { kernel, calls: plan.calls } : undefined
  switch (options.mechanism) {
    case 'native':
      if (!nativeKeepaliveLikely()) {
        throw new TcpUnsupportedError(
          `mechanism 'native' needs Node's setKeepAlive(enable, idle, interval, count) (Node 24.21+ or 26.4+); this is Node ${process.version}`,
        )
      }
      return { mechanism: 'native', ffi }
    case 'ffi':
      if (ffi === undefined) {
        throw new TcpUnsupportedError(
          `mechanism 'ffi' is not available: ${options.ffi ? kernelUnavailableReason() : 'disabled by the ffi option'}`,
        )
      }
      return { mechanism: 'ffi', ffi }
    case 'partial':
      return { mechanism: 'partial', ffi }
    default:
      if (nativeKeepaliveLikely()) return { mechanism: 'native', ffi }
      return ffi === undefined ? { mechanism: 'partial', ffi } : { mechanism: 'ffi', ffi }
  }
}

/** Why the FFI could not be used. */
function whyNoFfi(options: MechanismOptions): string {
  if (!options.ffi) return 'FFI disabled by the ffi option'
  const reason = kernelUnavailableReason()
  return reason === undefined ? 'FFI unavailable' : `FFI unavailable: ${reason}`
}

// ---------------------------------------------------------------------------------------------------------------
// Applying by the chosen mechanism, then reading back.

/** What setting did: the mechanism that ran, and the values the kernel holds (or why they could not be read). */
export interface MechanismResult {
  readonly mechanism: TcpKeepaliveMechanism
  /** Read back from the kernel, or why not. */
  readonly values: TcpKeepaliveValues | string
  /** The user timeout (ms) the kernel should hold; undefined when it was not set. */
  readonly userTimeout: number | undefined
}

/** Sets keepalive on a connected socket's `fd` (and `nodeSocket` for Node's own calls) and reads it back. */
export function setKeepalive(
  fd: number,
  nodeSocket: Socket,
  { settings }: KeepalivePlan,
  options: MechanismOptions,
  choice: MechanismChoice,
  warnings: string[],
): MechanismResult {
  const ffi = choice.ffi
  const kernel = ffi?.kernel
  let mechanism: TcpKeepaliveMechanism = choice.mechanism
  if (choice.mechanism === 'native') {
    setNative(nodeSocket, settings)
    if (ffi && options.userTimeout) setUserTimeoutFfi(ffi, fd, warnings)
  } else if (choice.mechanism === 'ffi') {
    if (!setAllFfi(choice.ffi, fd, options.userTimeout, warnings)) {
      mechanism = 'partial'
      warnings.push('fell back to partial: setsockopt(SO_KEEPALIVE) failed')
    }
  }
  if (mechanism === 'partial') setPartial(nodeSocket, settings)

  let values: TcpKeepaliveValues | string = whyNoFfi(options)
  if (kernel) {
    values = readValues(kernel, fd)
    if (typeof values === 'string') {
      warnings.push(`values not read back: ${values}`)
      values = whyNoFfi(options)
    }
  }

  if (mechanism === 'native' && ffi && typeof values !== 'string') {
    const matches = values.interval === settings.intervalSeconds * 1000 && values.probes === settings.probes
    // Only values the kernel accepts can prove or refute that Node set them.
    if (withinPlatformLimits(ffi.kernel, settings)) recordNativeVerdict(matches)
    if (!matches || values.idle !== settings.idleSeconds * 1000 || !values.enabled) {
      // Node did not set everything (an older Node, or its cache skipped a call after someone changed the socket
      // behind its back): set it by FFI, which reports errno for anything the kernel refuses.
      setAllFfi(ffi, fd, false, warnings)
      mechanism = 'ffi'
      const reread = readValues(ffi.kernel, fd)
      values = typeof reread === 'string' ? whyNoFfi(options) : reread
    }
  }

  if (mechanism === 'partial') warnings.push(...partialWarnings(options))
  else if (options.userTimeout && !kernel && settings.userTimeoutMs > 0) {
    warnings.push(`TCP_USER_TIMEOUT not set (${whyNoFfi(options)}): ${WITHOUT_USER_TIMEOUT}`)
  }
  const userTimeout = options.userTimeout && ffi ? expectedUserTimeout(ffi) : undefined
  return { mechanism, values, userTimeout }
}

// ---------------------------------------------------------------------------------------------------------------
// native: Node's own setKeepAlive(enable, initialDelay, interval, count), on Node 24.21+ and 26.4+ (libuv 1.52's
// uv_tcp_keepalive_ex). Older Nodes accept the extra arguments and silently ignore them, so the signature alone
// proves nothing: the first socket that uses it is read back, and the verdict is remembered.

/** undefined until a read-back has confirmed or refuted the native path. */
let verdict: boolean | undefined

/** Whether Node's setKeepAlive is believed to set interval and count. */
export function nativeKeepaliveLikely(): boolean {
  // Node 20's setKeepAlive(enable, initialDelay) has length 2; the four-argument form has length 4.
  return verdict ?? Socket.prototype.setKeepAlive.length >= 4
}

/** Records what a read-back showed after a native call. Only the first observation counts. */
function recordNativeVerdict(worked: boolean): void {
  verdict ??= worked
}

type FourArgSetKeepAlive = (
  enable: boolean,
  initialDelayMs: number,
  intervalMs: number,
  count: number,
) => Socket

/**
 * Values are whole seconds in ms: Node floors ms to seconds and a result of 0 becomes EINVAL in libuv, which Node
 * swallows (keepalive then stays at the OS defaults).
 */
function setNative(socket: Socket, settings: TcpSettings): void {
  ;(socket.setKeepAlive as unknown as FourArgSetKeepAlive)(
    true,
    settings.idleSeconds * 1000,
    settings.intervalSeconds * 1000,
    settings.probes,
  )
}

/** Whether the kernel accepts every value of `settings` (1..max of each option): only then can a read-back judge Node. */
function withinPlatformLimits(kernel: Kernel, settings: TcpSettings): boolean {
  const accepts = (value: number, max: number): boolean => value >= 1 && value <= max
  return (
    accepts(settings.idleSeconds, kernel.options.idle.max) &&
    accepts(settings.intervalSeconds, kernel.options.interval.max) &&
    accepts(settings.probes, kernel.options.count.max)
  )
}

// ---------------------------------------------------------------------------------------------------------------
// ffi: setsockopt with core's numbers and values. Failures are warnings with errno.

/** SO_KEEPALIVE, idle, interval, count and (optionally) the user timeout. False if keepalive could not even be enabled. */
function setAllFfi(ffi: Ffi, fd: number, userTimeout: boolean, warnings: string[]): boolean {
  const { calls } = ffi
  if (!setOne(ffi.kernel, fd, calls.keepalive, warnings)) return false
  setOne(ffi.kernel, fd, calls.idle, warnings)
  setOne(ffi.kernel, fd, calls.interval, warnings)
  setOne(ffi.kernel, fd, calls.count, warnings)
  if (userTimeout) setUserTimeoutFfi(ffi, fd, warnings)
  return true
}

/** TCP_USER_TIMEOUT (TCP_RXT_CONNDROPTIME on macOS), in the platform's unit. */
function setUserTimeoutFfi(ffi: Ffi, fd: number, warnings: string[]): void {
  const call = ffi.calls.userTimeout
  if (call === null) {
    warnings.push(`TCP_USER_TIMEOUT not set: ${ffi.kernel.platform} has no such option`)
    return
  }
  setOne(ffi.kernel, fd, call, warnings)
}

/** The user timeout the kernel should hold once set, in ms (undefined where the platform has none). */
function expectedUserTimeout(ffi: Ffi): number | undefined {
  const call = ffi.calls.userTimeout
  return call === null ? undefined : inReportUnits(call.value, call.unit)
}

function setOne(kernel: Kernel, fd: number, call: TcpSockoptValue, warnings: string[]): boolean {
  const errno = kernel.set(fd, call.level, call.option, call.value)
  if (errno === 0) return true
  warnings.push(`setsockopt(${call.name}, ${call.value}) failed: ${describeErrno(errno)}`)
  return false
}

// ---------------------------------------------------------------------------------------------------------------
// partial: the last resort, what Node's two-argument setKeepAlive can do (idle only).

/** libuv (1.35+) then forces interval 1 s and 10 probes. */
function setPartial(socket: Socket, settings: TcpSettings): void {
  socket.setKeepAlive(true, settings.idleSeconds * 1000)
}

/** What happens without a user timeout: the end of every warning that says it is not set. */
const WITHOUT_USER_TIMEOUT =
  'a peer that vanishes while sent data is unacknowledged is detected only when retransmissions give up (~15 min on Linux)'

function partialWarnings(options: MechanismOptions): string[] {
  const why = options.mechanism === 'partial' ? 'forced by the mechanism option' : whyNoFfi(options)
  return [
    `partial: only the idle time was set, with Node's setKeepAlive (${why})`,
    'TCP_KEEPINTVL not set: Node/libuv uses 1 s',
    'TCP_KEEPCNT not set: Node/libuv uses 10 probes',
    ...(options.userTimeout ? [`TCP_USER_TIMEOUT not set: ${WITHOUT_USER_TIMEOUT}`] : []),
  ]
}

/** Applying to a connected socket: set by the chosen mechanism, read back, and report every difference. */
import type { Socket } from 'node:net'
import type { TcpSettings } from '@keepalive/core'
import type { ApplyTcpKeepaliveOptions, TcpKeepaliveMechanism } from './apply-options.js'
import { publishReport } from './diagnostics.js'
import { expectedUserTimeout, setAllFfi, setUserTimeoutFfi } from './ffi-keepalive.js'
import { chooseMechanism, ffiFor, whyNoFfi } from './mechanism.js'
import { recordNativeVerdict, setNativeKeepalive } from './native-keepalive.js'
import { partialWarnings, setPartial, WITHOUT_USER_TIMEOUT } from './partial-keepalive.js'
import { readFd, type TcpKeepaliveValues } from './read.js'
import {
  compareWithKernel,
  expectedValues,
  rememberReport,
  type TcpKeepaliveReport,
  withReady,
} from './report.js'
import type { TcpTarget } from './socket-fd.js'
import { withinPlatformLimits } from './sockopt-values.js'

export function applyToConnected(
  socket: Socket,
  target: TcpTarget,
  settings: TcpSettings,
  options: ApplyTcpKeepaliveOptions,
): TcpKeepaliveReport {
  if (target.state !== 'connected') throw new Error('unreachable: applyToConnected on a pending socket')
  const warnings: string[] = [...settings.warnings]
  const fd = target.fd
  const ffi = ffiFor(options, fd)
  const setUserTimeout = options.userTimeout !== false
  let mechanism: TcpKeepaliveMechanism = chooseMechanism(options, ffi)

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
    // Only values the kernel accepts can prove or refute that Node set them.
    if (withinPlatformLimits(ffi!.options, settings)) recordNativeVerdict(matches)
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
    warnings.push(`TCP_USER_TIMEOUT not set (${whyNoFfi(options, fd)}): ${WITHOUT_USER_TIMEOUT}`)
  }

  const verified = values !== undefined
  values ??= expectedValues(mechanism, settings, setUserTimeout && ffi !== undefined)
  if (verified) {
    const userTimeout = setUserTimeout && ffi ? expectedUserTimeout(ffi, settings) : undefined
    compareWithKernel(values, settings, mechanism, userTimeout, warnings)
  } else
    warnings.push(
      `values not read back from the kernel (${whyNoFfi(options, fd)}): they are what Node was asked to set`,
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
  rememberReport(socket, report)
  publishReport(socket, report)
  return report
}

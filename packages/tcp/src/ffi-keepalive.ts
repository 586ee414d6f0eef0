/** Setting keepalive by setsockopt through FFI, with core's numbers and values. Failures are warnings with errno. */
import type { TcpSettings } from '@keepalive/core'
import type { TcpSockoptValue } from '@keepalive/core/internal'
import { describeErrno, type Sockopt } from './sockopt-ffi.js'
import { inReportUnits, sockoptCalls } from './sockopt-values.js'

/** SO_KEEPALIVE, idle, interval, count and (optionally) the user timeout. False if keepalive could not even be enabled. */
export function setAllFfi(
  sockopt: Sockopt,
  fd: number,
  settings: TcpSettings,
  userTimeout: boolean,
  warnings: string[],
): boolean {
  const calls = sockoptCalls(settings, sockopt.platform)
  if (!setOne(sockopt, fd, calls.keepalive, warnings)) return false
  setOne(sockopt, fd, calls.idle, warnings)
  setOne(sockopt, fd, calls.interval, warnings)
  setOne(sockopt, fd, calls.count, warnings)
  if (userTimeout) setUserTimeoutFfi(sockopt, fd, settings, warnings)
  return true
}

/** TCP_USER_TIMEOUT (TCP_RXT_CONNDROPTIME on macOS, TCP_MAXRT on Windows), in the platform's unit. */
export function setUserTimeoutFfi(
  sockopt: Sockopt,
  fd: number,
  settings: TcpSettings,
  warnings: string[],
): void {
  const call = sockoptCalls(settings, sockopt.platform).userTimeout
  if (call === null) {
    warnings.push(`TCP_USER_TIMEOUT not set: ${sockopt.platform} has no such option`)
    return
  }
  setOne(sockopt, fd, call, warnings)
}

/** The user timeout the kernel should hold once set, in ms (undefined where the platform has none). */
export function expectedUserTimeout(sockopt: Sockopt, settings: TcpSettings): number | undefined {
  const call = sockoptCalls(settings, sockopt.platform).userTimeout
  return call === null ? undefined : inReportUnits(call.value, call.unit)
}

function setOne(sockopt: Sockopt, fd: number, call: TcpSockoptValue, warnings: string[]): boolean {
  const errno = sockopt.set(fd, call.level, call.option, call.value)
  if (errno === 0) return true
  warnings.push(`setsockopt(${call.name}, ${call.value}) failed: ${describeErrno(errno)}`)
  return false
}

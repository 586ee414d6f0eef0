/**
 * The setsockopt calls for a socket, as core's `tcpPlatformValues` computes them (numbers and units from core's
 * `tcpPlatformOptions`), and the one conversion the read-back needs: a kernel value in its unit → ms / count.
 */
import type { TcpSettings } from '@keepalive/core'
import {
  type TcpOptionUnit,
  type TcpPlatformOptions,
  type TcpSockoptValue,
  tcpPlatformValues,
} from '@keepalive/core/internal'

/** core's setsockopt calls for one socket, by role. */
export interface SockoptCalls {
  readonly keepalive: TcpSockoptValue
  readonly idle: TcpSockoptValue
  readonly interval: TcpSockoptValue
  readonly count: TcpSockoptValue
  /** null where the platform has no user timeout (FreeBSD). */
  readonly userTimeout: TcpSockoptValue | null
}

// Settings are cached per policy (policy-settings.ts), so the calls for one policy are computed once per process.
const cache = new WeakMap<TcpSettings, SockoptCalls>()

/** The calls for `settings` on `platform` (one per process: the platform the FFI was loaded for). */
export function sockoptCalls(settings: TcpSettings, platform: string): SockoptCalls {
  let calls = cache.get(settings)
  if (calls === undefined) {
    const values = tcpPlatformValues(settings, platform)
    if (values === null) throw new Error(`unreachable: no socket option table for platform '${platform}'`)
    // core lists them in this order: SO_KEEPALIVE, idle, interval, count, then the user timeout where there is one.
    const [keepalive, idle, interval, count, userTimeout] = values.sockopts
    if (!keepalive || !idle || !interval || !count) {
      throw new Error(`unreachable: core's tcpPlatformValues returned ${values.sockopts.length} calls`)
    }
    calls = { keepalive, idle, interval, count, userTimeout: userTimeout ?? null }
    cache.set(settings, calls)
  }
  return calls
}

/** A value read from the kernel, in the report's units: seconds become ms; ms, counts and flags stay. */
export function inReportUnits(value: number, unit: TcpOptionUnit): number {
  return unit === 'seconds' ? value * 1000 : value
}

/** Whether the kernel accepts every value of `settings` (1..max of each option): only then can a read-back judge Node. */
export function withinPlatformLimits(options: TcpPlatformOptions, settings: TcpSettings): boolean {
  const accepts = (value: number, max: number): boolean => value >= 1 && value <= max
  return (
    accepts(settings.idleSeconds, options.idle.max) &&
    accepts(settings.intervalSeconds, options.interval.max) &&
    accepts(settings.probes, options.count.max)
  )
}

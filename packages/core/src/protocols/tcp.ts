// How TCP keepalive expresses a policy. Pure arithmetic: the tcp adapter applies the result with
// setsockopt or Node's setKeepAlive, and explain() prints it.
import { definePolicy } from '../policy.js'
import type { PolicyLike } from '../types.js'
import { askedDetectionTime, human, MAX_TIMER_MS, toUnits } from './common.js'

/** Linux's limits (include/net/tcp.h MAX_TCP_KEEPIDLE/KEEPINTVL/KEEPCNT); the other platforms accept at least these. */
export const tcpLimits = {
  /** TCP_KEEPIDLE, seconds. */
  maxIdleSeconds: 32_767,
  /** TCP_KEEPINTVL, seconds. */
  maxIntervalSeconds: 32_767,
  /** TCP_KEEPCNT. */
  maxProbes: 127,
  /** TCP_USER_TIMEOUT is an int of milliseconds. */
  maxUserTimeoutMs: MAX_TIMER_MS,
} as const

/** How TCP expresses a policy: whole seconds for idle and interval, a count, and TCP_USER_TIMEOUT in ms. */
export interface TcpSettings {
  /** TCP_KEEPIDLE in seconds (≥ 1). */
  readonly idleSeconds: number
  /** TCP_KEEPINTVL in seconds (≥ 1). */
  readonly intervalSeconds: number
  /** TCP_KEEPCNT (1..127 on Linux). */
  readonly probes: number
  /** TCP_USER_TIMEOUT in ms: equals the effective detection time. */
  readonly userTimeoutMs: number
  /** idleSeconds·1000 + intervalSeconds·1000 × probes. */
  readonly detectionTime: number
  /** How much later than the policy's detection time TCP detects, in ms (0 unless a warning says so). */
  readonly lateBy: number
  readonly warnings: readonly string[]
}

/**
 * The TCP keepalive settings for a policy.
 *
 * Idle and interval are floored to whole seconds (flooring never detects later). A sub-second value
 * becomes 1 s, the kernel's minimum: 0 is not "as soon as possible" but "use the OS default"
 * (Node's own setKeepAlive floors 500 ms to 0 and silently gets 7200 s). When raising a value to 1 s
 * would make detection later than asked, the other settings are lowered to absorb it; only a policy
 * detecting in under 2 s (1 s idle + one 1 s probe) stays late, and a warning says by how much.
 *
 * TCP_USER_TIMEOUT is set to the detection time on the probe grid (idle, idle+intvl, …). With a user
 * timeout set, Linux ignores TCP_KEEPCNT and kills the connection at the first keepalive timer firing
 * at which the silence is ≥ the user timeout (tcp_keepalive_timer); making both agree means the count
 * still holds where the user timeout is not honoured, and a dead peer with unacknowledged data in
 * flight (when keepalive probes are not sent) is caught at the same time.
 */
export function tcpSettings(policyLike: PolicyLike): TcpSettings {
  const policy = definePolicy(policyLike)
  const asked = askedDetectionTime(policy)
  const warnings: string[] = []

  const idle = toUnits(policy.idle, 1000, 1, tcpLimits.maxIdleSeconds)
  const interval = toUnits(policy.interval, 1000, 1, tcpLimits.maxIntervalSeconds)
  let idleSeconds = idle.value
  let intervalSeconds = interval.value
  let probes = Math.min(Math.max(1, Math.floor(policy.probes)), tcpLimits.maxProbes)

  describeRounding(warnings, 'idle', 'TCP_KEEPIDLE', policy.idle, idle, tcpLimits.maxIdleSeconds)
  describeRounding(
    warnings,
    'interval',
    'TCP_KEEPINTVL',
    policy.interval,
    interval,
    tcpLimits.maxIntervalSeconds,
  )
  if (policy.probes > tcpLimits.maxProbes) {
    warnings.push(
      `probes ${policy.probes} is above TCP_KEEPCNT's maximum of ${tcpLimits.maxProbes}: TCP_KEEPCNT is ${tcpLimits.maxProbes} (detects earlier).`,
    )
  }

  const grid = (): number => (idleSeconds + intervalSeconds * probes) * 1000

  // Only a value raised to 1 s can push the grid past the policy; absorb that in the other settings.
  // A sub-second interval first: send fewer probes, 1 s apart, in the time the policy leaves after idle —
  // keeping the probe phase about as long as asked, rather than shortening idle (more probes per hour).
  if (grid() > asked && interval.raised && probes > 1) {
    const was = probes
    probes = Math.min(was, Math.max(1, Math.floor((asked - idleSeconds * 1000) / 1000)))
    if (probes !== was) {
      warnings.push(
        `TCP_KEEPCNT lowered from ${was} to ${probes}: probes cannot be less than 1 s apart, and ${probes} of them fit in the policy's detection time of ${human(asked)} after TCP_KEEPIDLE ${idleSeconds} s.`,
      )
    }
  }
  if (grid() > asked && idleSeconds > 1) {
    const was = idleSeconds
    idleSeconds = Math.max(1, Math.floor((asked - intervalSeconds * probes * 1000) / 1000))
    warnings.push(
      `TCP_KEEPIDLE lowered from ${was} s to ${idleSeconds} s to stay within the policy's detection time of ${human(asked)}.`,
    )
  }
  if (grid() > asked && intervalSeconds > 1) {
    const was = intervalSeconds
    intervalSeconds = Math.max(1, Math.floor((asked - idleSeconds * 1000) / (probes * 1000)))
    warnings.push(
      `TCP_KEEPINTVL lowered from ${was} s to ${intervalSeconds} s to stay within the policy's detection time of ${human(asked)}.`,
    )
  }
  if (grid() > asked && probes > 1) {
    const was = probes
    probes = Math.max(1, Math.floor((asked - idleSeconds * 1000) / (intervalSeconds * 1000)))
    warnings.push(
      `TCP_KEEPCNT lowered from ${was} to ${probes} to stay within the policy's detection time of ${human(asked)}.`,
    )
  }

  // TCP_USER_TIMEOUT is an int of ms: past ~24.8 days, lower the count so that count and user timeout
  // still agree (earlier, never later). idle + one interval is at most 65534 s, so at least one probe fits.
  const maxGridSeconds = Math.floor(tcpLimits.maxUserTimeoutMs / 1000)
  if (grid() > maxGridSeconds * 1000) {
    const was = probes
    probes = Math.max(1, Math.floor((maxGridSeconds - idleSeconds) / intervalSeconds))
    warnings.push(
      `TCP_USER_TIMEOUT cannot exceed ${tcpLimits.maxUserTimeoutMs} ms (${human(tcpLimits.maxUserTimeoutMs)}): TCP_KEEPCNT lowered from ${was} to ${probes} so that count and user timeout agree (detects earlier).`,
    )
  }

  const detectionTime = grid()
  const lateBy = Math.max(0, detectionTime - asked)
  if (lateBy > 0) {
    warnings.push(
      `TCP cannot detect sooner than ${human(detectionTime)} (TCP_KEEPIDLE ${idleSeconds} s + ${probes} × TCP_KEEPINTVL ${intervalSeconds} s): that is ${human(lateBy)} later than the policy's ${human(asked)}.`,
    )
  }

  return Object.freeze({
    idleSeconds,
    intervalSeconds,
    probes,
    userTimeoutMs: detectionTime,
    detectionTime,
    lateBy,
    warnings: Object.freeze(warnings),
  })
}

function describeRounding(
  warnings: string[],
  field: string,
  option: string,
  ms: number,
  result: ReturnType<typeof toUnits>,
  max: number,
): void {
  if (result.raised) {
    warnings.push(
      `${field} ${human(ms)} is below TCP's resolution of 1 s: ${option} is 1 s, the kernel's minimum (0 would mean the OS default, 7200 s idle).`,
    )
  } else if (result.capped) {
    warnings.push(`${field} ${human(ms)} is above ${option}'s maximum of ${max} s: ${option} is ${max} s.`)
  } else if (result.rounded) {
    warnings.push(`${field} ${human(ms)} rounded down to whole seconds: ${option} is ${result.value} s.`)
  }
}

// ---------------------------------------------------------------------------------------------
// Platform constants, so the tcp adapter passes numbers without re-deriving them.

/** The unit a socket option's value is in. */
export type TcpOptionUnit = 'seconds' | 'milliseconds' | 'count' | 'flag'

/** One socket option: `setsockopt(fd, level, option, value)`. */
export interface TcpSockoptSpec {
  readonly name: string
  readonly level: number
  readonly option: number
  readonly unit: TcpOptionUnit
  /** Largest value the kernel accepts (or the largest that is safe to pass). */
  readonly max: number
}

/** The keepalive socket options of one platform; `null` where the platform has no such option. */
export interface TcpPlatformOptions {
  /** SO_KEEPALIVE at SOL_SOCKET. */
  readonly keepalive: TcpSockoptSpec
  readonly idle: TcpSockoptSpec
  readonly interval: TcpSockoptSpec
  readonly count: TcpSockoptSpec
  /** A bound on unacknowledged data, in the platform's unit. */
  readonly userTimeout: TcpSockoptSpec | null
}

const INT32_MAX = 2 ** 31 - 1

const linux: TcpPlatformOptions = Object.freeze({
  keepalive: { name: 'SO_KEEPALIVE', level: 1, option: 9, unit: 'flag', max: 1 },
  idle: { name: 'TCP_KEEPIDLE', level: 6, option: 4, unit: 'seconds', max: 32_767 },
  interval: { name: 'TCP_KEEPINTVL', level: 6, option: 5, unit: 'seconds', max: 32_767 },
  count: { name: 'TCP_KEEPCNT', level: 6, option: 6, unit: 'count', max: 127 },
  userTimeout: { name: 'TCP_USER_TIMEOUT', level: 6, option: 18, unit: 'milliseconds', max: INT32_MAX },
} as const)

/**
 * xnu (bsd/netinet/tcp.h, tcp_usrreq.c). TCP_RXT_CONNDROPTIME is read in SECONDS (`optval * TCP_RETRANSHZ`):
 * net-keepalive passes milliseconds there, a timeout 1000× too long.
 */
const darwin: TcpPlatformOptions = Object.freeze({
  keepalive: { name: 'SO_KEEPALIVE', level: 0xffff, option: 0x8, unit: 'flag', max: 1 },
  idle: { name: 'TCP_KEEPALIVE', level: 6, option: 0x10, unit: 'seconds', max: 4_294_967 },
  interval: { name: 'TCP_KEEPINTVL', level: 6, option: 0x101, unit: 'seconds', max: 4_294_967 },
  count: { name: 'TCP_KEEPCNT', level: 6, option: 0x102, unit: 'count', max: INT32_MAX },
  userTimeout: { name: 'TCP_RXT_CONNDROPTIME', level: 6, option: 0x80, unit: 'seconds', max: 2_147_483 },
} as const)

/** FreeBSD (netinet/tcp.h): no user timeout. */
const freebsd: TcpPlatformOptions = Object.freeze({
  keepalive: { name: 'SO_KEEPALIVE', level: 0xffff, option: 0x8, unit: 'flag', max: 1 },
  idle: { name: 'TCP_KEEPIDLE', level: 6, option: 256, unit: 'seconds', max: 2_147_483 },
  interval: { name: 'TCP_KEEPINTVL', level: 6, option: 512, unit: 'seconds', max: 2_147_483 },
  count: { name: 'TCP_KEEPCNT', level: 6, option: 1024, unit: 'count', max: INT32_MAX },
  userTimeout: null,
} as const)

/** Windows (ws2ipdef.h), build 1709 and later: per-option, in seconds. TCP_MAXRT bounds retransmission, in seconds. */
const win32: TcpPlatformOptions = Object.freeze({
  keepalive: { name: 'SO_KEEPALIVE', level: 0xffff, option: 0x8, unit: 'flag', max: 1 },
  idle: { name: 'TCP_KEEPIDLE', level: 6, option: 3, unit: 'seconds', max: 2_147_483 },
  interval: { name: 'TCP_KEEPINTVL', level: 6, option: 17, unit: 'seconds', max: 2_147_483 },
  count: { name: 'TCP_KEEPCNT', level: 6, option: 16, unit: 'count', max: 255 },
  userTimeout: { name: 'TCP_MAXRT', level: 6, option: 5, unit: 'seconds', max: 2_147_483 },
} as const)

/** Keepalive socket options per `process.platform` value. A platform not listed has no known constants. */
export const tcpPlatformOptions: Readonly<Partial<Record<NodeJS.Platform, TcpPlatformOptions>>> =
  Object.freeze({
    linux,
    android: linux,
    darwin,
    freebsd,
    win32,
  })

/** One setsockopt call to make, value already in the option's unit. */
export interface TcpSockoptValue {
  readonly name: string
  readonly level: number
  readonly option: number
  readonly value: number
  readonly unit: TcpOptionUnit
}

/** What to pass on one platform for given settings: one setsockopt call per role, as in `TcpPlatformOptions`. */
export interface TcpPlatformValues {
  readonly platform: string
  /** SO_KEEPALIVE on (1). */
  readonly keepalive: TcpSockoptValue
  readonly idle: TcpSockoptValue
  readonly interval: TcpSockoptValue
  readonly count: TcpSockoptValue
  /** null where the platform has no user timeout (FreeBSD). */
  readonly userTimeout: TcpSockoptValue | null
  readonly warnings: readonly string[]
}

/**
 * The values to pass on `platform` for `settings`, each in that platform's unit and rounded down
 * (never later). Returns null for a platform with no known constants.
 */
export function tcpPlatformValues(
  settings: TcpSettings,
  platform: string = process.platform,
): TcpPlatformValues | null {
  // Own entries only: a name such as 'valueOf' must not read Object.prototype as a platform table.
  const spec = Object.hasOwn(tcpPlatformOptions, platform)
    ? tcpPlatformOptions[platform as NodeJS.Platform]
    : undefined
  if (spec === undefined) return null
  const warnings: string[] = []
  const sockopt = (s: TcpSockoptSpec, value: number): TcpSockoptValue =>
    Object.freeze({
      name: s.name,
      level: s.level,
      option: s.option,
      value: Math.min(value, s.max),
      unit: s.unit,
    })

  if (spec.count.max < settings.probes) {
    warnings.push(`${spec.count.name} is at most ${spec.count.max} on ${platform}: capped (detects earlier).`)
  }
  let userTimeout: TcpSockoptValue | null = null
  if (spec.userTimeout === null) {
    warnings.push(
      `${platform} has no TCP_USER_TIMEOUT: a dead peer with unacknowledged data in flight is found only by retransmission timeouts.`,
    )
  } else {
    const value =
      spec.userTimeout.unit === 'seconds'
        ? Math.max(1, Math.floor(settings.userTimeoutMs / 1000))
        : settings.userTimeoutMs
    userTimeout = sockopt(spec.userTimeout, value)
  }

  return Object.freeze({
    platform,
    keepalive: sockopt(spec.keepalive, 1),
    idle: sockopt(spec.idle, settings.idleSeconds),
    interval: sockopt(spec.interval, settings.intervalSeconds),
    count: sockopt(spec.count, settings.probes),
    userTimeout,
    warnings: Object.freeze(warnings),
  })
}

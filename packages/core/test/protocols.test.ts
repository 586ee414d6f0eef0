// TCP arithmetic and the platform table: exact numbers for each preset and for the edges.
import { describe, expect, test } from 'vitest'
import { presets } from '../src/policy.js'
import {
  type TcpPlatformValues,
  type TcpSockoptValue,
  tcpPlatformOptions,
  tcpPlatformValues,
  tcpSettings,
} from '../src/protocols/tcp.js'
import type { Policy } from '../src/types.js'

function policy(idle: number, interval: number, probes: number): Policy {
  return Object.freeze({ idle, interval, probes, jitter: 0, preset: undefined })
}

describe('tcpSettings: presets', () => {
  test.each([
    ['fast', 5, 1, 3, 8_000],
    ['balanced', 30, 10, 3, 60_000],
    ['battery', 210, 30, 3, 300_000],
    ['linux-default', 7200, 75, 9, 7_875_000],
  ] as const)('%s → %i s / %i s / %i, user timeout %i ms', (name, idle, interval, probes, detection) => {
    const t = tcpSettings(presets[name])
    expect(t).toEqual({
      idleSeconds: idle,
      intervalSeconds: interval,
      probes,
      userTimeoutMs: detection,
      detectionTime: detection,
      lateBy: 0,
      warnings: [],
    })
    expect(Object.isFrozen(t)).toBe(true)
  })
})

describe('tcpSettings: rounding never detects later', () => {
  test('fractional seconds are floored, with a warning', () => {
    const t = tcpSettings(policy(30_500, 10_900, 3))
    expect([t.idleSeconds, t.intervalSeconds, t.probes, t.detectionTime]).toEqual([30, 10, 3, 60_000])
    expect(t.warnings).toEqual([
      'idle 30.5s rounded down to whole seconds: TCP_KEEPIDLE is 30 s.',
      'interval 10.9s rounded down to whole seconds: TCP_KEEPINTVL is 10 s.',
    ])
  })

  test('1.5 s idle and interval become 1 s', () => {
    const t = tcpSettings(policy(1_500, 1_500, 1))
    expect([t.idleSeconds, t.intervalSeconds, t.probes, t.userTimeoutMs, t.lateBy]).toEqual([
      1, 1, 1, 2_000, 0,
    ])
  })

  test('a sub-second idle becomes 1 s (never 0, the OS default) and the interval absorbs it', () => {
    // 500 ms + 3 × 10 s = 30.5 s; 1 s + 3 × 10 s would be 31 s, so TCP_KEEPINTVL drops to 9 s: 28 s.
    const t = tcpSettings(policy(500, 10_000, 3))
    expect([t.idleSeconds, t.intervalSeconds, t.probes, t.detectionTime, t.lateBy]).toEqual([
      1, 9, 3, 28_000, 0,
    ])
    expect(t.warnings[0]).toMatch(/idle 500ms is below TCP's resolution of 1 s: TCP_KEEPIDLE is 1 s/)
    expect(t.warnings[1]).toMatch(/TCP_KEEPINTVL lowered from 10 s to 9 s/)
  })

  test('a sub-second interval sends fewer probes, keeping idle', () => {
    // 5 s + 3 × 500 ms = 6.5 s: one probe 1 s after 5 s fits (6 s); three would take 8 s.
    const t = tcpSettings(policy(5_000, 500, 3))
    expect([t.idleSeconds, t.intervalSeconds, t.probes, t.detectionTime, t.lateBy]).toEqual([
      5, 1, 1, 6_000, 0,
    ])
    expect(t.warnings[1]).toMatch(/TCP_KEEPCNT lowered from 3 to 1/)
  })

  test('a sub-second interval with many probes keeps about the same probing time', () => {
    // 200 s + 127 × 100 ms = 212.7 s → 200 s + 12 × 1 s = 212 s.
    const t = tcpSettings(policy(200_000, 100, 127))
    expect([t.idleSeconds, t.intervalSeconds, t.probes, t.detectionTime]).toEqual([200, 1, 12, 212_000])
  })

  test('1.5 s idle with a sub-second interval uses the half second floored off idle', () => {
    const t = tcpSettings(policy(1_500, 500, 3)) // asked 3 s
    expect([t.idleSeconds, t.intervalSeconds, t.probes, t.detectionTime]).toEqual([1, 1, 2, 3_000])
  })

  test('below 2 s TCP is late, and says by exactly how much', () => {
    const t = tcpSettings(policy(500, 300, 1)) // asked 800 ms
    expect([t.idleSeconds, t.intervalSeconds, t.probes, t.detectionTime, t.lateBy]).toEqual([
      1, 1, 1, 2_000, 1_200,
    ])
    expect(t.warnings.at(-1)).toBe(
      "TCP cannot detect sooner than 2s (TCP_KEEPIDLE 1 s + 1 × TCP_KEEPINTVL 1 s): that is 1.2s later than the policy's 800ms.",
    )
  })
})

describe('tcpSettings: counts and caps', () => {
  test('probes 1', () => {
    expect(tcpSettings(policy(30_000, 10_000, 1)).userTimeoutMs).toBe(40_000)
  })

  test('probes 127 is kept; 128 is capped at 127 with a warning', () => {
    expect(tcpSettings(policy(10_000, 1_000, 127))).toMatchObject({ probes: 127, warnings: [] })
    const t = tcpSettings(policy(10_000, 1_000, 128))
    expect([t.probes, t.detectionTime]).toEqual([127, 137_000])
    expect(t.warnings).toEqual([
      "probes 128 is above TCP_KEEPCNT's maximum of 127: TCP_KEEPCNT is 127 (detects earlier).",
    ])
  })

  test('idle and interval above 32767 s are capped', () => {
    const t = tcpSettings(policy(40_000_000, 40_000_000, 1))
    expect([t.idleSeconds, t.intervalSeconds, t.detectionTime]).toEqual([32_767, 32_767, 65_534_000])
    expect(t.warnings).toHaveLength(2)
  })

  test('TCP_USER_TIMEOUT stays an int of ms: the count is lowered so both agree', () => {
    const max = 2 ** 31 - 1
    const t = tcpSettings(policy(max, max, 1000))
    // (2147483 − 32767) / 32767 = 64.5 → 64 probes: 32767 + 64 × 32767 s.
    expect([t.idleSeconds, t.intervalSeconds, t.probes]).toEqual([32_767, 32_767, 64])
    expect(t.userTimeoutMs).toBe(2_129_855_000)
    expect(t.userTimeoutMs).toBeLessThanOrEqual(max)
    expect(t.warnings.at(-1)).toMatch(/TCP_USER_TIMEOUT cannot exceed 2147483647 ms/)
  })
})

describe('tcpPlatformValues', () => {
  const balanced = tcpSettings(presets.balanced)
  /** The calls to make, in the order a caller makes them (SO_KEEPALIVE first, the user timeout where there is one). */
  const sockopts = (v: TcpPlatformValues | null): TcpSockoptValue[] =>
    v === null ? [] : [v.keepalive, v.idle, v.interval, v.count, ...(v.userTimeout ? [v.userTimeout] : [])]

  test('linux: level/option numbers and TCP_USER_TIMEOUT in ms', () => {
    const v = tcpPlatformValues(balanced, 'linux')
    expect(v).toEqual({
      platform: 'linux',
      keepalive: { name: 'SO_KEEPALIVE', level: 1, option: 9, value: 1, unit: 'flag' },
      idle: { name: 'TCP_KEEPIDLE', level: 6, option: 4, value: 30, unit: 'seconds' },
      interval: { name: 'TCP_KEEPINTVL', level: 6, option: 5, value: 10, unit: 'seconds' },
      count: { name: 'TCP_KEEPCNT', level: 6, option: 6, value: 3, unit: 'count' },
      userTimeout: { name: 'TCP_USER_TIMEOUT', level: 6, option: 18, value: 60_000, unit: 'milliseconds' },
      warnings: [],
    })
    expect(v?.warnings).toEqual([])
    expect(tcpPlatformOptions.android).toBe(tcpPlatformOptions.linux)
  })

  test('darwin: TCP_KEEPALIVE for idle and TCP_RXT_CONNDROPTIME in SECONDS', () => {
    const v = tcpPlatformValues(balanced, 'darwin')
    expect(sockopts(v).map((s) => [s.name, s.level, s.option, s.value])).toEqual([
      ['SO_KEEPALIVE', 0xffff, 0x8, 1],
      ['TCP_KEEPALIVE', 6, 0x10, 30],
      ['TCP_KEEPINTVL', 6, 0x101, 10],
      ['TCP_KEEPCNT', 6, 0x102, 3],
      ['TCP_RXT_CONNDROPTIME', 6, 0x80, 60],
    ])
  })

  test('win32: per-option seconds, TCP_MAXRT in seconds', () => {
    const v = tcpPlatformValues(balanced, 'win32')
    expect(sockopts(v).map((s) => [s.name, s.option, s.value])).toEqual([
      ['SO_KEEPALIVE', 0x8, 1],
      ['TCP_KEEPIDLE', 3, 30],
      ['TCP_KEEPINTVL', 17, 10],
      ['TCP_KEEPCNT', 16, 3],
      ['TCP_MAXRT', 5, 60],
    ])
  })

  test('freebsd: no user timeout, and a warning saying so', () => {
    const v = tcpPlatformValues(balanced, 'freebsd')
    expect(sockopts(v).map((s) => s.option)).toEqual([0x8, 256, 512, 1024])
    expect(v?.userTimeout).toBeNull()
    expect(v?.warnings[0]).toMatch(/no TCP_USER_TIMEOUT/)
  })

  test('an unknown platform gives null; the default is this process', () => {
    expect(tcpPlatformValues(balanced, 'aix')).toBeNull()
    expect(tcpPlatformValues(balanced)?.platform).toBe(process.platform)
  })
})

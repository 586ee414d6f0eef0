// explain(): per protocol, the native settings, the detection time they give, probes per idle hour,
// warnings and a summary — deterministic, JSON-serialisable data.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { InvalidArgumentError, InvalidPolicyError } from '../src/errors.js'
import { explain } from '../src/explain.js'
import { presets } from '../src/policy.js'

const byProtocol = (e: ReturnType<typeof explain>) =>
  Object.fromEntries(e.protocols.map((p) => [p.protocol, p]))

describe('explain: balanced', () => {
  const e = explain('balanced')
  const p = byProtocol(e)

  test('the policy, its detection time, all four protocols in a fixed order', () => {
    expect(e.policy).toBe(presets.balanced)
    expect(e.detectionTime).toBe(60_000)
    expect(e.pathIdleTimeout).toBeNull()
    expect(e.protocols.map((x) => x.protocol)).toEqual(['tcp', 'http', 'mqtt', 'ssh'])
  })

  test('native names and units', () => {
    expect(p.tcp?.settings).toEqual({
      TCP_KEEPIDLE: 30,
      TCP_KEEPINTVL: 10,
      TCP_KEEPCNT: 3,
      TCP_USER_TIMEOUT: 60_000,
    })
    expect(p.http?.settings).toEqual({
      freeSocketTimeout: 30_000,
      reuseSockets: true,
      'undici.keepAliveTimeout': 30_000,
      'undici.keepAliveMaxTimeout': 30_000,
      'undici.keepAliveTimeoutThreshold': 2_000,
      'server.keepAliveTimeout': 65_000,
      'server.headersTimeout': 66_000,
      'server.requestTimeout': 300_000,
      TCP_KEEPIDLE: 30,
      TCP_KEEPINTVL: 10,
      TCP_KEEPCNT: 3,
      TCP_USER_TIMEOUT: 60_000,
    })
    expect(p.mqtt?.settings).toEqual({
      keepalive: 30,
      'monitor.idle': 30_000,
      'monitor.pingrespTimeout': 10_000,
      'monitor.probes': 3,
      brokerTimeout: 45_000,
    })
    expect(p.ssh?.settings).toEqual({
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      ServerAliveInterval: 15,
      ServerAliveCountMax: 3,
      ClientAliveInterval: 15,
      ClientAliveCountMax: 3,
    })
  })

  test('detection times, probes per idle hour, first probe', () => {
    expect(
      e.protocols.map((x) => [x.protocol, x.detectionTime, x.lateBy, x.probesPerIdleHour, x.firstProbeAfter]),
    ).toEqual([
      ['tcp', 60_000, 0, 120, 30_000],
      ['http', 60_000, 0, 120, 30_000],
      ['mqtt', 60_000, 0, 120, 30_000],
      // watchSsh: the policy's idle (ssh2's own keepalive would probe after 15 s: the settings and warnings say so).
      ['ssh', 60_000, 0, 120, 30_000],
    ])
  })

  test('one sentence each', () => {
    expect(p.tcp?.summary).toBe(
      'TCP probes after 30 s of silence, then every 10 s, and drops the connection after 3 unanswered probes (TCP_USER_TIMEOUT 60000 ms agrees): a dead peer is found within 1m.',
    )
    expect(p.ssh?.summary).toBe(
      "With watchSsh, a keepalive@openssh.com request goes out after 30s of silence, then every 10s, and a dead peer is found after 3 unanswered probes, within 1m. ssh2's own keepalive and OpenSSH have one interval: with the settings below they probe after every 15s of silence and find a dead peer within 4 × 15s = 1m (OpenSSH, in whole seconds: 15 s × 3, 1m).",
    )
    for (const x of e.protocols) expect(x.summary).toMatch(/^[A-Z][\s\S]*\.$/)
  })

  test('deterministic and JSON-serialisable', () => {
    const again = explain('balanced')
    expect(again).toEqual(e)
    const json = JSON.stringify(e)
    expect(json).toBe(JSON.stringify(again))
    expect(JSON.parse(json)).toEqual(e)
  })
})

describe('explain: presets and inputs', () => {
  test.each([
    ['fast', 8_000, [5, 1, 3], 2_000],
    ['battery', 300_000, [210, 30, 3], 75_000],
    ['linux-default', 7_875_000, [7200, 75, 9], 787_500],
  ] as const)('%s', (name, detection, tcp, sshInterval) => {
    const p = byProtocol(explain(name))
    expect(p.tcp?.detectionTime).toBe(detection)
    expect([
      p.tcp?.settings.TCP_KEEPIDLE,
      p.tcp?.settings.TCP_KEEPINTVL,
      p.tcp?.settings.TCP_KEEPCNT,
    ]).toEqual(tcp)
    expect(p.ssh?.settings.keepaliveInterval).toBe(sshInterval)
    expect(p.mqtt?.settings.keepalive).toBe(tcp[0])
  })

  test('undefined is balanced; inputs with strings go through definePolicy', () => {
    expect(explain()).toEqual(explain('balanced'))
    expect(explain({ idle: '30s', interval: '10s', probes: 3 }).protocols).toEqual(
      explain('balanced').protocols,
    )
  })

  test('sub-second: TCP says it is late and by how much; MQTT and ssh2 are not late', () => {
    const e = explain({ idle: '500ms', interval: '300ms', probes: 1 })
    const p = byProtocol(e)
    expect(e.detectionTime).toBe(800)
    expect([p.tcp?.detectionTime, p.tcp?.lateBy]).toEqual([2_000, 1_200])
    expect(p.tcp?.warnings).toContain(
      "TCP cannot detect sooner than 2s (TCP_KEEPIDLE 1 s + 1 × TCP_KEEPINTVL 1 s): that is 1.2s later than the policy's 800ms.",
    )
    expect([p.mqtt?.detectionTime, p.mqtt?.lateBy, p.mqtt?.settings.keepalive]).toEqual([800, 0, 1])
    expect([p.ssh?.detectionTime, p.ssh?.lateBy]).toEqual([800, 0])
  })

  test("TCP's compromises are listed once, under tcp, when both tcp and http are explained", () => {
    const policy = { idle: '500ms', interval: '10s', probes: 3 } as const
    const both = byProtocol(explain(policy))
    const httpOnly = byProtocol(explain(policy, { protocols: ['http'] }))
    const tcpWarning = both.tcp?.warnings[0] ?? ''
    expect(tcpWarning).toMatch(/below TCP's resolution/)
    expect(both.http?.warnings).not.toContain(tcpWarning)
    expect(httpOnly.http?.warnings).toContain(tcpWarning)
  })

  test('an invalid policy throws InvalidPolicyError', () => {
    expect(() => explain({ idle: 'ten seconds' })).toThrow(InvalidPolicyError)
    expect(() => explain('nope' as never)).toThrow(InvalidPolicyError)
  })
})

describe('explain: options', () => {
  test('protocols: a subset, still in the fixed order', () => {
    expect(explain('fast', { protocols: ['ssh', 'tcp', 'ssh'] }).protocols.map((x) => x.protocol)).toEqual([
      'tcp',
      'ssh',
    ])
    expect(explain('fast', { protocols: [] }).protocols).toEqual([])
  })

  test.each([['smtp'], 'tcp', [1]])('protocols %j throws InvalidArgumentError', (protocols) => {
    expect(() => explain('fast', { protocols: protocols as never })).toThrow(InvalidArgumentError)
  })

  test.each([null, 5])('options %j throws InvalidArgumentError', (options) => {
    expect(() => explain('fast', options as never)).toThrow(InvalidArgumentError)
  })

  test('pathIdleTimeout: idle at or above it warns, per protocol, and TCP probes do not keep LBs alive', () => {
    const e = explain('balanced', { pathIdleTimeout: 20_000 })
    const p = byProtocol(e)
    expect(e.pathIdleTimeout).toBe(20_000)
    const pathWarning =
      "The first probe comes after 30s, at or above the path's idle timeout of 20s: a middlebox drops the connection first. Choose an idle below 20s."
    expect(p.tcp?.warnings).toContain(pathWarning)
    expect(p.mqtt?.warnings).toContain(pathWarning)
    // watchSsh's first probe comes at the policy's idle too (ssh2's own keepalive's, after 15 s, would not warn).
    expect(p.ssh?.warnings).toContain(pathWarning)
    // HTTP retires idle sockets before the path does: 20 s − 2 s.
    expect(p.http?.settings.freeSocketTimeout).toBe(18_000)
    expect(p.http?.warnings.some((w) => w.includes('middlebox'))).toBe(false)
    for (const x of [p.tcp, p.http]) expect(x?.warnings.some((w) => w.includes('load balancers'))).toBe(true)
  })

  test('exactly at the path timeout counts as too late', () => {
    const p = byProtocol(explain('balanced', { pathIdleTimeout: 30_000, protocols: ['tcp'] }))
    expect(p.tcp?.warnings.some((w) => w.includes('at or above'))).toBe(true)
  })

  test('no path warnings without a path', () => {
    for (const x of explain('battery').protocols) {
      expect(x.warnings.some((w) => w.includes('middlebox') || w.includes('load balancers'))).toBe(false)
    }
  })

  test.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, '60s'])('pathIdleTimeout %j throws', (v) => {
    expect(() => explain('fast', { pathIdleTimeout: v as never })).toThrow(InvalidArgumentError)
  })
})

test('property: for any valid policy input, every protocol is on time or says how late, and the result is JSON', () => {
  const ms = fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }))
  fc.assert(
    fc.property(
      fc.record({ idle: ms, interval: ms, probes: fc.integer({ min: 1, max: 1000 }) }),
      fc.option(fc.integer({ min: 1, max: 10_000_000 }), { nil: undefined }),
      (input, path) => {
        const e = explain(input, path === undefined ? {} : { pathIdleTimeout: path })
        expect(JSON.parse(JSON.stringify(e))).toEqual(e)
        for (const x of e.protocols) {
          expect(x.lateBy).toBe(Math.max(0, x.detectionTime - e.detectionTime))
          if (x.lateBy > 0) expect(x.warnings.some((w) => w.includes('later than'))).toBe(true)
          for (const v of Object.values(x.settings)) {
            if (typeof v === 'number') expect(Number.isInteger(v) && v >= 0).toBe(true)
          }
          if (path !== undefined && x.firstProbeAfter >= path) {
            expect(x.warnings.some((w) => w.includes("path's idle timeout"))).toBe(true)
          }
        }
      },
    ),
    { numRuns: 500 },
  )
})

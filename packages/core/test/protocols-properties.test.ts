// Properties over every valid policy: each protocol detects no later than the policy unless a warning
// says it is later and by how much, and every setting is inside its native range and an integer where
// the protocol needs one.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { formatDuration } from '../src/duration.js'
import { httpClientSettings, httpServerTimeouts } from '../src/protocols/http.js'
import { mqttSettings, mqttSettingsForServerKeepAlive } from '../src/protocols/mqtt.js'
import { sshSettings } from '../src/protocols/ssh.js'
import { tcpPlatformOptions, tcpPlatformValues, tcpSettings } from '../src/protocols/tcp.js'
import type { Policy } from '../src/types.js'

const MAX_MS = 2 ** 31 - 1
/** OpenSSH's *AliveCountMax is an int; ssh2's count is held to the same. */
const MAX_COUNT = 2 ** 31 - 1

/** Durations as definePolicy produces them: whole ms, 1..2³¹−1, biased towards the interesting edges. */
const duration = fc.oneof(
  fc.integer({ min: 1, max: 2_999 }),
  fc.integer({ min: 1, max: 600_000 }),
  fc.integer({ min: 1, max: MAX_MS }),
  fc.constantFrom(1, 999, 1_000, 1_001, 1_500, 32_767_000, 32_768_000, 65_535_000, 65_536_000, MAX_MS),
)
const arbPolicy: fc.Arbitrary<Policy> = fc
  .record({
    idle: duration,
    interval: duration,
    probes: fc.oneof(
      fc.integer({ min: 1, max: 10 }),
      fc.integer({ min: 1, max: 1000 }),
      fc.constantFrom(126, 127, 128),
    ),
    jitter: fc.double({ min: 0, max: 0.5, noNaN: true }),
  })
  .map((p) => Object.freeze({ ...p, preset: undefined }))

const asked = (p: Policy) => p.idle + p.interval * p.probes
const isInt = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max

/** Late only with a warning that says "later" and gives the exact lateness. */
function expectHonest(detection: number, lateBy: number, p: Policy, warnings: readonly string[]): void {
  expect(lateBy).toBe(Math.max(0, detection - asked(p)))
  if (lateBy > 0) {
    expect(warnings.some((w) => w.includes('later') && w.includes(formatDuration(lateBy)))).toBe(true)
  }
}

const runs = { numRuns: 2_000 }

describe('every valid policy', () => {
  test('tcp: integer settings in Linux ranges, user timeout = detection on the grid, late only under 2 s', () => {
    fc.assert(
      fc.property(arbPolicy, (p) => {
        const t = tcpSettings(p)
        expect(isInt(t.idleSeconds, 1, 32_767)).toBe(true)
        expect(isInt(t.intervalSeconds, 1, 32_767)).toBe(true)
        expect(isInt(t.probes, 1, 127)).toBe(true)
        expect(isInt(t.userTimeoutMs, 2_000, MAX_MS)).toBe(true)
        expect(t.detectionTime).toBe((t.idleSeconds + t.intervalSeconds * t.probes) * 1000)
        expect(t.userTimeoutMs).toBe(t.detectionTime)
        expectHonest(t.detectionTime, t.lateBy, p, t.warnings)
        // The only unavoidable lateness is TCP's 2 s floor.
        if (asked(p) >= 2_000) expect(t.lateBy).toBe(0)
        else expect(t.detectionTime).toBe(2_000)
        // Rounding only ever lowers a setting that was at least 1 s.
        if (p.idle >= 1_000) expect(t.idleSeconds * 1000).toBeLessThanOrEqual(p.idle)
        if (p.interval >= 1_000) expect(t.intervalSeconds * 1000).toBeLessThanOrEqual(p.interval)
        expect(t.probes).toBeLessThanOrEqual(p.probes)
      }),
      runs,
    )
  })

  test('tcp platform values: integers within each option range, user timeout never later', () => {
    const platforms = Object.keys(tcpPlatformOptions)
    fc.assert(
      fc.property(arbPolicy, fc.constantFrom(...platforms), (p, platform) => {
        const t = tcpSettings(p)
        const v = tcpPlatformValues(t, platform)
        expect(v).not.toBeNull()
        const calls = v === null ? [] : [v.keepalive, v.idle, v.interval, v.count, v.userTimeout]
        for (const s of calls) if (s !== null) expect(isInt(s.value, 0, 2 ** 32 - 1)).toBe(true)
        const user = v?.userTimeout
        if (user) {
          const ms = user.unit === 'seconds' ? user.value * 1000 : user.value
          expect(ms).toBeLessThanOrEqual(t.userTimeoutMs)
        }
      }),
      runs,
    )
  })

  test('ssh: ssh2 intervals are valid timer delays, counts ≥ 1, OpenSSH whole seconds; late only under 2 units', () => {
    fc.assert(
      fc.property(arbPolicy, (p) => {
        const s = sshSettings(p)
        expect(isInt(s.client.keepaliveInterval, 1, MAX_MS)).toBe(true)
        expect(isInt(s.client.keepaliveCountMax, 1, MAX_COUNT)).toBe(true)
        expect(s.server).toEqual(s.client)
        expect(s.detectionTime).toBe((s.probes + 1) * s.intervalMs)
        expectHonest(s.detectionTime, s.lateBy, p, s.warnings)
        expect(s.detectionTime).toBeLessThanOrEqual(asked(p)) // policy durations are ≥ 1 ms, so (probes + 1) ms always fits
        expect(s.lateBy).toBe(0)
        const o = s.openSsh
        expect(isInt(o.intervalSeconds, 1, 2_147_483)).toBe(true)
        expect(isInt(o.countMax, 1, MAX_COUNT)).toBe(true)
        expect(o.detectionTime).toBe((o.countMax + 1) * o.intervalSeconds * 1000)
        expectHonest(o.detectionTime, o.lateBy, p, s.warnings)
        if (asked(p) >= 2_000) expect(o.lateBy).toBe(0)
        if (o.lateBy === 0) expect(o.detectionTime).toBeLessThanOrEqual(asked(p))
        expect(o.client).toEqual([
          `ServerAliveInterval ${o.intervalSeconds}`,
          `ServerAliveCountMax ${o.countMax}`,
        ])
      }),
      runs,
    )
  })

  test('ssh: the first probe never comes after idle (OpenSSH: unless idle is under its 1 s minimum)', () => {
    fc.assert(
      fc.property(arbPolicy, (p) => {
        const s = sshSettings(p)
        const o = s.openSsh
        expect(s.intervalMs).toBeLessThanOrEqual(p.idle)
        expect(o.intervalSeconds * 1000).toBeLessThanOrEqual(Math.max(p.idle, 1_000))
        if (p.idle < 1_000) {
          expect(o.intervalSeconds).toBe(1)
          expect(s.warnings.some((w) => w.includes('the first probe comes after 1 s instead of'))).toBe(true)
        }
        // Fewer probes than asked only where OpenSSH's 1 s minimum forces it; more only when held at idle.
        if (s.probes > p.probes) expect(s.intervalMs).toBe(p.idle)
        expect(s.probes).toBeGreaterThanOrEqual(p.probes)
        if (o.countMax > p.probes) expect(o.intervalSeconds).toBe(Math.max(1, Math.floor(p.idle / 1_000)))
        // Where the count was changed to fit, no further interval fits: the closest detection never later.
        for (const [count, intervalMs, detection] of [
          [s.probes, s.intervalMs, s.detectionTime],
          [o.countMax, o.intervalSeconds * 1000, o.detectionTime],
        ] as const) {
          if (count !== p.probes && count < MAX_COUNT && detection <= asked(p)) {
            expect(detection + intervalMs).toBeGreaterThan(asked(p))
          }
        }
      }),
      runs,
    )
  })

  test('mqtt: Keep Alive 1..65535, never later, the monitor never probes after idle', () => {
    fc.assert(
      fc.property(arbPolicy, (p) => {
        const m = mqttSettings(p)
        expect(isInt(m.keepalive, 1, 65_535)).toBe(true)
        expect(m.mqttjsKeepalive).toBe(m.keepalive)
        expect(m.monitor.idle).toBeLessThanOrEqual(p.idle)
        expect(m.monitor.idle).toBeLessThanOrEqual(m.keepalive * 1000)
        expect(m.detectionTime).toBeLessThanOrEqual(asked(p))
        expect(m.lateBy).toBe(0)
        expect(m.brokerDetectionTime).toBe(m.keepalive * 1500)
        expect(Object.isFrozen(m.monitor)).toBe(true)
      }),
      runs,
    )
  })

  test('mqtt with any Server Keep Alive: the server value is used, detection never later', () => {
    fc.assert(
      fc.property(arbPolicy, fc.integer({ min: 0, max: 65_535 }), (p, server) => {
        const m = mqttSettingsForServerKeepAlive(p, server)
        expect(m.keepalive).toBe(server)
        expect(m.detectionTime).toBeLessThanOrEqual(asked(p))
        if (server > 0) expect(m.monitor.idle).toBeLessThanOrEqual(server * 1000)
        else expect(m.brokerDetectionTime).toBeNull()
      }),
      runs,
    )
  })

  test('http: the client closes idle sockets before the server and the path do; the server outlives both', () => {
    const opt = fc.option(fc.integer({ min: 0, max: MAX_MS }), { nil: undefined })
    fc.assert(
      fc.property(arbPolicy, opt, opt, (p, server, path) => {
        const c = httpClientSettings(p, { serverKeepAliveTimeout: server, pathIdleTimeout: path })
        expect(isInt(c.freeSocketTimeout, 0, MAX_MS)).toBe(true)
        expect(c.freeSocketTimeout).toBeLessThanOrEqual(p.idle)
        if (server !== undefined && c.reuseSockets) expect(c.freeSocketTimeout).toBeLessThan(server)
        if (path !== undefined && c.reuseSockets) expect(c.freeSocketTimeout).toBeLessThan(path)
        expect(c.reuseSockets).toBe(c.freeSocketTimeout > 0)
        expect(c.undici.keepAliveMaxTimeout).toBe(c.freeSocketTimeout)
        const s = httpServerTimeouts(p, { pathIdleTimeout: path })
        expect(isInt(s.keepAliveTimeout, 1, MAX_MS)).toBe(true)
        expect(s.keepAliveTimeout).toBeGreaterThan(c.freeSocketTimeout)
        if (path !== undefined && path <= MAX_MS - 6_000) expect(s.keepAliveTimeout).toBeGreaterThan(path)
        else if (path !== undefined) expect(s.warnings.some((w) => w.includes('does not outlive'))).toBe(true)
        expect(s.headersTimeout).toBeGreaterThan(s.keepAliveTimeout)
        expect(s.requestTimeout).toBeGreaterThanOrEqual(s.headersTimeout)
      }),
      runs,
    )
  })
})

// SSH and MQTT arithmetic: exact numbers for each preset and for the edges.
import { describe, expect, test } from 'vitest'
import { policyFor } from '../src/config/load-config.js'
import { parseConfig } from '../src/config/parse-config.js'
import { InvalidArgumentError } from '../src/errors.js'
import { explain } from '../src/explain.js'
import { presets } from '../src/policy.js'
import { mqttSettings, mqttSettingsForServerKeepAlive } from '../src/protocols/mqtt.js'
import { sshSettings } from '../src/protocols/ssh.js'
import type { Policy } from '../src/types.js'

function policy(idle: number, interval: number, probes: number): Policy {
  return Object.freeze({ idle, interval, probes, jitter: 0, preset: undefined })
}

describe('sshSettings', () => {
  test.each([
    ['fast', 2_000, 3, 8_000, 1800],
    ['balanced', 15_000, 3, 60_000, 240],
    ['battery', 75_000, 3, 300_000, 48],
  ] as const)('%s → one interval of %i ms × %i', (name, interval, count, detection, perHour) => {
    const s = sshSettings(presets[name])
    expect(s.client).toEqual({ keepaliveInterval: interval, keepaliveCountMax: count })
    expect(s.server).toEqual(s.client)
    expect([s.detectionTime, s.lateBy, s.probesPerIdleHour]).toEqual([detection, 0, perHour])
    expect(s.openSsh).toEqual({
      intervalSeconds: interval / 1000,
      countMax: count,
      detectionTime: detection,
      lateBy: 0,
      client: [`ServerAliveInterval ${interval / 1000}`, `ServerAliveCountMax ${count}`],
      server: [`ClientAliveInterval ${interval / 1000}`, `ClientAliveCountMax ${count}`],
    })
  })

  test('one interval means the first probe comes before idle: a warning gives the cost', () => {
    expect(sshSettings(presets.balanced).warnings).toEqual([
      "SSH has one interval: the first probe comes after 15s of silence instead of the policy's idle 30s, so an idle connection gets 240 probes an hour instead of 120.",
    ])
  })

  test('linux-default: ssh2 in ms is exact, OpenSSH floors to whole seconds', () => {
    const s = sshSettings(presets['linux-default']) // 7875 s / 10
    expect(s.client).toEqual({ keepaliveInterval: 787_500, keepaliveCountMax: 9 })
    expect(s.detectionTime).toBe(7_875_000)
    expect([s.openSsh.intervalSeconds, s.openSsh.countMax, s.openSsh.detectionTime]).toEqual([
      787, 9, 7_870_000,
    ])
    expect(s.warnings.at(-1)).toBe(
      "OpenSSH's *AliveInterval is whole seconds: 13m7.5s rounded down to 787 s, so OpenSSH detects in 2h11m10s (ssh2: 2h11m15s).",
    )
  })

  test('probes 1: two intervals', () => {
    const s = sshSettings(policy(30_000, 10_000, 1))
    expect(s.client).toEqual({ keepaliveInterval: 20_000, keepaliveCountMax: 1 })
    expect(s.detectionTime).toBe(40_000)
  })

  describe('interval longer than idle: the first probe still comes at idle, with more probes', () => {
    test('30 s / 90 s / 3: 30 s × 9 (was 75 s × 3, a first probe 45 s after idle)', () => {
      const s = sshSettings(policy(30_000, 90_000, 3)) // 300 s
      expect(s.client).toEqual({ keepaliveInterval: 30_000, keepaliveCountMax: 9 })
      expect([s.intervalMs, s.probes, s.detectionTime, s.lateBy, s.probesPerIdleHour]).toEqual([
        30_000, 9, 300_000, 0, 120,
      ])
      expect(s.openSsh).toEqual({
        intervalSeconds: 30,
        countMax: 9,
        detectionTime: 300_000,
        lateBy: 0,
        client: ['ServerAliveInterval 30', 'ServerAliveCountMax 9'],
        server: ['ClientAliveInterval 30', 'ClientAliveCountMax 9'],
      })
      // The interval is idle: no "first probe comes earlier than idle" warning, one saying what changed.
      expect(s.warnings).toEqual([
        "SSH has one interval, and the policy's interval 1m30s is longer than its idle 30s: so that the first probe comes no later than idle (a middlebox may drop a connection silent for longer), SSH probes after every 30s of silence and gives up after 9 unanswered probes instead of 3: 10 × 30s = 5m.",
      ])
    })

    test('the config that a 60 s middlebox used to break: SSH probes at 30 s, 9 × , detection 300 s', () => {
      const config = parseConfig('policy: {idle: 30s, interval: 90s, probes: 3}\npath: {idleTimeout: 60s}')
      const s = sshSettings(policyFor(config, 'ssh'))
      expect([s.intervalMs, s.client.keepaliveCountMax, s.detectionTime]).toEqual([30_000, 9, 300_000])
      expect([s.openSsh.intervalSeconds, s.openSsh.countMax, s.openSsh.detectionTime]).toEqual([
        30, 9, 300_000,
      ])
      const e = explain(config.policy, { protocols: ['ssh'], pathIdleTimeout: 60_000 }).protocols[0]
      expect([e?.firstProbeAfter, e?.detectionTime, e?.lateBy]).toEqual([30_000, 300_000, 0])
      expect(e?.settings).toMatchObject({ ServerAliveInterval: 30, ServerAliveCountMax: 9 })
      expect(e?.warnings.some((w) => w.includes("path's idle timeout"))).toBe(false)
    })

    test('1 s / 10 s / 3: 1 s × 30 (was 7.75 s × 3), OpenSSH agrees', () => {
      const s = sshSettings(policy(1_000, 10_000, 3)) // 31 s
      expect(s.client).toEqual({ keepaliveInterval: 1_000, keepaliveCountMax: 30 })
      expect(s.detectionTime).toBe(31_000)
      expect([s.openSsh.intervalSeconds, s.openSsh.countMax, s.openSsh.detectionTime]).toEqual([
        1, 30, 31_000,
      ])
      expect(s.warnings).toHaveLength(1)
    })

    test('fractional idle: ssh2 keeps idle exactly and fits 8 probes, OpenSSH floors to 30 s and fits 9', () => {
      const s = sshSettings(policy(30_500, 90_000, 3)) // 300.5 s
      expect([s.intervalMs, s.probes, s.detectionTime, s.lateBy]).toEqual([30_500, 8, 274_500, 0])
      expect([s.openSsh.intervalSeconds, s.openSsh.countMax, s.openSsh.detectionTime]).toEqual([
        30, 9, 300_000,
      ])
      expect(s.warnings).toEqual([
        "SSH has one interval, and the policy's interval 1m30s is longer than its idle 30.5s: so that the first probe comes no later than idle (a middlebox may drop a connection silent for longer), SSH probes after every 30.5s of silence and gives up after 8 unanswered probes instead of 3: 9 × 30.5s = 4m34.5s, within the policy's 5m500ms.",
        "OpenSSH's *AliveInterval is whole seconds: 30.5s rounded down to 30 s, so OpenSSH detects in 5m after 9 probes (ssh2: 4m34.5s after 8 probes).",
      ])
    })

    test("only just longer: the count stays the policy's", () => {
      const s = sshSettings(policy(30_000, 31_000, 3)) // 123 s; 4 × 30 s fit, 5 do not
      expect(s.client).toEqual({ keepaliveInterval: 30_000, keepaliveCountMax: 3 })
      expect(s.warnings).toEqual([
        "SSH has one interval, and the policy's interval 31s is longer than its idle 30s: so that the first probe comes no later than idle (a middlebox may drop a connection silent for longer), SSH probes after every 30s of silence and gives up after 3 unanswered probes: 4 × 30s = 2m, within the policy's 2m3s.",
      ])
    })

    test('sub-second idle: ssh2 probes at idle; OpenSSH cannot go under 1 s and says so', () => {
      const s = sshSettings(policy(500, 10_000, 3)) // 30.5 s
      expect([s.intervalMs, s.probes, s.detectionTime]).toEqual([500, 60, 30_500])
      expect([
        s.openSsh.intervalSeconds,
        s.openSsh.countMax,
        s.openSsh.detectionTime,
        s.openSsh.lateBy,
      ]).toEqual([1, 29, 30_000, 0])
      expect(s.warnings.at(-1)).toBe(
        "OpenSSH's *AliveInterval is whole seconds, at least 1: 500ms became 1 s, so the first probe comes after 1 s instead of the policy's idle 500ms and *AliveCountMax is 29 instead of 60.",
      )
    })

    test('a count past 2³¹−1 is capped (earlier, with a warning)', () => {
      const max = 2 ** 31 - 1
      const s = sshSettings(policy(1, max, 1_000))
      expect([s.intervalMs, s.probes, s.detectionTime, s.lateBy]).toEqual([1, max, max + 1, 0])
      expect(s.warnings).toContain(
        "ssh2's keepaliveCountMax is at most 2147483647: capped, so the peer is declared dead after 24d20h31m23.648s (earlier).",
      )
    })
  })

  test('sub-second: OpenSSH lowers CountMax where 1 s intervals still fit, never to 0', () => {
    const s = sshSettings(policy(1_000, 500, 3)) // 2.5 s
    expect(s.client).toEqual({ keepaliveInterval: 625, keepaliveCountMax: 3 })
    expect([s.openSsh.intervalSeconds, s.openSsh.countMax, s.openSsh.detectionTime]).toEqual([1, 1, 2_000])
    expect(s.openSsh.lateBy).toBe(0)
  })

  test('under 2 s OpenSSH is late and says by how much; ssh2 is exact', () => {
    const s = sshSettings(policy(500, 300, 1)) // 800 ms
    expect([s.client.keepaliveInterval, s.detectionTime, s.lateBy]).toEqual([400, 800, 0])
    expect([s.openSsh.intervalSeconds, s.openSsh.countMax, s.openSsh.lateBy]).toEqual([1, 1, 1_200])
    expect(s.warnings.at(-1)).toBe(
      "OpenSSH cannot detect sooner than 2s (2 intervals): that is 1.2s later than the policy's 800ms.",
    )
  })

  test('huge: ssh2 interval stays a valid Node timer delay', () => {
    const max = 2 ** 31 - 1
    const s = sshSettings(policy(max, max, 1)) // (2³² − 2) / 2
    expect(s.client.keepaliveInterval).toBe(max)
    expect(s.lateBy).toBe(0)
  })
})

describe('mqttSettings', () => {
  test.each([
    ['fast', 5, 1_000, 8_000, 7_500],
    ['balanced', 30, 10_000, 60_000, 45_000],
    ['battery', 210, 30_000, 300_000, 315_000],
    ['linux-default', 7200, 75_000, 7_875_000, 10_800_000],
  ] as const)('%s → Keep Alive %i s', (name, k, pingresp, detection, broker) => {
    const p = presets[name]
    const m = mqttSettings(p)
    expect(m).toMatchObject({
      keepalive: k,
      mqttjsKeepalive: k,
      pingrespTimeout: pingresp,
      probes: p.probes,
      detectionTime: detection,
      lateBy: 0,
      brokerDetectionTime: broker,
      serverKeepAlive: null,
      probesPerIdleHour: Math.round((3600 / k) * 100) / 100,
      warnings: [],
    })
    expect(m.monitor).toEqual({ ...p, idle: k * 1000 })
  })

  test('fractional seconds: Keep Alive floors, the monitor probes at K', () => {
    const m = mqttSettings(policy(30_500, 10_000, 3))
    expect([m.keepalive, m.monitor.idle, m.detectionTime]).toEqual([30, 30_000, 60_000])
    expect(m.warnings).toEqual([
      'Keep Alive is whole seconds: idle 30.5s rounded down to 30 s, and PINGREQ is sent after 30 s of silence.',
    ])
  })

  test('sub-second idle: Keep Alive 1 (never 0) while the monitor probes at the exact idle', () => {
    const m = mqttSettings(policy(500, 200, 2))
    expect([m.keepalive, m.monitor.idle, m.detectionTime, m.lateBy, m.brokerDetectionTime]).toEqual([
      1, 500, 900, 0, 1_500,
    ])
    expect(m.warnings[0]).toMatch(/CONNECT carries 1 s while PINGREQ is sent after the policy's 500ms/)
  })

  test('above 65535 s: capped', () => {
    const m = mqttSettings(policy(100_000_000, 1_000, 1))
    expect([m.keepalive, m.monitor.idle, m.detectionTime]).toEqual([65_535, 65_535_000, 65_536_000])
    expect(m.warnings[0]).toMatch(/above Keep Alive's maximum of 65535 s/)
  })
})

describe('mqttSettingsForServerKeepAlive', () => {
  const balanced = presets.balanced

  test('the same value: nothing to say', () => {
    expect(mqttSettingsForServerKeepAlive(balanced, 30)).toMatchObject({
      keepalive: 30,
      serverKeepAlive: 30,
      warnings: [],
    })
  })

  test('shorter than idle: the server wins and the client probes more often', () => {
    const m = mqttSettingsForServerKeepAlive(balanced, 10)
    expect([m.keepalive, m.monitor.idle, m.detectionTime, m.brokerDetectionTime]).toEqual([
      10, 10_000, 40_000, 15_000,
    ])
    expect(m.warnings[0]).toMatch(/requires Keep Alive 10 s .*360 an hour instead of 120/)
  })

  test('longer than asked: must send within 60 s; the monitor keeps the policy', () => {
    const m = mqttSettingsForServerKeepAlive(balanced, 60)
    expect([m.keepalive, m.monitor.idle, m.detectionTime, m.brokerDetectionTime]).toEqual([
      60, 30_000, 60_000, 90_000,
    ])
    expect(m.warnings[0]).toMatch(/set Keep Alive 60 s instead of 30 s/)
  })

  test('0: keepalive off, the broker never drops us, the monitor still probes', () => {
    const m = mqttSettingsForServerKeepAlive(balanced, 0)
    expect([m.keepalive, m.monitor.idle, m.detectionTime, m.brokerDetectionTime]).toEqual([
      0,
      30_000,
      60_000,
      null,
    ])
    expect(m.warnings[0]).toMatch(/turned Keep Alive off/)
  })

  test.each([-1, 1.5, 65_536, Number.NaN, Number.POSITIVE_INFINITY])('%s is not a Server Keep Alive', (s) => {
    expect(() => mqttSettingsForServerKeepAlive(balanced, s)).toThrow(InvalidArgumentError)
  })
})

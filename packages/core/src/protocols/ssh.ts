// How SSH keepalive expresses a policy. Pure arithmetic: the ssh adapter passes the ssh2 options,
// openSshConfig() prints the OpenSSH lines, explain() prints both.
import type { Policy } from '../types.js'
import { askedDetectionTime, human, MAX_TIMER_MS, perHour } from './common.js'

/** ssh2's `keepaliveInterval` (ms) and `keepaliveCountMax`, the same names on Client and Server. */
export interface Ssh2KeepaliveOptions {
  readonly keepaliveInterval: number
  readonly keepaliveCountMax: number
}

/** The OpenSSH rendering: whole seconds, so it may differ from ssh2's millisecond interval. */
export interface OpenSshKeepalive {
  /** ServerAliveInterval / ClientAliveInterval, seconds (≥ 1). */
  readonly intervalSeconds: number
  /** ServerAliveCountMax / ClientAliveCountMax (≥ 1: sshd reads 0 as "never terminate"). */
  readonly countMax: number
  /** (countMax + 1) × intervalSeconds, in ms. */
  readonly detectionTime: number
  readonly lateBy: number
  /** `ssh_config` lines. */
  readonly client: readonly string[]
  /** `sshd_config` lines. */
  readonly server: readonly string[]
}

export interface SshSettings {
  /** One interval for idle and probes, in ms: the silence before each probe. */
  readonly intervalMs: number
  /** Unanswered probes before the peer is dead (CountMax). */
  readonly probes: number
  /** ssh2 Client options. */
  readonly client: Ssh2KeepaliveOptions
  /** ssh2 Server options (ssh2 turns server keepalive on by default at 15 s × 3; these replace it). */
  readonly server: Ssh2KeepaliveOptions
  readonly openSsh: OpenSshKeepalive
  /** (probes + 1) × intervalMs: ssh2's worst case after the last sign of life, in ms. */
  readonly detectionTime: number
  readonly lateBy: number
  /** One probe per interval of silence. */
  readonly probesPerIdleHour: number
  readonly warnings: readonly string[]
}

/** OpenSSH's intervals are ints of seconds, multiplied to ms internally; stay where that cannot overflow. */
const OPENSSH_MAX_SECONDS = Math.floor(MAX_TIMER_MS / 1000)

/**
 * The SSH keepalive settings for a policy.
 *
 * SSH has a single interval I: after I with nothing received a probe is sent, any packet received
 * resets the count, and after CountMax unanswered probes the peer is dead — (CountMax + 1) × I after the
 * last sign of life (OpenSSH's clientloop/serverloop; ssh2's client ticks the same worst case). So the
 * count stays the policy's probes and I = floor(detectionTime / (probes + 1)), which never detects later.
 * ssh2 takes I in ms; OpenSSH in whole seconds, floored, at least 1. Where 1 s is too long the count is
 * lowered, and only a policy detecting in under 2 s stays late (with a warning saying by how much).
 * A count of 0 is never produced: sshd reads `ClientAliveCountMax 0` as "never terminate".
 */
export function sshSettings(policy: Policy): SshSettings {
  const asked = askedDetectionTime(policy)
  const probes = Math.max(1, Math.floor(policy.probes))
  const warnings: string[] = []

  const ssh2 = oneInterval(asked, probes, 1, MAX_TIMER_MS)
  if (ssh2.capped) {
    warnings.push(
      `ssh2's keepaliveInterval is a Node timer, at most ${MAX_TIMER_MS} ms: capped (detects earlier).`,
    )
  }
  const intervalMs = ssh2.units
  if (intervalMs < policy.idle) {
    warnings.push(
      `SSH has one interval: the first probe comes after ${human(intervalMs)} of silence instead of the policy's idle ${human(policy.idle)}, so an idle connection gets ${perHour(intervalMs)} probes an hour instead of ${perHour(policy.idle)}.`,
    )
  }
  lateness(warnings, 'ssh2', ssh2, asked)

  const open = oneInterval(asked, probes, 1000, OPENSSH_MAX_SECONDS)
  if (open.raised) {
    warnings.push(
      `OpenSSH's *AliveInterval is whole seconds, at least 1: ${human(asked / (probes + 1))} became 1 s${open.count < probes ? ` and *AliveCountMax is ${open.count} instead of ${probes}` : ''}.`,
    )
  } else if (open.units * 1000 !== intervalMs) {
    warnings.push(
      `OpenSSH's *AliveInterval is whole seconds: ${human(intervalMs)} rounded down to ${open.units} s, so OpenSSH detects in ${human(open.detection)} (ssh2: ${human(ssh2.detection)}).`,
    )
  }
  lateness(warnings, 'OpenSSH', open, asked)

  const ssh2Options = Object.freeze({ keepaliveInterval: intervalMs, keepaliveCountMax: ssh2.count })
  return Object.freeze({
    intervalMs,
    probes: ssh2.count,
    client: ssh2Options,
    server: ssh2Options,
    openSsh: Object.freeze({
      intervalSeconds: open.units,
      countMax: open.count,
      detectionTime: open.detection,
      lateBy: Math.max(0, open.detection - asked),
      client: Object.freeze([`ServerAliveInterval ${open.units}`, `ServerAliveCountMax ${open.count}`]),
      server: Object.freeze([`ClientAliveInterval ${open.units}`, `ClientAliveCountMax ${open.count}`]),
    }),
    detectionTime: ssh2.detection,
    lateBy: Math.max(0, ssh2.detection - asked),
    probesPerIdleHour: perHour(intervalMs),
    warnings: Object.freeze(warnings),
  })
}

interface OneInterval {
  /** The interval in units of `unitMs`. */
  units: number
  count: number
  /** (count + 1) × units × unitMs. */
  detection: number
  raised: boolean
  capped: boolean
}

/** The largest interval (in whole units) such that (count + 1) intervals fit in `asked`. */
function oneInterval(asked: number, probes: number, unitMs: number, maxUnits: number): OneInterval {
  let count = probes
  let units = Math.floor(asked / ((count + 1) * unitMs))
  const raised = units < 1
  const capped = units > maxUnits
  units = Math.min(Math.max(1, units), maxUnits)
  // Raised to one unit: fewer probes keep (count + 1) intervals within the policy where they can.
  if ((count + 1) * units * unitMs > asked && count > 1) {
    count = Math.max(1, Math.floor(asked / (units * unitMs)) - 1)
  }
  return { units, count, detection: (count + 1) * units * unitMs, raised, capped }
}

function lateness(warnings: string[], who: string, r: OneInterval, asked: number): void {
  if (r.detection > asked) {
    warnings.push(
      `${who} cannot detect sooner than ${human(r.detection)} (${r.count + 1} intervals): that is ${human(r.detection - asked)} later than the policy's ${human(asked)}.`,
    )
  }
}

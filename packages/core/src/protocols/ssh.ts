// How SSH keepalive expresses a policy. Pure arithmetic: the ssh adapter (@keepalive/ssh, being added beside
// core) passes the ssh2 options and prints the OpenSSH lines with its openSshConfig; explain() prints both.
import { definePolicy } from '../policy.js'
import type { PolicyLike } from '../types.js'
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
 * last sign of life (OpenSSH's clientloop/serverloop; ssh2's client ticks the same worst case).
 * I = min(idle, floor(detectionTime / (probes + 1))): the first probe never comes later than `idle`
 * (a middlebox on the path may drop a connection silent for longer), and never detects later.
 * Where (probes + 1) intervals fit under idle, CountMax stays the policy's probes; where idle is the
 * shorter (interval > idle), CountMax = floor(detectionTime / I) − 1: as many probes as fit, so
 * detection is the closest to the policy's that is never later.
 * ssh2 takes I in ms; OpenSSH in whole seconds, floored, at least 1. Where 1 s is too long the count is
 * lowered, and only a policy detecting in under 2 s stays late (with a warning saying by how much).
 * A count of 0 is never produced: sshd reads `ClientAliveCountMax 0` as "never terminate". A count is
 * at most 2³¹−1 (OpenSSH's int; ssh2 counts in a JS number), which detects earlier where it binds.
 */
export function sshSettings(policyLike: PolicyLike): SshSettings {
  const policy = definePolicy(policyLike)
  const asked = askedDetectionTime(policy)
  const probes = Math.max(1, Math.floor(policy.probes))
  const warnings: string[] = []

  const ssh2 = oneInterval(asked, probes, policy.idle, 1, MAX_TIMER_MS)
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
  if (ssh2.byIdle) {
    const n = ssh2.count
    warnings.push(
      `SSH has one interval, and the policy's interval ${human(policy.interval)} is longer than its idle ${human(policy.idle)}: so that the first probe comes no later than idle (a middlebox may drop a connection silent for longer), SSH probes after every ${human(intervalMs)} of silence and gives up after ${n} unanswered ${n === 1 ? 'probe' : 'probes'}${n === probes ? '' : ` instead of ${probes}`}: ${n + 1} × ${human(intervalMs)} = ${human(ssh2.detection)}${ssh2.detection < asked ? `, within the policy's ${human(asked)}` : ''}.`,
    )
  }
  warnCountCapped(warnings, "ssh2's keepaliveCountMax", ssh2)
  lateness(warnings, 'ssh2', ssh2, asked)

  const open = oneInterval(asked, probes, policy.idle, 1000, OPENSSH_MAX_SECONDS)
  const counts = (who: OneInterval) => `${who.count} ${who.count === 1 ? 'probe' : 'probes'}`
  const sameCount = open.count === ssh2.count
  if (open.raised) {
    warnings.push(
      `OpenSSH's *AliveInterval is whole seconds, at least 1: ${human(open.wantedMs)} became 1 s${policy.idle < 1000 ? `, so the first probe comes after 1 s instead of the policy's idle ${human(policy.idle)}` : ''}${sameCount ? '' : ` and *AliveCountMax is ${open.count} instead of ${ssh2.count}`}.`,
    )
  } else if (open.units * 1000 !== intervalMs) {
    warnings.push(
      `OpenSSH's *AliveInterval is whole seconds: ${human(intervalMs)} rounded down to ${open.units} s, so OpenSSH detects in ${human(open.detection)}${sameCount ? '' : ` after ${counts(open)}`} (ssh2: ${human(ssh2.detection)}${sameCount ? '' : ` after ${counts(ssh2)}`}).`,
    )
  }
  warnCountCapped(warnings, "OpenSSH's *AliveCountMax", open)
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
  /** The interval asked for before whole units, in ms: min(idle, detectionTime / (probes + 1)). */
  wantedMs: number
  /** Idle was shorter than an even split of the detection time: the interval is idle, the count what fits. */
  byIdle: boolean
  raised: boolean
  capped: boolean
  /** The count was held at MAX_SSH_COUNT (detects earlier). */
  countCapped: boolean
}

/** The most unanswered probes: OpenSSH's *AliveCountMax is an int. */
const MAX_SSH_COUNT = 2 ** 31 - 1

/**
 * The interval (in whole units) and count for one SSH implementation: the largest interval such that
 * (probes + 1) intervals fit in `asked`, but never longer than idle; when idle is the shorter, as many
 * intervals as fit in `asked`.
 */
function oneInterval(
  asked: number,
  probes: number,
  idle: number,
  unitMs: number,
  maxUnits: number,
): OneInterval {
  const even = Math.floor(asked / ((probes + 1) * unitMs))
  const idleUnits = Math.floor(idle / unitMs)
  const byIdle = idleUnits < even
  const wantedMs = Math.min(idle, asked / (probes + 1))
  let units = Math.min(even, idleUnits)
  const raised = units < 1
  const capped = units > maxUnits
  units = Math.min(Math.max(1, units), maxUnits)
  let count = probes
  // Held at idle, or raised to one unit: as many intervals as fit in the policy's detection time.
  if (byIdle || (count + 1) * units * unitMs > asked) {
    count = Math.max(1, Math.floor(asked / (units * unitMs)) - 1)
  }
  const countCapped = count > MAX_SSH_COUNT
  count = Math.min(count, MAX_SSH_COUNT)
  return {
    units,
    count,
    detection: (count + 1) * units * unitMs,
    wantedMs,
    byIdle,
    raised,
    capped,
    countCapped,
  }
}

function warnCountCapped(warnings: string[], what: string, r: OneInterval): void {
  if (r.countCapped) {
    warnings.push(
      `${what} is at most ${MAX_SSH_COUNT}: capped, so the peer is declared dead after ${human(r.detection)} (earlier).`,
    )
  }
}

function lateness(warnings: string[], who: string, r: OneInterval, asked: number): void {
  if (r.detection > asked) {
    warnings.push(
      `${who} cannot detect sooner than ${human(r.detection)} (${r.count + 1} intervals): that is ${human(r.detection - asked)} later than the policy's ${human(asked)}.`,
    )
  }
}

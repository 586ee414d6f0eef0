/**
 * Tick policies: a policy converted to scheduler ticks, shared by every monitor with the same policy values (a
 * monitor holds one pointer instead of four numbers; the conversion runs once per distinct policy). Rounding never
 * detects earlier than asked: idle, interval and the detection time round UP to whole ticks, the jitter window
 * rounds DOWN. An entry lives in the cache while a monitor uses it: a broker with per-client keepalives (a distinct
 * policy per client) leaves nothing behind when its clients go.
 *
 * Shared by value, whatever the input: a plain policy object (`{ idle: 5000, … }`, validated on every call since it
 * may have changed) finds the entry its values already have, so a monitor built from a literal costs what one built
 * from a preset costs, and the Policy it exposes is the entry's one frozen copy.
 */
import { InvalidPolicyError } from '../errors.js'
import { definePolicy, detectionTimeOf } from '../policy.js'
import { memoizeByPolicy } from '../policy-memo.js'
import type { Policy, PolicyLike } from '../types.js'
import { MAX_TRACKED_TICKS } from './scheduler.js'

export class TickPolicy {
  /** Running monitors using this entry; at 0 it leaves the cache. */
  users = 0
  readonly idleTicks: number
  /** The most the first probe may come early (jitter), in whole ticks. */
  readonly jitterTicks: number
  readonly intervalTicks: number
  /** idle + interval × probes, rounded up. */
  readonly deathTicks: number
  readonly probes: number
  /** idle + interval × probes in ms, exactly. */
  readonly detectionMs: number
  /** A stall longer than this (ms) is published: max(1 tick, interval / 4). */
  readonly stallMs: number

  constructor(
    readonly policy: Policy,
    readonly tickMs: number,
    readonly key: string,
  ) {
    this.detectionMs = detectionTimeOf(policy)
    this.deathTicks = Math.max(1, Math.ceil(this.detectionMs / tickMs))
    this.idleTicks = Math.max(1, Math.ceil(policy.idle / tickMs))
    this.jitterTicks = Math.floor((policy.idle * policy.jitter) / tickMs)
    this.intervalTicks = Math.max(1, Math.ceil(policy.interval / tickMs))
    this.probes = policy.probes
    this.stallMs = Math.max(tickMs, policy.interval / 4)
  }
}

/** Tick policies in use, by value: an entry is shared by every monitor whose policy has the same numbers. */
const byKey = new Map<string, TickPolicy>()
/** The validated policy and its value key, computed once per Policy object (core's one per-policy cache). */
const policyKey = memoizeByPolicy((policy) => ({ policy, key: valueKey(policy) }))

function valueKey(policy: Policy): string {
  return `${policy.idle}/${policy.interval}/${policy.probes}/${policy.jitter}`
}

/** The shared tick policy for `input` at `tickMs`, counted as used by one more monitor. */
export function acquireTickPolicy(input: PolicyLike, tickMs: number): TickPolicy {
  const policy = definePolicy(input)
  // A Policy object (a preset, a definePolicy result) comes back as it is: its key is cached. A fresh copy of a
  // plain input is keyed directly and dropped (caching it would keep a cache entry per call alive until a full GC).
  const values = policy === input || typeof input !== 'object' ? policyKey(policy).key : valueKey(policy)
  const key = `${values}/${tickMs}`
  let tickPolicy = byKey.get(key)
  if (tickPolicy === undefined) {
    tickPolicy = new TickPolicy(policy, tickMs, key)
    if (tickPolicy.deathTicks > MAX_TRACKED_TICKS) {
      throw new InvalidPolicyError(
        `Invalid policy for a monitor: detection time ${tickPolicy.detectionMs} ms (idle + interval × probes) ` +
          `exceeds ${MAX_TRACKED_TICKS * tickMs} ms, the longest a monitor tracks at a ${tickMs} ms tick; ` +
          'a coarser tick (configureScheduler({ tickMs })) tracks longer',
      )
    }
    byKey.set(key, tickPolicy)
  }
  tickPolicy.users++
  return tickPolicy
}

export function releaseTickPolicy(tp: TickPolicy): void {
  if (--tp.users === 0 && byKey.get(tp.key) === tp) byKey.delete(tp.key)
}

/**
 * A policy converted to scheduler ticks, shared by every monitor with the same policy: a monitor holds
 * one pointer to it instead of four numbers, and the conversion runs once per distinct policy.
 *
 * Rounding never detects earlier than asked: idle, interval and the detection time round UP to whole
 * ticks (the presets and any policy in whole multiples of the tick convert exactly), while the jitter
 * window rounds DOWN, so a first probe never comes earlier than idle × (1 − jitter).
 */
import { definePolicy } from '../policy.js'
import type { Policy, PolicyLike } from '../types.js'
import { currentTickMs, extendHorizon } from './scheduler.js'

export interface TickPolicy {
  readonly policy: Policy
  /** The tick length these were computed for. */
  readonly tickMs: number
  readonly idleTicks: number
  /** The most the first probe may come early (jitter), in whole ticks. */
  readonly jitterTicks: number
  readonly intervalTicks: number
  /** idle + interval × probes, rounded up. */
  readonly deathTicks: number
  readonly probes: number
  /** idle + interval × probes in ms, exactly. */
  readonly detectionMs: number
  /** A run later than this (ms) is a stall for this policy: max(1 tick, interval / 4). */
  readonly stallMs: number
}

const byKey = new Map<string, TickPolicy>()
/** Frozen inputs seen before (Policy objects, presets' objects): a million monitors on one policy convert it once. */
const byObject = new WeakMap<object, TickPolicy>()

export function tickPolicyFor(input: PolicyLike): TickPolicy {
  const tickMs = currentTickMs()
  const frozen = isFrozenObject(input)
  if (frozen) {
    const cached = byObject.get(input)
    if (cached !== undefined && cached.tickMs === tickMs) return cached
  }
  const policy = definePolicy(input)
  const key = `${policy.idle}/${policy.interval}/${policy.probes}/${policy.jitter}/${tickMs}`
  let tickPolicy = byKey.get(key)
  if (tickPolicy === undefined) {
    tickPolicy = convert(policy, tickMs)
    byKey.set(key, tickPolicy)
  }
  if (frozen) byObject.set(input, tickPolicy)
  return tickPolicy
}

/**
 * Object.isFrozen runs a Proxy's traps, before definePolicy's guard: a trap that throws means "not
 * cached", and definePolicy then reports the input as an InvalidPolicyError (or accepts it, if it reads).
 */
function isFrozenObject(input: unknown): input is object {
  if (typeof input !== 'object' || input === null) return false
  try {
    return Object.isFrozen(input)
  } catch {
    return false
  }
}

function convert(policy: Policy, tickMs: number): TickPolicy {
  const detectionMs = policy.idle + policy.interval * policy.probes
  const deathTicks = Math.max(1, Math.ceil(detectionMs / tickMs))
  extendHorizon(deathTicks)
  return Object.freeze({
    policy,
    tickMs,
    idleTicks: Math.max(1, Math.ceil(policy.idle / tickMs)),
    jitterTicks: Math.floor((policy.idle * policy.jitter) / tickMs),
    intervalTicks: Math.max(1, Math.ceil(policy.interval / tickMs)),
    deathTicks,
    probes: policy.probes,
    detectionMs,
    stallMs: Math.max(tickMs, policy.interval / 4),
  })
}

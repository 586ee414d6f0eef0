/**
 * Policies: validation, normalisation and the built-in presets.
 *
 * `preset` on a Policy records the preset its values started from: the one the input named, or
 * `balanced` when the input named none and left at least one of idle, interval or probes to it.
 * It is undefined when the input named no preset and set idle, interval and probes itself.
 */
import { InvalidPolicyError } from './errors.js'
import { describeValue } from './schema/describe-value.js'
import { problemsFrom } from './schema/issues.js'
import { PRESET_NAMES } from './schema/limits.js'
import { POLICY_RULE, type PolicyFields, PRESET_RULE, policyInputSchema } from './schema/policy-schema.js'
import { didYouMean } from './schema/suggest.js'
import type { Policy, PolicyLike, PresetName } from './types.js'

/** Policies this module built: already valid and frozen, so definePolicy returns them as they are. */
const knownPolicies = new WeakSet<Policy>()

function freezePolicy(policy: Policy): Policy {
  const frozen = Object.freeze({ ...policy })
  knownPolicies.add(frozen)
  return frozen
}

function preset(name: PresetName, idle: number, interval: number, probes: number): Policy {
  return freezePolicy({ idle, interval, probes, jitter: 0, preset: name })
}

/** The built-in presets (jitter 0), frozen. Durations in ms. */
export const presets: Readonly<Record<PresetName, Policy>> = Object.freeze({
  fast: preset('fast', 5_000, 1_000, 3),
  balanced: preset('balanced', 30_000, 10_000, 3),
  battery: preset('battery', 210_000, 30_000, 3),
  'linux-default': preset('linux-default', 7_200_000, 75_000, 9),
})

const DEFAULT_PRESET: PresetName = 'balanced'

/**
 * Validates and normalises any PolicyLike into a frozen Policy (durations in ms): a Policy, a preset
 * name, a policy input, or undefined (`balanced`). Throws InvalidPolicyError naming every bad field,
 * the value received and what is allowed; nothing else ever escapes, whatever the input.
 */
export function definePolicy(input?: PolicyLike): Policy {
  // Policies this module built come back as they are: the hot path of every adapter and the memo.
  if (typeof input === 'object' && input !== null && knownPolicies.has(input as Policy))
    return input as Policy
  const result = policyOrProblem(input)
  if ('policy' in result) return result.policy
  throw new InvalidPolicyError(`Invalid policy: ${result.problem}`, { cause: result.cause })
}

/** A policy, or what is wrong with the input (without a prefix, so each caller says where it came from). */
export type PolicyOrProblem =
  | { readonly policy: Policy }
  | { readonly problem: string; readonly cause?: unknown }

/** definePolicy without the throw: callers that report a bad policy in their own words use this. */
export function policyOrProblem(input: unknown): PolicyOrProblem {
  if (input === undefined) return { policy: presets[DEFAULT_PRESET] }
  if (typeof input === 'string') {
    if (Object.hasOwn(presets, input)) return { policy: presets[input as PresetName] }
    return {
      problem: `"preset" ${PRESET_RULE}, got ${describeValue(input)}${didYouMean(input, PRESET_NAMES)}`,
    }
  }
  try {
    if (typeof input === 'object' && input !== null && knownPolicies.has(input as Policy))
      return { policy: input as Policy }
    if (!isPlainObject(input)) {
      return { problem: `expected ${POLICY_RULE.slice('must be '.length)}, got ${describeValue(input)}` }
    }
    // A policy is plain data. Object.isFrozen runs the isExtensible trap (and, on a frozen object, the descriptor
    // traps) that caches and freezing rely on; an object that throws there is not plain data, whatever its fields
    // read as, so every entry point (definePolicy, createMonitor, applyTcpKeepalive, the adapters) rejects it alike
    // instead of one of them stumbling on the throw later.
    Object.isFrozen(input)
    const result = policyInputSchema.safeParse(input)
    if (!result.success) {
      const problems = problemsFrom(result.error, input, policyInputSchema, 'policy')
      return { problem: problems.map((p) => p.message).join('; '), cause: result.error }
    }
    return { policy: mergePolicy(presets[DEFAULT_PRESET], result.data) }
  } catch (error) {
    // A hostile input (a Proxy whose traps throw, a getter that throws) must still surface as a policy problem.
    return { problem: `could not read the input (${describeValue(input)})`, cause: error }
  }
}

/**
 * Lays validated overrides over a base policy: a named preset replaces the base, then each given
 * field replaces the base's. Used by definePolicy (base `balanced`) and by policyFor (base: the
 * config's policy). See the module comment for how `preset` is recorded.
 */
export function mergePolicy(base: Policy, overrides: PolicyFields): Policy {
  const start = overrides.preset === undefined ? base : presets[overrides.preset]
  const setsAll =
    overrides.idle !== undefined && overrides.interval !== undefined && overrides.probes !== undefined
  return freezePolicy({
    idle: overrides.idle ?? start.idle,
    interval: overrides.interval ?? start.interval,
    probes: overrides.probes ?? start.probes,
    jitter: overrides.jitter ?? start.jitter,
    preset: overrides.preset ?? (setsAll ? undefined : start.preset),
  })
}

/** idle + interval × probes: the worst case from the last sign of life to "dead", in ms. */
export function detectionTime(policy: PolicyLike): number {
  return detectionTimeOf(definePolicy(policy))
}

/**
 * The one place `idle + interval × probes` is written, for a policy already validated (the protocol
 * arithmetic, explain and the monitor call it on hot paths, where definePolicy's check is already done).
 */
export function detectionTimeOf(policy: Pick<Policy, 'idle' | 'interval' | 'probes'>): number {
  return policy.idle + policy.interval * policy.probes
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  // Object.prototype of any realm (a vm context, an iframe) has a null prototype itself.
  return prototype === null || Object.getPrototypeOf(prototype) === null
}

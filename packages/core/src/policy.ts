/**
 * Policies: validation, normalisation and the built-in presets.
 *
 * `preset` on a Policy records the preset its values started from: the one the input named, or
 * `balanced` when the input named none and left at least one of idle, interval or probes to it.
 * It is undefined when the input named no preset and set idle, interval and probes itself.
 */
import { InvalidPolicyError, KeepaliveError } from './errors.js'
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
  if (input === undefined) return presets[DEFAULT_PRESET]
  if (typeof input === 'string') return presetNamed(input)
  try {
    if (typeof input === 'object' && input !== null && knownPolicies.has(input as Policy))
      return input as Policy
    if (!isPlainObject(input)) {
      throw new InvalidPolicyError(
        `Invalid policy: expected ${POLICY_RULE.slice('must be '.length)}, got ${describeValue(input)}`,
      )
    }
    const result = policyInputSchema.safeParse(input)
    if (!result.success) {
      const problems = problemsFrom(result.error, input, policyInputSchema, 'policy')
      throw new InvalidPolicyError(`Invalid policy: ${problems.map((p) => p.message).join('; ')}`, {
        cause: result.error,
      })
    }
    return mergePolicy(presets[DEFAULT_PRESET], result.data)
  } catch (error) {
    if (error instanceof KeepaliveError) throw error
    // A hostile input (a Proxy whose traps throw, a getter that throws) must still surface as a policy error.
    throw new InvalidPolicyError(`Invalid policy: could not read the input (${describeValue(input)})`, {
      cause: error,
    })
  }
}

function presetNamed(name: string): Policy {
  if (Object.hasOwn(presets, name)) return presets[name as PresetName]
  throw new InvalidPolicyError(
    `Invalid policy: "preset" ${PRESET_RULE}, got ${describeValue(name)}${didYouMean(name, PRESET_NAMES)}`,
  )
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
  const { idle, interval, probes } = definePolicy(policy)
  return idle + interval * probes
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  // Object.prototype of any realm (a vm context, an iframe) has a null prototype itself.
  return prototype === null || Object.getPrototypeOf(prototype) === null
}

// CONTRACT STUB — owned by the policy/config helper; replace the bodies, keep the signatures.
import type { Policy, PolicyLike, PresetName } from './types.js'

/** The built-in presets (jitter 0). */
export const presets: Readonly<Record<PresetName, Policy>> = {} as never

/** Validates and normalises any PolicyLike into a frozen Policy (durations in ms). Throws InvalidPolicyError. */
export function definePolicy(_input?: PolicyLike): Policy {
  throw new Error('not implemented')
}

/** idle + interval × probes: the worst case from the last sign of life to "dead". */
export function detectionTime(_policy: PolicyLike): number {
  throw new Error('not implemented')
}

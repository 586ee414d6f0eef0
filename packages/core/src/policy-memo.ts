/**
 * One cache for everything computed from a policy (socket options, tick counts, protocol settings), used by core
 * and by every adapter, so that applying one policy to a million connections validates and converts it once.
 *
 * Keyed by the frozen Policy that `definePolicy` returns (presets and policies it built come back as they are),
 * in a WeakMap: an entry lives as long as its policy does, so distinct policies never pile up. A plain input object
 * is validated on every call (it may be mutated between calls) and yields a new Policy, so it is never a cache hit.
 * Hostile input (a Proxy whose traps throw, a throwing getter) is an InvalidPolicyError, from definePolicy.
 */
import { InvalidArgumentError } from './errors.js'
import { definePolicy } from './policy.js'
import { describeValue } from './schema/describe-value.js'
import type { Policy, PolicyLike } from './types.js'

/** `compute` once per distinct Policy object; any PolicyLike in. */
export function memoizeByPolicy<T>(compute: (policy: Policy) => T): (input?: PolicyLike) => T {
  if (typeof compute !== 'function') {
    throw new InvalidArgumentError(
      `memoizeByPolicy: compute must be a function, got ${describeValue(compute)}`,
    )
  }
  const cache = new WeakMap<Policy, T>()
  return (input) => {
    const policy = definePolicy(input)
    if (cache.has(policy)) return cache.get(policy) as T
    const value = compute(policy)
    cache.set(policy, value)
    return value
  }
}

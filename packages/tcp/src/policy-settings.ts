/**
 * core's tcpSettings for any PolicyLike. Frozen policies (definePolicy's output) and preset names are cached, so
 * applying one policy to many sockets validates it once. Plain input objects are not: the caller may mutate them.
 */
import { definePolicy, type PolicyLike, type TcpSettings, tcpSettings } from '@keepalive/core'

const frozenSettings = new WeakMap<object, TcpSettings>()
const namedSettings = new Map<string, TcpSettings>()

/** core's tcpSettings for any PolicyLike; throws InvalidPolicyError from definePolicy. */
export function settingsFor(policy: PolicyLike): TcpSettings {
  if (policy === undefined || typeof policy === 'string') {
    const key = policy ?? ''
    let settings = namedSettings.get(key)
    if (settings === undefined) {
      settings = tcpSettings(definePolicy(policy))
      namedSettings.set(key, settings)
    }
    return settings
  }
  if (typeof policy === 'object' && policy !== null && Object.isFrozen(policy)) {
    let settings = frozenSettings.get(policy)
    if (settings === undefined) {
      settings = tcpSettings(definePolicy(policy))
      frozenSettings.set(policy, settings)
    }
    return settings
  }
  return tcpSettings(definePolicy(policy))
}

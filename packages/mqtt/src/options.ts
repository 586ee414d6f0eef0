/**
 * `mqttOptions(policy?, base?)`: mqtt.js client options that carry the policy.
 *
 * - `keepalive`: the Keep Alive CONNECT carries, core's `mqttSettings` (whole seconds, 1..65535, floored so the
 *   broker-side and our PINGREQs never come later than the policy's idle; never 0).
 * - `timerVariant`: a `TimerGate` (./mqttjs-timer.ts). It runs mqtt.js's own keepalive timer as usual until
 *   `watchMqtt` claims it; while a watcher runs, mqtt.js's timer cannot kill the connection behind its back.
 *
 * Everything else is the caller's, copied: `base` (and its `properties`) is never written to, and neither is
 * the result by us (mqtt.js fills its defaults into the object it is given, which is this fresh copy).
 */
import { definePolicy, InvalidArgumentError, mqttSettings, type PolicyLike } from '@keepalive/core'
import type { IClientOptions } from 'mqtt'
import { MqttKeepaliveOffError } from './errors.js'
import { TimerGate } from './mqttjs-timer.js'

/** What `mqttOptions` sets over the caller's options. */
export interface MqttKeepaliveOptions {
  /** Keep Alive in seconds (1..65535). */
  keepalive: number
  /** Hands mqtt.js's keepalive timer to `watchMqtt` while one runs. */
  timerVariant: TimerGate
}

export function mqttOptions<T extends IClientOptions = IClientOptions>(
  policy?: PolicyLike,
  base?: T,
): Omit<T, 'keepalive' | 'timerVariant'> & MqttKeepaliveOptions {
  const resolved = definePolicy(policy)
  if (base !== undefined && (base === null || typeof base !== 'object' || Array.isArray(base))) {
    throw new InvalidArgumentError(
      `mqttOptions: base must be an mqtt.js options object, got ${base === null ? 'null' : Array.isArray(base) ? 'an array' : typeof base}`,
    )
  }
  const caller = (base ?? {}) as IClientOptions
  if (caller.keepalive === 0) {
    throw new MqttKeepaliveOffError(
      'mqttOptions: base.keepalive is 0 (keepalive off) but a policy asks for keepalive; drop base.keepalive or do not use mqttOptions',
    )
  }
  if (caller.keepalive !== undefined && (typeof caller.keepalive !== 'number' || !(caller.keepalive > 0))) {
    throw new InvalidArgumentError(
      `mqttOptions: base.keepalive must be a number of seconds or absent, got ${String(caller.keepalive)}`,
    )
  }
  const { keepalive } = mqttSettings(resolved)
  const options = {
    ...caller,
    keepalive,
    timerVariant: new TimerGate(resolved, caller.timerVariant),
  } as Omit<T, 'keepalive' | 'timerVariant'> & MqttKeepaliveOptions
  // mqtt.js copies `properties` into CONNECT, but keep the caller's object out of its reach anyway.
  if (caller.properties !== undefined && caller.properties !== null) {
    ;(options as IClientOptions).properties = { ...caller.properties }
  }
  return options
}

// How MQTT keepalive expresses a policy. Pure arithmetic: the mqtt adapter puts `keepalive` in CONNECT
// (mqtt.js's option) and runs a liveness monitor with `monitor`; explain() prints both.

import { InvalidArgumentError } from '../errors.js'
import { definePolicy } from '../policy.js'
import { describeValue } from '../schema/describe-value.js'
import type { Policy, PolicyLike } from '../types.js'
import { askedDetectionTime, human, perHour, toUnits } from './common.js'

/** Keep Alive is a 16-bit number of seconds; 0 turns it off (MQTT 3.1.1 §3.1.2.10, 5.0 §3.1.2.10). */
export const MQTT_MAX_KEEPALIVE = 65_535

export interface MqttSettings {
  /**
   * The Keep Alive in seconds: what CONNECT carries (1..65535, never 0), or after a CONNACK the value
   * in force (0 only when the server's Server Keep Alive turned it off).
   */
  readonly keepalive: number
  /** mqtt.js's `keepalive` option (seconds). Its own tick-counting timer sends PINGREQ at ~K and gives up at ~1.5 K. */
  readonly mqttjsKeepalive: number
  /** What the liveness monitor runs with: PINGREQ after `idle` of silence, `interval` to wait for PINGRESP, `probes`. */
  readonly monitor: Policy
  /** The PINGRESP wait, ms (= the policy's interval). */
  readonly pingrespTimeout: number
  readonly probes: number
  /** monitor.idle + pingrespTimeout × probes: how soon the client finds a dead broker, in ms. */
  readonly detectionTime: number
  /** Never later than the policy for MQTT; kept for symmetry with the other protocols. */
  readonly lateBy: number
  /** 1.5 × Keep Alive: when the broker drops a silent client ([MQTT-3.1.2-24]), ms; null when keepalive is off. */
  readonly brokerDetectionTime: number | null
  /** The Server Keep Alive this was derived with, if any. */
  readonly serverKeepAlive: number | null
  /** One PINGREQ per `monitor.idle` of silence. */
  readonly probesPerIdleHour: number
  readonly warnings: readonly string[]
}

/**
 * The MQTT settings for a policy.
 *
 * Keep Alive K = floor(idle / 1000) seconds, within 1..65535: the client must send something every K
 * and PINGREQ is its probe, so the monitor probes after min(idle, K s) of silence — floored, never later.
 * A sub-second idle still gets K = 1 (the minimum) while the monitor probes at the exact idle: MQTT lets a
 * client send PINGREQ at any time, and those PINGREQs also satisfy the send-every-K rule. PINGRESP is
 * awaited `interval` and `probes` are allowed, so detection = monitor.idle + interval × probes ≤ asked.
 */
export function mqttSettings(policyLike: PolicyLike): MqttSettings {
  const policy = definePolicy(policyLike)
  const warnings: string[] = []
  const k = toUnits(policy.idle, 1000, 1, MQTT_MAX_KEEPALIVE)
  if (k.raised) {
    warnings.push(
      `Keep Alive is whole seconds, at least 1: CONNECT carries 1 s while PINGREQ is sent after the policy's ${human(policy.idle)} of silence.`,
    )
  } else if (k.capped) {
    warnings.push(
      `idle ${human(policy.idle)} is above Keep Alive's maximum of ${MQTT_MAX_KEEPALIVE} s (${human(MQTT_MAX_KEEPALIVE * 1000)}): Keep Alive is ${MQTT_MAX_KEEPALIVE} s and PINGREQ comes that much earlier.`,
    )
  } else if (k.rounded) {
    warnings.push(
      `Keep Alive is whole seconds: idle ${human(policy.idle)} rounded down to ${k.value} s, and PINGREQ is sent after ${k.value} s of silence.`,
    )
  }
  return build(policy, k.value, null, warnings)
}

/**
 * Re-derives the settings after CONNACK carried a Server Keep Alive (MQTT 5 §3.2.2.3.14): the server's
 * value wins ([MQTT-3.2.2-21]). 0 means the server turned keepalive off: the client need not send and the
 * broker never drops a silent client, but our monitor still probes after the policy's idle.
 */
export function mqttSettingsForServerKeepAlive(
  policyLike: PolicyLike,
  serverKeepAliveSeconds: number,
): MqttSettings {
  const policy = definePolicy(policyLike)
  const s = serverKeepAliveSeconds
  if (!Number.isInteger(s) || s < 0 || s > MQTT_MAX_KEEPALIVE) {
    throw new InvalidArgumentError(
      `serverKeepAliveSeconds must be an integer from 0 to ${MQTT_MAX_KEEPALIVE}, got ${describeValue(s)}`,
    )
  }
  const warnings: string[] = []
  const asked = mqttSettings(policy).keepalive
  if (s === 0) {
    warnings.push(
      `The server turned Keep Alive off (Server Keep Alive 0): it will never drop a silent client, and the client's probes after ${human(policy.idle)} of silence are the only liveness check.`,
    )
  } else if (s * 1000 < policy.idle) {
    warnings.push(
      `The server requires Keep Alive ${s} s (Server Keep Alive, [MQTT-3.2.2-21]), shorter than the policy's idle ${human(policy.idle)}: PINGREQ comes after ${s} s of silence, ${perHour(s * 1000)} an hour instead of ${perHour(policy.idle)}.`,
    )
  } else if (s !== asked) {
    warnings.push(
      `The server set Keep Alive ${s} s instead of ${asked} s (Server Keep Alive, [MQTT-3.2.2-21]): the client keeps probing after ${human(policy.idle)} of silence; the broker drops a silent client after ${human(s * 1500)}.`,
    )
  }
  return build(policy, s, s, warnings)
}

function build(
  policy: Policy,
  keepalive: number,
  serverKeepAlive: number | null,
  warnings: string[],
): MqttSettings {
  // K = 0 (server turned it off): nothing bounds the idle but the policy.
  const idle = keepalive === 0 ? policy.idle : Math.min(policy.idle, keepalive * 1000)
  const monitor: Policy = Object.freeze({ ...policy, idle })
  const detectionTime = askedDetectionTime(monitor)
  return Object.freeze({
    keepalive,
    mqttjsKeepalive: keepalive,
    monitor,
    pingrespTimeout: policy.interval,
    probes: policy.probes,
    detectionTime,
    lateBy: Math.max(0, detectionTime - askedDetectionTime(policy)),
    brokerDetectionTime: keepalive === 0 ? null : keepalive * 1500,
    serverKeepAlive,
    probesPerIdleHour: perHour(idle),
    warnings: Object.freeze(warnings),
  })
}

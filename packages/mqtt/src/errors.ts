/**
 * The errors of @keepalive/mqtt, one class per failure, each with a stable `KA_ERR_MQTT_*` code (listed in the
 * README). They are `KeepaliveError`s: `isKeepaliveError(err, code)` and `instanceof` work across package copies.
 */
import { defineError } from '@keepalive/core/internal'

/** The broker stopped answering: no byte for the detection time, `probes` PINGREQs unanswered. `cause`: the monitor's `KA_ERR_PROBE_TIMEOUT`. */
export const MqttPingrespTimeoutError = defineError(
  'KA_ERR_MQTT_PINGRESP_TIMEOUT',
  'MqttPingrespTimeoutError',
)
/** CONNECT was sent and nothing (no CONNACK, no byte) came back within the detection time. */
export const MqttConnackTimeoutError = defineError('KA_ERR_MQTT_CONNACK_TIMEOUT', 'MqttConnackTimeoutError')
/** `mqttOptions(policy, { keepalive: 0 })`: the caller asked for no keepalive while the policy asks for one. */
export const MqttKeepaliveOffError = defineError('KA_ERR_MQTT_KEEPALIVE_OFF', 'MqttKeepaliveOffError')
/** `watchMqtt` on a client that was ended (`client.end()`) or is ending. */
export const MqttClientClosedError = defineError('KA_ERR_MQTT_CLIENT_CLOSED', 'MqttClientClosedError')
/** The mqtt.js in use is outside the supported range, or its keepalive manager no longer looks as expected. */
export const MqttUnsupportedError = defineError('KA_ERR_MQTT_UNSUPPORTED', 'MqttUnsupportedError')

export type MqttPingrespTimeoutError = InstanceType<typeof MqttPingrespTimeoutError>
export type MqttConnackTimeoutError = InstanceType<typeof MqttConnackTimeoutError>
export type MqttKeepaliveOffError = InstanceType<typeof MqttKeepaliveOffError>
export type MqttClientClosedError = InstanceType<typeof MqttClientClosedError>
export type MqttUnsupportedError = InstanceType<typeof MqttUnsupportedError>

// The public surface of @keepalive/mqtt, named export by export.

export { mqttChannels } from './diagnostics.js'

export {
  MqttClientClosedError,
  MqttConnackTimeoutError,
  MqttKeepaliveOffError,
  MqttPingrespTimeoutError,
  MqttUnsupportedError,
} from './errors.js'
export type { MqttjsTimer } from './mqttjs-timer.js'
export { TimerGate } from './mqttjs-timer.js'
export type { MqttKeepaliveOptions } from './options.js'
export { mqttOptions } from './options.js'
export type {
  MqttDeadEvent,
  MqttKeepaliveEvent,
  MqttStallEvent,
  MqttWatcher,
  MqttWatcherEvents,
  MqttWatcherState,
} from './watch.js'
export { watchMqtt } from './watch.js'

/**
 * The `keepalive:mqtt:*` diagnostics channels. Every message carries the mqtt.js `client`; publishers build a
 * message only when the channel has subscribers.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { debugChannels } from '@keepalive/core/internal'

export const mqttChannels = {
  /** A watcher started: `{ client, policy }`. */
  watch: diagnosticsChannel.channel('keepalive:mqtt:watch'),
  /**
   * A CONNACK settled the Keep Alive in force: `{ client, keepalive, requested, serverKeepAlive, settings,
   * warnings }` (the same object as the watcher's `keepalive` event).
   */
  keepalive: diagnosticsChannel.channel('keepalive:mqtt:keepalive'),
  /** The watcher sent a PINGREQ: `{ client, cause }`, cause `'silence'` (receive side) or `'send-idle'` ([MQTT-3.1.2-23]). */
  pingreq: diagnosticsChannel.channel('keepalive:mqtt:pingreq'),
  /**
   * `{ client, paused }`: mqtt.js stopped reading the connection (`paused: true`: its message handlers are
   * backlogged) or resumed (`paused: false`). While paused, broker silence is not counted.
   */
  stall: diagnosticsChannel.channel('keepalive:mqtt:stall'),
  /** The broker was declared dead and the connection closed: `{ client, reason, silenceMs, probesSent, detectionMs }`. */
  dead: diagnosticsChannel.channel('keepalive:mqtt:dead'),
  /** A watcher stopped: `{ client }`. */
  stop: diagnosticsChannel.channel('keepalive:mqtt:stop'),
} as const

// NODE_DEBUG=keepalive prints these too, one line each, as every package's (core's debugChannels).
debugChannels(mqttChannels)

// The watcher contract (core's Watcher, #23) against watchMqtt on an mqtt.js client of aedes in this process, through
// the contract's proxy (test/harness/watcher-contract.ts).

import { mqttOptions, watchMqtt } from '@keepalive/mqtt'
import { registerCleanup, startAedes } from '@keepalive/test-harness'
import { describeWatcherContract } from '@keepalive/test-harness/watcher-contract'
import mqtt from 'mqtt'

describeWatcherContract({
  name: 'MqttWatcher',
  ownEvents: ['keepalive', 'stall'],
  deadCode: 'KA_ERR_MQTT_PINGRESP_TIMEOUT',
  async connect(policy, via) {
    const broker = await startAedes()
    const target = await via(broker)
    // Keep Alive 10 s, longer than the contract's detection time: the send side's PINGREQs (one per Keep Alive) and
    // their PINGRESPs stay out of the receive side's probes the contract counts, and aedes (1.5 × Keep Alive) never
    // drops the client for its own reasons within a test. watchMqtt is given the contract's policy.
    const client = mqtt.connect(
      `mqtt://${target.host}:${target.port}`,
      mqttOptions({ idle: '10s', interval: '1s', probes: 1 }, { reconnectPeriod: 0 }),
    )
    client.on('error', () => {})
    registerCleanup('mqtt client', () => client.end(true))
    const watcher = watchMqtt(client, policy)
    registerCleanup('mqtt watcher', () => watcher.stop())
    await new Promise((resolve) => watcher.once('keepalive', resolve))
    return { watcher }
  },
})

/**
 * `check mqtt(s)://[user:password@]host[:port]`: connects with mqtt.js, `mqttOptions(policy)` and `watchMqtt`,
 * MQTT 5 first (whose CONNACK may carry a Server Keep Alive that replaces ours, [MQTT-3.2.2-21]) and MQTT 3.1.1
 * when the broker refuses 5; reports the Keep Alive asked, granted and in force, what the watcher does with it, and
 * times a few PINGREQ → PINGRESP round trips. Credentials in the URL are used, never printed.
 */
import { performance } from 'node:perf_hooks'
import { mqttSettings } from '@keepalive/core'
import { type MqttKeepaliveEvent, mqttOptions, watchMqtt } from '@keepalive/mqtt'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { CliCheckFailedError } from '../errors.js'
import { type CheckOptions, type CheckResult, roundTrips } from './result.js'

interface Connected {
  readonly client: MqttClient
  readonly keepalive: MqttKeepaliveEvent
  readonly watcher: ReturnType<typeof watchMqtt>
}

function connectOnce(base: IClientOptions, options: CheckOptions, display: string): Promise<Connected> {
  const client = mqtt.connect(mqttOptions(options.policy, base))
  const watcher = watchMqtt(client, options.policy)
  return new Promise((resolve, reject) => {
    const fail = (why: string, cause?: unknown) => {
      clearTimeout(timer)
      watcher.stop()
      client.end(true)
      reject(new CliCheckFailedError(`cannot connect to ${display}: ${why}`, { cause }))
    }
    const timer = setTimeout(() => fail(`no CONNACK within ${options.timeout} ms`), options.timeout)
    client.once('error', (error) => fail((error as NodeJS.ErrnoException).code ?? error.message, error))
    client.once('close', () => fail('the broker closed the connection before CONNACK'))
    watcher.once('keepalive', (keepalive) => {
      clearTimeout(timer)
      client.removeAllListeners('close')
      client.removeAllListeners('error')
      client.on('error', () => {})
      resolve({ client, keepalive, watcher })
    })
  })
}

export async function checkMqtt(display: string, url: URL, options: CheckOptions): Promise<CheckResult> {
  const tls = url.protocol === 'mqtts:'
  const base: IClientOptions = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (tls ? 8883 : 1883) : Number(url.port),
    protocol: tls ? 'mqtts' : 'mqtt',
    reconnectPeriod: 0,
    connectTimeout: options.timeout,
    clean: true,
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
  }
  let version = 'MQTT 5'
  let connected: Connected
  try {
    connected = await connectOnce({ ...base, protocolVersion: 5 }, options, display)
  } catch (error) {
    // A 3.1.1-only broker answers CONNECT v5 by closing the connection or with return code 1; one that is
    // unreachable fails the same way again below, with the message users expect.
    if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|no CONNACK within/.test((error as Error).message))
      throw error
    version = 'MQTT 3.1.1 (the broker refused MQTT 5)'
    connected = await connectOnce({ ...base, protocolVersion: 4 }, options, display)
  }
  const { client, keepalive, watcher } = connected
  try {
    const samples: number[] = []
    for (let i = 0; i < options.samples; i++) samples.push(await ping(client, display, options.timeout))
    const asked = mqttSettings(options.policy)
    const inForce = keepalive.settings
    return {
      url: display,
      protocol: 'mqtt',
      policy: options.policy,
      asked: {
        'Keep Alive (CONNECT), s': asked.keepalive,
        'PINGREQ after silence, ms': asked.monitor.idle,
        'PINGRESP wait, ms': asked.pingrespTimeout,
        'unanswered PINGREQs': asked.probes,
        'detection, ms': asked.detectionTime,
      },
      applied: {
        version,
        'Keep Alive (CONNECT), s': keepalive.requested,
        'Server Keep Alive (CONNACK), s': keepalive.serverKeepAlive ?? null,
        'Keep Alive in force, s': keepalive.keepalive,
        'PINGREQ after silence, ms': inForce.monitor.idle,
        'PINGRESP wait, ms': inForce.pingrespTimeout,
        'unanswered PINGREQs': inForce.probes,
        'detection, ms': inForce.detectionTime,
        'broker drops a silent client after, ms': inForce.brokerDetectionTime,
      },
      roundTrips: roundTrips('PINGREQ → PINGRESP', samples),
      warnings: [...keepalive.warnings],
    }
  } finally {
    watcher.stop()
    client.end(true)
  }
}

function ping(client: MqttClient, display: string, timeout: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const onPacket = (packet: { cmd: string }) => {
      if (packet.cmd !== 'pingresp') return
      clearTimeout(timer)
      client.off('packetreceive', onPacket)
      resolve(performance.now() - started)
    }
    const timer = setTimeout(() => {
      client.off('packetreceive', onPacket)
      reject(new CliCheckFailedError(`${display}: no PINGRESP within ${timeout} ms`))
    }, timeout)
    client.on('packetreceive', onPacket)
    client.sendPing()
  })
}

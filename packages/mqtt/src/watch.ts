/**
 * `watchMqtt(client, policy?)`: dead-broker detection on a live mqtt.js client, on core's `createMonitor`.
 *
 * Two clocks, as the spec and gRFC A8 keep them apart:
 * - Receive side (liveness): a monitor touched by every chunk of **bytes arriving from the broker**, tapped from
 *   the connection stream ahead of mqtt.js's parser (`prependListener('data')`), so a message handler that is
 *   slow to finish cannot hide a broker that is talking. After `idle` of silence it sends PINGREQ, waits
 *   `interval`, `probes` times; then the broker is dead: the stream is destroyed (mqtt.js reconnects as it does
 *   for any lost connection) and `dead` says why (`KA_ERR_MQTT_PINGRESP_TIMEOUT`, or `KA_ERR_MQTT_CONNACK_TIMEOUT`
 *   when not even CONNACK came). `idle` is the policy's, capped by the Keep Alive in force.
 * - Send side ([MQTT-3.1.2-23]): a second monitor touched by every packet mqtt.js sends (`packetsend`); when
 *   nothing was sent for the Keep Alive in force, it sends PINGREQ. The broker never drops us for silence.
 *
 * A local stall is not broker silence. When mqtt.js's handlers are backlogged, its pipe pauses the stream and
 * the socket stops reading: the receive monitor is stopped on the stream's `pause`, and a fresh one starts when
 * reading resumes, so the deadline runs from then. (A blocked event loop is core's monitor's own stall rule.)
 *
 * The Keep Alive in force is CONNECT's until CONNACK; an MQTT 5 Server Keep Alive then replaces it
 * ([MQTT-3.2.2-21]), 0 included (no send-side obligation; the receive side still probes after the policy's idle).
 * The watcher follows mqtt.js from stream to stream across reconnects (`packetsend` of CONNECT names the new
 * one) and stops itself when the client is ended. mqtt.js's own keepalive timer is held by the client's
 * `TimerGate` (./mqttjs-timer.ts) while the watcher runs.
 */
import { performance } from 'node:perf_hooks'
import {
  type AliveEvent,
  createMonitor,
  type DeadEvent,
  definePolicy,
  InvalidArgumentError,
  type Monitor,
  MQTT_MAX_KEEPALIVE,
  type MqttSettings,
  mqttSettings,
  mqttSettingsForServerKeepAlive,
  type Policy,
  type PolicyLike,
  type ProbeErrorEvent,
  type ProbeEvent,
  schedulerInfo,
  WATCHER_EVENTS,
  type Watcher,
  type WatcherDeadEvent,
  type WatcherEvents,
  type WatcherState,
} from '@keepalive/core'
import { WatcherEmitter } from '@keepalive/core/internal'
import type { IConnackPacket, MqttClient, Packet } from 'mqtt'
import { mqttChannels } from './diagnostics.js'
import { MqttClientClosedError, MqttConnackTimeoutError, MqttPingrespTimeoutError } from './errors.js'
import { checkVersion, isTimerGate, TimerGate, useGate } from './mqttjs-timer.js'

/** The contract's `dead` event (core's `WatcherDeadEvent`), its `reason` one of this package's two timeouts. */
export interface MqttDeadEvent extends WatcherDeadEvent {
  /** `MqttPingrespTimeoutError` (`KA_ERR_MQTT_PINGRESP_TIMEOUT`), or `MqttConnackTimeoutError` before CONNACK; `cause` is the monitor's reason. */
  readonly reason:
    | InstanceType<typeof MqttPingrespTimeoutError>
    | InstanceType<typeof MqttConnackTimeoutError>
}

export interface MqttKeepaliveEvent {
  /** The Keep Alive in force, seconds: the Server Keep Alive if CONNACK carried one, else CONNECT's. 0 = off. */
  readonly keepalive: number
  /** What CONNECT asked for, seconds. */
  readonly requested: number
  /** CONNACK's Server Keep Alive (MQTT 5), or undefined when absent. */
  readonly serverKeepAlive: number | undefined
  /** Core's arithmetic for the policy and the Keep Alive in force. */
  readonly settings: MqttSettings
  /** What differs from the policy, in words. */
  readonly warnings: readonly string[]
}

export interface MqttStallEvent {
  /** true: mqtt.js stopped reading (handlers backlogged); false: it reads again and the deadline restarts. */
  readonly paused: boolean
}

/** The contract's four events (core's `WatcherEvents`) and MQTT's two. */
export interface MqttWatcherEvents extends WatcherEvents {
  /** A PINGREQ is due on the receive side (nothing is sent before CONNACK). */
  probe: ProbeEvent
  /** Bytes arrived while PINGREQs were unanswered. */
  alive: AliveEvent
  /** The broker is dead; the connection has been destroyed and mqtt.js will reconnect. */
  dead: MqttDeadEvent
  /** `client.sendPing()` threw. */
  probeError: ProbeErrorEvent
  /** A CONNACK settled the Keep Alive in force. */
  keepalive: MqttKeepaliveEvent
  stall: MqttStallEvent
}

/** Core's `WatcherState`: every watcher has the same states. */
export type MqttWatcherState = WatcherState

/**
 * Core's watcher contract (`Watcher`) and what MQTT adds. The watcher follows mqtt.js across reconnects: after
 * `dead` or `disconnected` it is `connecting` again at the next CONNECT; `stopped` (stop() or client.end()) is final.
 */
export interface MqttWatcher extends Watcher<MqttWatcherEvents> {
  /** Idempotent. Leaves no timer and no listener behind, and gives mqtt.js its own keepalive timer back. */
  stop(): void
  /** The last `keepalive` event, or undefined before the first CONNACK. */
  readonly keepalive: MqttKeepaliveEvent | undefined
  /**
   * Every PINGREQ the watcher wrote: the receive side's probes and the send side's Keep Alive obligation
   * ([MQTT-3.1.2-23]). `probesTotal` counts the receive side's probes only.
   */
  readonly pingreqs: number
}

const EVENT_NAMES: readonly string[] = [...WATCHER_EVENTS, 'keepalive', 'stall']

type Stream = MqttClient['stream'] & {
  readableFlowing?: boolean | null
  destroyed?: boolean
  prependListener(event: 'data', listener: () => void): unknown
  destroy(error?: Error): unknown
}

/** Clients with a running watcher: a second one would double every PINGREQ. */
const watched = new WeakSet<object>()

/** Send-side policies by Keep Alive: a handful of distinct values per process. */
const sendPolicies = new Map<number, Policy>()

/**
 * PINGREQ after nothing was sent for K s. One scheduler tick early, because the monitor fires up to a tick late
 * and [MQTT-3.1.2-23] says "does not exceed" (brokers allow 1.5 K, [MQTT-3.1.2-24]).
 */
function sendPolicy(keepaliveS: number): Policy {
  let policy = sendPolicies.get(keepaliveS)
  if (policy === undefined) {
    const k = keepaliveS * 1000
    policy = definePolicy({ idle: Math.max(1, k - schedulerInfo().tickMs), interval: k, probes: 1 })
    if (sendPolicies.size < 256) sendPolicies.set(keepaliveS, policy)
  }
  return policy
}

function checkKeepalive(value: unknown): number {
  if (value === undefined) return 60 // mqtt.js's default
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MQTT_MAX_KEEPALIVE) {
    throw new InvalidArgumentError(
      `watchMqtt: client.options.keepalive must be a whole number of seconds from 0 to ${MQTT_MAX_KEEPALIVE}, got ${String(value)}`,
    )
  }
  return value
}

class MqttWatcherImpl extends WatcherEmitter implements MqttWatcher {
  readonly policy: Policy
  readonly #client: MqttClient
  readonly #gate: TimerGate
  /** The client was not created with mqttOptions: its keepalive manager is swapped onto our gate per connection. */
  readonly #takeover: boolean
  #stream: Stream | null = null
  #recv: Monitor | null = null
  #send: Monitor | null = null
  #recvPolicy: Policy
  #requested = 0
  #acked = false
  #paused = false
  #stopped = false
  #keepalive: MqttKeepaliveEvent | undefined = undefined
  #pingreqs = 0
  #probesTotal = 0
  /** When the last PINGREQ went out (monotonic ms). */
  #pingAt = Number.NEGATIVE_INFINITY
  /** When the last PINGREQ not yet followed by a byte went out (monotonic ms); 0 when none waits. */
  #awaitingSince = 0
  #lastRttMs: number | undefined = undefined
  #deaths = 0
  /** The last connection died of silence, and no new one has started: state `dead`. */
  #died = false
  /** Probes unanswered when the last connection died. */
  #deadProbes = 0

  constructor(client: MqttClient, policy: Policy, gate: TimerGate, takeover: boolean) {
    super('MqttWatcher', EVENT_NAMES)
    this.#client = client
    this.policy = policy
    this.#gate = gate
    this.#takeover = takeover
    this.#recvPolicy = policy
    this.onData = this.onData.bind(this)
    this.onPause = this.onPause.bind(this)
    this.onResume = this.onResume.bind(this)
    this.onPacketSend = this.onPacketSend.bind(this)
    this.onConnack = this.onConnack.bind(this)
    this.onClose = this.onClose.bind(this)
    this.stop = this.stop.bind(this)
    this.probeRecv = this.probeRecv.bind(this)
    this.probeSend = this.probeSend.bind(this)
    this.onRecvDead = this.onRecvDead.bind(this)
    this.forwardProbe = this.forwardProbe.bind(this)
    this.forwardAlive = this.forwardAlive.bind(this)
    this.forwardProbeError = this.forwardProbeError.bind(this)
  }

  start(): void {
    const client = this.#client
    // First what can throw (an mqtt.js whose manager is not as verified), so a refused watch changes nothing.
    if (this.#takeover) useGate(client, this.#gate)
    watched.add(client)
    this.#gate.claim()
    client.on('packetsend', this.onPacketSend)
    client.on('connect', this.onConnack)
    client.on('close', this.onClose)
    client.on('end', this.stop)
    this.attach()
    const connack = (client as unknown as { connackPacket?: IConnackPacket }).connackPacket
    if (client.connected && this.#stream !== null) this.onConnack(connack)
    if (mqttChannels.watch.hasSubscribers) mqttChannels.watch.publish({ client, policy: this.policy })
  }

  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    const client = this.#client
    watched.delete(client)
    client.off('packetsend', this.onPacketSend)
    client.off('connect', this.onConnack)
    client.off('close', this.onClose)
    client.off('end', this.stop)
    this.detach()
    this.#gate.release()
    if (mqttChannels.stop.hasSubscribers) mqttChannels.stop.publish({ client })
  }

  get state(): MqttWatcherState {
    if (this.#stopped) return 'stopped'
    if (this.#stream === null) return this.#died ? 'dead' : 'disconnected'
    if (this.#paused) return 'stalled'
    if (!this.#acked) return 'connecting'
    return this.#recv?.state === 'probing' ? 'probing' : 'idle'
  }

  get keepalive(): MqttKeepaliveEvent | undefined {
    return this.#keepalive
  }

  get lastSeen(): number | undefined {
    return this.#recv?.lastSeen
  }

  get pingreqs(): number {
    return this.#pingreqs
  }

  get probesSent(): number {
    if (this.#recv !== null) return this.#recv.probesSent
    return this.#died && this.#stream === null ? this.#deadProbes : 0
  }

  get probesTotal(): number {
    return this.#probesTotal
  }

  get lastRttMs(): number | undefined {
    return this.#lastRttMs
  }

  get deaths(): number {
    return this.#deaths
  }

  // --- the connection stream -------------------------------------------------------------------------------

  /** Follows mqtt.js to its current stream: CONNECT has just been written on it (or was, before we were created). */
  private attach(): void {
    const stream = this.#client.stream as Stream | undefined
    if (stream === this.#stream) return
    this.detach()
    if (stream === undefined || stream === null || stream.destroyed === true) return
    this.#died = false
    this.#stream = stream
    this.#requested = checkKeepalive(this.#client.options.keepalive)
    this.#recvPolicy = mqttSettingsForServerKeepAlive(this.policy, this.#requested).monitor
    this.#paused = stream.readableFlowing === false
    stream.prependListener('data', this.onData)
    stream.on('pause', this.onPause)
    stream.on('resume', this.onResume)
    if (!this.#paused) this.startRecv()
  }

  private detach(): void {
    const stream = this.#stream
    if (stream !== null) {
      stream.off('data', this.onData)
      stream.off('pause', this.onPause)
      stream.off('resume', this.onResume)
    }
    this.#stream = null
    this.#recv?.stop()
    this.#recv = null
    this.#send?.stop()
    this.#send = null
    this.#acked = false
    this.#paused = false
    this.#awaitingSince = 0
  }

  /** Bytes from the broker, before mqtt.js parses them. The hot path: one store in the monitor. */
  private onData(): void {
    const recv = this.#recv
    if (recv !== null) recv.touch()
    else if (this.#paused) this.resumed()
    if (this.#awaitingSince !== 0) {
      this.#lastRttMs = performance.now() - this.#awaitingSince
      this.#awaitingSince = 0
    }
  }

  private onPause(): void {
    if (this.#paused || this.#stream === null) return
    this.#paused = true
    this.#recv?.stop()
    this.#recv = null
    this.publishStall(true)
  }

  private onResume(): void {
    // 'resume' is emitted on the next tick: the pipe may have paused again since.
    if (!this.#paused || this.#stream === null || this.#stream.readableFlowing === false) return
    this.resumed()
  }

  private resumed(): void {
    this.#paused = false
    this.startRecv()
    this.publishStall(false)
  }

  private publishStall(paused: boolean): void {
    if (mqttChannels.stall.hasSubscribers) mqttChannels.stall.publish({ client: this.#client, paused })
    if (this.listenerCount('stall') > 0) this.emit('stall', { paused } satisfies MqttStallEvent)
  }

  // --- the two clocks -------------------------------------------------------------------------------------

  private startRecv(): void {
    this.#recv?.stop()
    const recv = createMonitor({ policy: this.#recvPolicy, probe: this.probeRecv, name: 'mqtt' })
    // The three share the monitor's one listener record, so forwarding costs no more than `dead` alone.
    recv
      .on('dead', this.onRecvDead)
      .on('probe', this.forwardProbe)
      .on('alive', this.forwardAlive)
      .on('probeError', this.forwardProbeError)
    this.#recv = recv
  }

  private probeRecv(): void {
    this.#probesTotal++
    if (!this.#acked || !this.#client.connected) return
    // The send side may have sent a PINGREQ a moment ago (its clock runs ~K too): that one is this probe, and a
    // second would only double the traffic. Its PINGRESP, or any byte, answers both.
    if (performance.now() - this.#pingAt < this.#recvPolicy.interval) return
    this.ping('silence')
  }

  private probeSend(): void {
    if (this.#client.connected) this.ping('send-idle')
  }

  private ping(cause: 'silence' | 'send-idle'): void {
    this.#pingreqs++
    this.#pingAt = performance.now()
    this.#awaitingSince = this.#pingAt
    if (mqttChannels.pingreq.hasSubscribers) mqttChannels.pingreq.publish({ client: this.#client, cause })
    // Writes synchronously and emits 'packetsend', which touches the send clock.
    this.#client.sendPing()
  }

  private forwardProbe(event: ProbeEvent): void {
    if (this.listenerCount('probe') > 0) this.emit('probe', event)
  }

  private forwardAlive(event: AliveEvent): void {
    if (this.listenerCount('alive') > 0) this.emit('alive', event)
  }

  private forwardProbeError(event: ProbeErrorEvent): void {
    if (this.listenerCount('probeError') > 0) this.emit('probeError', event)
  }

  private onPacketSend(packet: Packet): void {
    if (packet.cmd === 'connect') this.attach()
    else this.#send?.touch()
  }

  private onConnack(connack: IConnackPacket | undefined): void {
    if (this.#client.stream !== this.#stream) this.attach()
    if (this.#stream === null) return
    this.#acked = true
    const server = connack?.properties?.serverKeepAlive
    const serverKeepAlive = typeof server === 'number' ? server : undefined
    const requested = this.#requested
    const keepalive = serverKeepAlive ?? requested
    const settings =
      serverKeepAlive !== undefined
        ? mqttSettingsForServerKeepAlive(this.policy, serverKeepAlive)
        : mqttSettings(this.policy)
    const warnings = [...settings.warnings]
    if (requested !== mqttSettings(this.policy).keepalive) {
      warnings.push(
        `CONNECT asked for Keep Alive ${requested} s, not the policy's ${mqttSettings(this.policy).keepalive} s: create the client with mqttOptions(policy).`,
      )
    }
    this.#recvPolicy = mqttSettingsForServerKeepAlive(this.policy, keepalive).monitor
    if (!this.#paused) this.startRecv()
    this.#send?.stop()
    this.#send =
      keepalive > 0 ? createMonitor({ policy: sendPolicy(keepalive), probe: this.probeSend }) : null
    // mqtt.js built a new keepalive manager for this connection: keep it on the gate.
    if (this.#takeover) useGate(this.#client, this.#gate)
    const event: MqttKeepaliveEvent = Object.freeze({
      keepalive,
      requested,
      serverKeepAlive,
      settings,
      warnings: Object.freeze(warnings),
    })
    this.#keepalive = event
    if (mqttChannels.keepalive.hasSubscribers)
      mqttChannels.keepalive.publish({ client: this.#client, ...event })
    if (this.listenerCount('keepalive') > 0) this.emit('keepalive', event)
  }

  private onClose(): void {
    this.detach()
  }

  private onRecvDead(event: DeadEvent): void {
    const stream = this.#stream
    const acked = this.#acked
    const detectionMs = detection(this.#recvPolicy)
    this.#deaths++
    this.detach()
    const { silenceMs, probesSent } = event
    this.#died = true
    this.#deadProbes = probesSent
    const silence = Math.round(silenceMs)
    const reason = acked
      ? new MqttPingrespTimeoutError(
          `MQTT broker silent for ${silence} ms, ${probesSent} PINGREQ${probesSent === 1 ? '' : 's'} unanswered (detection time ${this.detectionText()})`,
          { cause: event.reason },
        )
      : new MqttConnackTimeoutError(
          `No CONNACK (no byte at all) from the MQTT broker ${silence} ms after CONNECT (detection time ${this.detectionText()})`,
          { cause: event.reason },
        )
    // mqtt.js sees the stream close and reconnects as for any lost connection.
    stream?.destroy()
    const dead: MqttDeadEvent = { reason, silenceMs, probesSent, detectionMs }
    if (mqttChannels.dead.hasSubscribers) mqttChannels.dead.publish({ client: this.#client, ...dead })
    this.emit('dead', dead)
  }

  private detectionText(): string {
    const p = this.#recvPolicy
    return `${detection(p)} ms = idle ${p.idle} ms + ${p.probes} × ${p.interval} ms`
  }
}

function detection(p: Policy): number {
  return p.idle + p.interval * p.probes
}

/**
 * Watches a live mqtt.js client for a dead broker.
 *
 * ```ts
 * const client = mqtt.connect(url, mqttOptions('fast'))
 * const watcher = watchMqtt(client) // the policy given to mqttOptions
 * watcher.on('dead', ({ reason }) => log.warn(reason.message)) // mqtt.js reconnects
 * ```
 */
export function watchMqtt(client: MqttClient, policy?: PolicyLike): MqttWatcher {
  const c = client as unknown as Record<string, unknown> | null
  if (
    c === null ||
    typeof c !== 'object' ||
    typeof c.on !== 'function' ||
    typeof c.off !== 'function' ||
    typeof c.sendPing !== 'function' ||
    c.options === null ||
    typeof c.options !== 'object'
  ) {
    throw new InvalidArgumentError(
      `watchMqtt: client must be an mqtt.js MqttClient (mqtt.connect(...)), got ${c === null ? 'null' : typeof c}`,
    )
  }
  if (client.disconnecting || client.disconnected) {
    throw new MqttClientClosedError(
      'watchMqtt: the client has been ended (client.end()); watch a connected or connecting client',
    )
  }
  if (watched.has(client)) {
    throw new InvalidArgumentError('watchMqtt: this client is already watched; stop() that watcher first')
  }
  const timerVariant = client.options.timerVariant
  const takeover = !isTimerGate(timerVariant)
  const gate = takeover ? new TimerGate(undefined, timerVariant) : (timerVariant as TimerGate)
  const resolved = definePolicy(policy ?? gate.policy)
  checkKeepalive(client.options.keepalive)
  if (takeover) checkVersion((client.constructor as { VERSION?: unknown }).VERSION)
  const watcher = new MqttWatcherImpl(client, resolved, gate, takeover)
  watcher.start()
  return watcher
}

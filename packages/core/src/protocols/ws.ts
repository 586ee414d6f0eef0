// How WebSocket liveness expresses a policy. Pure arithmetic: @keepalive/ws runs a monitor with `watch` (a ping
// after `idle` of silence, `probes` pings `interval` apart); socket.io / engine.io get `pingInterval` and
// `pingTimeout` that never detect later than the policy, with what engine.io cannot express in `warnings`.

import { definePolicy } from '../policy.js'
import type { Policy, PolicyLike } from '../types.js'
import { askedDetectionTime, human, MAX_TIMER_MS, perHour } from './common.js'

export interface WsSettings {
  /** What the watcher's monitor runs with: the policy itself (ws can ping at any time, in ms). */
  readonly watch: Policy
  /** idle + interval × probes, ms: how soon a silent peer is terminated. */
  readonly detectionTime: number
  /** Always 0: ws pings are sent when the policy says. Kept for symmetry with the other protocols. */
  readonly lateBy: number
  /** One ping per `idle` of silence while the peer answers. */
  readonly probesPerIdleHour: number
}

export interface SocketIoSettings {
  /** engine.io's `pingInterval`, ms: the server pings this long after the last pong. */
  readonly pingInterval: number
  /** engine.io's `pingTimeout`, ms: the server closes the connection when no pong came this long after a ping. */
  readonly pingTimeout: number
  /**
   * pingInterval + pingTimeout, ms: the latest a dead client is found by the server after its last byte (the
   * server's ping goes out pingInterval after the last pong, which is no later than the last byte), and the
   * latest a socket.io client finds a dead server after the server's last ping.
   */
  readonly detectionTime: number
  /** Always 0: never later than the policy. */
  readonly lateBy: number
  /** One ping per pingInterval (+ RTT), whether or not the connection carries data. */
  readonly probesPerIdleHour: number
  /** What engine.io cannot express of the policy, in words. */
  readonly warnings: readonly string[]
}

/** The @keepalive/ws watcher's settings for a policy: the policy as it is, since a ping can go out at any ms. */
export function wsSettings(policyLike: PolicyLike): WsSettings {
  const policy = definePolicy(policyLike)
  return {
    watch: policy,
    detectionTime: askedDetectionTime(policy),
    lateBy: 0,
    probesPerIdleHour: perHour(policy.idle),
  }
}

/**
 * engine.io (socket.io ≥ 3) `pingInterval` / `pingTimeout` for a policy.
 *
 * engine.io has one probe: the server pings `pingInterval` after the last pong and closes the connection when the
 * pong has not come `pingTimeout` later. pingInterval = idle and pingTimeout = interval × probes make its
 * detection time the policy's exactly. What it cannot express is reported: the probes collapse into one long wait
 * (no retry), only a pong counts as life on the server (a client whose pong is queued behind a large message is
 * closed; @keepalive/ws counts every byte), and it pings on a fixed period even while data flows.
 */
export function socketIoSettings(policyLike: PolicyLike): SocketIoSettings {
  const policy = definePolicy(policyLike)
  const warnings: string[] = []
  const pingInterval = Math.min(policy.idle, MAX_TIMER_MS)
  let pingTimeout = Math.min(policy.interval * policy.probes, MAX_TIMER_MS)
  if (pingTimeout < 1) pingTimeout = 1
  if (policy.probes > 1) {
    warnings.push(
      `engine.io sends one ping and waits for it: the policy's ${policy.probes} probes ${human(policy.interval)} apart become one wait of ${human(pingTimeout)} (no retry of a lost ping).`,
    )
  }
  warnings.push(
    `engine.io's server counts only a pong as life: a client whose pong is queued behind a message that takes longer than pingTimeout (${human(pingTimeout)}) to arrive is closed; @keepalive/ws counts every byte received.`,
  )
  warnings.push(
    `engine.io pings every ${human(pingInterval)} whether or not the connection carries data (${perHour(pingInterval)} pings per hour per connection).`,
  )
  if (pingInterval + pingTimeout < askedDetectionTime(policy)) {
    warnings.push(
      `A timer cannot wait longer than ${human(MAX_TIMER_MS)}: detection is ${human(pingInterval + pingTimeout)}, earlier than asked.`,
    )
  }
  return {
    pingInterval,
    pingTimeout,
    detectionTime: pingInterval + pingTimeout,
    lateBy: 0,
    probesPerIdleHour: perHour(pingInterval),
    warnings,
  }
}

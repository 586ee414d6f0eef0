/**
 * `watchIoredis(client, policy?)`: PING as the application-level probe on an idle ioredis connection, for paths
 * where TCP keepalive does not reach the server (a proxy or load balancer that terminates TCP, a managed Redis
 * behind one) and a hung server would otherwise be found only by the next command.
 *
 * A core monitor (createMonitor) sends `PING` after `idle` without an answer, every `interval`; after `probes`
 * unanswered, the connection is destroyed with RedisPingTimeoutError (KA_ERR_REDIS_PING_TIMEOUT) and ioredis
 * reconnects as for any lost connection (its `retryStrategy`). **A busy connection is never probed**: while any
 * command awaits its reply (a `BLPOP` blocking for minutes, a slow `KEYS`), a PING would queue behind it and go
 * unanswered, so the monitor counts the connection as alive (TCP keepalive, set by ioredisOptions, guards it
 * meanwhile). "Busy" is ioredis's `commandQueue` (public in its types: the commands sent and not yet answered).
 */
import { EventEmitter } from 'node:events'
import type net from 'node:net'
import {
  createMonitor,
  definePolicy,
  InvalidArgumentError,
  type Monitor,
  type Policy,
  type PolicyLike,
} from '@keepalive/core'
import { describeValue } from '@keepalive/core/internal'
import { redisChannels } from './diagnostics.js'
import { RedisPingTimeoutError, RedisUnsupportedError } from './errors.js'

/** What watchIoredis needs of an ioredis client (checked at the call). */
export interface IoredisLike {
  ping: (...args: never[]) => unknown
  on: (...args: never[]) => unknown
  removeListener: (...args: never[]) => unknown
  readonly status: string
  readonly commandQueue: { readonly length: number }
  readonly stream?: unknown
}

interface Client {
  ping(): Promise<unknown>
  on(event: string, listener: () => void): unknown
  removeListener(event: string, listener: () => void): unknown
  readonly status: string
  readonly commandQueue: { readonly length: number }
  readonly stream?: net.Socket
}

export interface IoredisWatcherEvents {
  probe: { readonly attempt: number }
  alive: { readonly rttMs: number | undefined }
  dead: { readonly reason: RedisPingTimeoutError; readonly silenceMs: number; readonly probesSent: number }
}

export interface IoredisWatcher {
  readonly policy: Policy
  /** PINGs sent since the watcher started. */
  readonly probesSent: number
  /** Probes skipped because a command was awaiting its reply (the connection counted as alive). */
  readonly skippedBusy: number
  on<E extends keyof IoredisWatcherEvents>(event: E, listener: (event: IoredisWatcherEvents[E]) => void): this
  off<E extends keyof IoredisWatcherEvents>(
    event: E,
    listener: (event: IoredisWatcherEvents[E]) => void,
  ): this
  /** Stops the monitor and unhooks from the client. Idempotent. */
  stop(): void
}

const EVENTS = new Set<string>(['probe', 'alive', 'dead'])

export function watchIoredis(client: IoredisLike, policy?: PolicyLike): IoredisWatcher {
  const resolved = definePolicy(policy)
  checkClient(client)
  const c = client as unknown as Client
  const emitter = new EventEmitter()
  let probesSent = 0
  let skippedBusy = 0
  let pendingPings = 0
  let stopped = false
  // One monitor per connection: a dead one is replaced when ioredis has reconnected ('ready').
  const startMonitor = (): Monitor => {
    const monitor = createMonitor({
      policy: resolved,
      name: 'ioredis connection',
      probe: ({ attempt }) => {
        // Not connected (ioredis is reconnecting) or busy: a PING now would prove nothing, or queue behind a command.
        // Our own unanswered PINGs are in the queue too: only someone else's command makes the connection busy.
        if (c.status !== 'ready' || c.commandQueue.length > pendingPings) {
          if (c.status === 'ready') skippedBusy++
          monitor.touch()
          return undefined
        }
        probesSent++
        if (redisChannels.probe.hasSubscribers) redisChannels.probe.publish({ client, attempt })
        emitter.emit('probe', { attempt })
        pendingPings++
        const settled = (): void => {
          pendingPings--
        }
        const reply = c.ping()
        reply.then(settled, settled)
        return reply
      },
    })
    monitor.on('alive', ({ rttMs }) => emitter.emit('alive', { rttMs }))
    monitor.on('dead', ({ reason, silenceMs, probesSent: sent }) => {
      const error = new RedisPingTimeoutError(
        `redis: ${sent} PING${sent === 1 ? '' : 's'} unanswered in ${Math.round(silenceMs)} ms: connection destroyed`,
        { cause: reason },
      )
      if (redisChannels.dead.hasSubscribers) {
        redisChannels.dead.publish({ client, reason: error, silenceMs, probesSent: sent })
      }
      emitter.emit('dead', { reason: error, silenceMs, probesSent: sent })
      c.stream?.destroy(error)
    })
    return monitor
  }
  let current = startMonitor()
  const onReady = (): void => {
    if (stopped) return
    if (current.state === 'dead') current = startMonitor()
    else current.touch()
  }
  c.on('ready', onReady)
  const watcher: IoredisWatcher = {
    policy: resolved,
    get probesSent() {
      return probesSent
    },
    get skippedBusy() {
      return skippedBusy
    },
    on(event, listener) {
      checkEvent(event, listener)
      emitter.on(event, listener as (e: unknown) => void)
      return this
    },
    off(event, listener) {
      checkEvent(event, listener)
      emitter.off(event, listener as (e: unknown) => void)
      return this
    },
    stop() {
      if (stopped) return
      stopped = true
      c.removeListener('ready', onReady)
      current.stop()
    },
  }
  return watcher
}

function checkClient(client: unknown): void {
  const c = client as Partial<IoredisLike> | null
  const ok =
    c !== null &&
    typeof c === 'object' &&
    typeof c.ping === 'function' &&
    typeof c.on === 'function' &&
    typeof c.removeListener === 'function' &&
    typeof c.status === 'string' &&
    typeof c.commandQueue?.length === 'number'
  if (!ok) {
    throw new RedisUnsupportedError(
      `watchIoredis: client must be an ioredis Redis client (ping, status, commandQueue), got ${describeValue(client)}`,
    )
  }
}

function checkEvent(event: unknown, listener: unknown): void {
  if (typeof event !== 'string' || !EVENTS.has(event)) {
    throw new InvalidArgumentError(
      `watchIoredis: unknown event ${describeValue(event)} (expected probe, alive, dead)`,
    )
  }
  if (typeof listener !== 'function') {
    throw new InvalidArgumentError(
      `watchIoredis: the ${event} listener must be a function, got ${describeValue(listener)}`,
    )
  }
}

/**
 * `watchPgPool(pool, policy?, options?)`: an application-level probe on the idle clients of a pg.Pool, for paths
 * where TCP keepalive does not reach the server (a proxy or load balancer that terminates TCP: pgbouncer, an NLB
 * in TLS mode, a cloud SQL proxy) and a dead server behind it would otherwise be found only by the next query.
 *
 * Each client gets a core monitor (createMonitor) while it sits idle in the pool — from pg-pool's 'release' until its
 * 'acquire' — so the probe (`SELECT 1` unless told otherwise) never runs on a client that is busy with a query: a
 * long query cannot be killed by it, and its probe is never queued behind one. A client that leaves no answer for the
 * detection time is handed to pg-pool as dead through the client's 'error' (PgProbeTimeoutError, KA_ERR_PG_PROBE_TIMEOUT):
 * pg-pool removes it, closes it and re-emits the error as the pool's 'error' `(err, client)`; the next query gets a
 * fresh connection. Uses pg-pool's public events only: 'release', 'acquire', 'remove', and the client's 'end'.
 */
import { EventEmitter } from 'node:events'
import {
  createMonitor,
  definePolicy,
  InvalidArgumentError,
  type Monitor,
  type Policy,
  type PolicyLike,
} from '@keepalive/core'
import { describeValue } from '@keepalive/core/internal'
import { pgChannels } from './diagnostics.js'
import { PgProbeTimeoutError, PgUnsupportedError } from './errors.js'

/** What watchPgPool needs of a client: pg.Client's query, and its events. */
interface PgClientLike {
  query(text: string): Promise<unknown>
  emit(event: 'error', error: Error): boolean
  once(event: 'end', listener: () => void): unknown
  removeListener(event: 'end', listener: () => void): unknown
}

/** What watchPgPool needs of a pool: pg.Pool's events (checked at the call, so a wrong object fails there). */
export interface PgPoolLike {
  readonly idleCount: number
  connect: (...args: never[]) => unknown
  query: (...args: never[]) => unknown
  on: (...args: never[]) => unknown
  removeListener: (...args: never[]) => unknown
}

/** The pool as used inside: its events, typed. */
interface PoolEvents {
  on(event: string, listener: (...args: never[]) => void): unknown
  removeListener(event: string, listener: (...args: never[]) => void): unknown
}

export interface WatchPgPoolOptions {
  /** The probe query; default `SELECT 1`. Must be cheap and must not depend on a transaction. */
  query?: string
}

export interface PgProbeEvent {
  readonly client: unknown
  readonly attempt: number
}
export interface PgDeadEvent {
  readonly client: unknown
  /** The PgProbeTimeoutError emitted on the client (and, by pg-pool, on the pool). */
  readonly reason: PgProbeTimeoutError
  readonly silenceMs: number
  readonly probesSent: number
}
export interface PgProbeErrorEvent {
  readonly client: unknown
  /** What the probe query rejected with (a `KA_ERR_PROBE_FAILED` whose cause is pg's error). */
  readonly error: Error
}
export interface PgPoolWatcherEvents {
  probe: PgProbeEvent
  alive: { readonly client: unknown; readonly rttMs: number | undefined }
  dead: PgDeadEvent
  probeError: PgProbeErrorEvent
}

export interface PgPoolWatcher {
  readonly policy: Policy
  /** Idle clients under watch now. */
  readonly watched: number
  /** Probe queries sent since the watcher started. */
  readonly probesSent: number
  on<E extends keyof PgPoolWatcherEvents>(event: E, listener: (event: PgPoolWatcherEvents[E]) => void): this
  off<E extends keyof PgPoolWatcherEvents>(event: E, listener: (event: PgPoolWatcherEvents[E]) => void): this
  /** Stops every monitor and unhooks from the pool. Idempotent. */
  stop(): void
}

const EVENTS = new Set<string>(['probe', 'alive', 'dead', 'probeError'])

export function watchPgPool(
  pool: PgPoolLike,
  policy?: PolicyLike,
  options?: WatchPgPoolOptions,
): PgPoolWatcher {
  const resolved = definePolicy(policy)
  checkPool(pool)
  const query = readQuery(options)
  const emitter = new EventEmitter()
  const monitors = new Map<PgClientLike, { monitor: Monitor; onEnd: () => void }>()
  let probesSent = 0
  let stopped = false

  const unwatch = (client: PgClientLike): void => {
    const entry = monitors.get(client)
    if (!entry) return
    monitors.delete(client)
    entry.monitor.stop()
    client.removeListener('end', entry.onEnd)
  }

  const watch = (client: PgClientLike): void => {
    if (stopped || monitors.has(client)) return
    const monitor = createMonitor({
      policy: resolved,
      name: 'pg idle client',
      probe: ({ attempt }) => {
        probesSent++
        if (pgChannels.probe.hasSubscribers) pgChannels.probe.publish({ pool, client, attempt })
        emitter.emit('probe', { client, attempt })
        return client.query(query).catch((error: unknown) => {
          // An error the server sent (pg's DatabaseError carries its severity) is an answer: the server lives. The
          // failure is still reported as a probeError, so a broken probe query does not go unnoticed.
          if (isServerAnswer(error)) monitor.touch()
          throw error
        })
      },
    })
    monitor.on('alive', ({ rttMs }) => emitter.emit('alive', { client, rttMs }))
    monitor.on('probeError', ({ error }) => emitter.emit('probeError', { client, error }))
    monitor.on('dead', ({ reason, silenceMs, probesSent: sent }) => {
      unwatch(client)
      const error = new PgProbeTimeoutError(
        `pg: an idle pooled client answered none of ${sent} probe ${sent === 1 ? 'query' : 'queries'} (${query}) in ${Math.round(silenceMs)} ms: removed from the pool`,
        { cause: reason },
      )
      if (pgChannels.dead.hasSubscribers) {
        pgChannels.dead.publish({ pool, client, reason: error, silenceMs, probesSent: sent })
      }
      emitter.emit('dead', { client, reason: error, silenceMs, probesSent: sent })
      // pg-pool's idle listener on the client removes it from the pool and re-emits this as the pool's 'error'.
      client.emit('error', error)
    })
    const onEnd = (): void => unwatch(client)
    client.once('end', onEnd)
    monitors.set(client, { monitor, onEnd })
  }

  const onRelease = (error: unknown, client: PgClientLike): void => {
    // A client released with an error is removed by pg-pool: nothing to watch.
    if (error) unwatch(client)
    else watch(client)
  }
  const onAcquire = (client: PgClientLike): void => unwatch(client)
  const onRemove = (client: PgClientLike): void => unwatch(client)
  const events = pool as unknown as PoolEvents
  events.on('release', onRelease)
  events.on('acquire', onAcquire)
  events.on('remove', onRemove)

  const watcher: PgPoolWatcher = {
    policy: resolved,
    get watched() {
      return monitors.size
    },
    get probesSent() {
      return probesSent
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
      events.removeListener('release', onRelease)
      events.removeListener('acquire', onAcquire)
      events.removeListener('remove', onRemove)
      for (const client of [...monitors.keys()]) unwatch(client)
    },
  }
  return watcher
}

function checkPool(pool: unknown): void {
  const p = pool as Partial<PgPoolLike> | null
  const ok =
    p !== null &&
    typeof p === 'object' &&
    typeof p.on === 'function' &&
    typeof p.removeListener === 'function' &&
    typeof p.connect === 'function' &&
    typeof p.query === 'function' &&
    typeof p.idleCount === 'number'
  if (!ok) {
    throw new PgUnsupportedError(
      `watchPgPool: pool must be a pg.Pool (on, connect, query, idleCount), got ${describeValue(pool)}${
        p !== null &&
        typeof p === 'object' &&
        typeof p.connect === 'function' &&
        typeof p.idleCount !== 'number'
          ? ' (a pg.Client? watch the pool it came from)'
          : ''
      }`,
    )
  }
}

function readQuery(options: unknown): string {
  if (options === undefined) return 'SELECT 1'
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(
      `watchPgPool: options must be an object or absent, got ${describeValue(options)}`,
    )
  }
  for (const key of Object.keys(options)) {
    if (key !== 'query')
      throw new InvalidArgumentError(`watchPgPool: options.${key} is not an option (expected query)`)
  }
  const { query } = options as WatchPgPoolOptions
  if (query === undefined) return 'SELECT 1'
  if (typeof query !== 'string' || query.trim() === '') {
    throw new InvalidArgumentError(
      `watchPgPool: options.query must be a non-empty SQL string, got ${describeValue(query)}`,
    )
  }
  return query
}

function checkEvent(event: unknown, listener: unknown): void {
  if (typeof event !== 'string' || !EVENTS.has(event)) {
    throw new InvalidArgumentError(
      `watchPgPool: unknown event ${describeValue(event)} (expected probe, alive, dead, probeError)`,
    )
  }
  if (typeof listener !== 'function') {
    throw new InvalidArgumentError(
      `watchPgPool: the ${event} listener must be a function, got ${describeValue(listener)}`,
    )
  }
}

/** pg rejects with a DatabaseError (with the server's `severity`) when the server answered with an error. */
function isServerAnswer(error: unknown): boolean {
  return (
    error !== null &&
    typeof error === 'object' &&
    typeof (error as { severity?: unknown }).severity === 'string'
  )
}

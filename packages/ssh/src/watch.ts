/**
 * `watchSsh`: OpenSSH-semantics liveness on an ssh2 client or server connection, on core's `createMonitor`.
 *
 * Life is any byte received: every chunk on the transport touches the monitor, so a connection that streams is
 * never probed, let alone declared dead (ssh2's client keepalive counts only replies: ssh2 #474). When the peer
 * is silent for the policy's `idle`, the watcher sends `keepalive@openssh.com` with want-reply (what OpenSSH
 * sends; REQUEST_SUCCESS and REQUEST_FAILURE both answer it), then again every `interval`; `detectionTime` after
 * the last byte with nothing received, the connection is destroyed with a `SshKeepaliveTimeoutError`.
 *
 * ssh2's own keepalive may run too (the client's when `keepaliveInterval` is set, the server's is on by
 * default at 15 s × 3). They do not fight: both judge the same silence. On the client the watcher resets
 * ssh2's count whenever bytes arrive (at most four times per ssh2 interval), which gives ssh2's timer OpenSSH's
 * semantics, so it no longer kills a streaming connection; ssh2's server keepalive already resets on every
 * packet. Whichever notices first ends the connection, and the watcher's `dead` fires once, with `by` naming it
 * ('watchSsh', 'ssh2', or 'tcp' for a kernel keepalive / user timeout ETIMEDOUT).
 */
import { errorMonitor } from 'node:events'
import {
  type AliveEvent,
  createMonitor,
  definePolicy,
  InvalidArgumentError,
  type KeepaliveError,
  type Monitor,
  type Policy,
  type PolicyLike,
  type ProbeErrorEvent,
  type ProbeEvent,
  WATCHER_EVENTS,
  type Watcher,
  type WatcherDeadEvent,
  type WatcherEvents,
  type WatcherState,
} from '@keepalive/core'
import { WatcherEmitter } from '@keepalive/core/internal'
import { sshChannels } from './diagnostics.js'
import { SshConnectionClosedError, SshKeepaliveTimeoutError } from './errors.js'
import { type Ssh2Access, type Ssh2Transport, ssh2Access } from './ssh2-internals.js'

/** Which timer noticed the silence. */
export type SshDeadBy = 'watchSsh' | 'ssh2' | 'tcp'

/** The contract's `dead` event (core's `WatcherDeadEvent`) and which timer noticed. */
export interface SshDeadEvent extends WatcherDeadEvent {
  /** `SshKeepaliveTimeoutError` (`KA_ERR_SSH_KEEPALIVE_TIMEOUT`); `cause` is what noticed. */
  readonly reason: KeepaliveError
  /** Which timer noticed first: this watcher, ssh2's own keepalive, or the kernel's TCP keepalive. */
  readonly by: SshDeadBy
}

export interface SshCloseEvent {
  /** Why the connection ended: the `dead` reason, or an `SshConnectionClosedError` whose `cause` is the connection's last error. */
  readonly reason: KeepaliveError
}

/** The contract's four events (core's `WatcherEvents`) and `close`. */
export interface SshWatcherEvents extends WatcherEvents {
  probe: ProbeEvent
  alive: AliveEvent
  dead: SshDeadEvent
  probeError: ProbeErrorEvent
  close: SshCloseEvent
}

/** Core's `WatcherState`: every watcher has the same states. */
export type SshWatcherState = WatcherState

/**
 * Core's watcher contract (`Watcher`) and what SSH adds. One connection: `connecting` until it is authenticated
 * (global requests are not allowed before), then `idle`/`probing`; `dead` (died of silence) and `disconnected`
 * (closed otherwise) are final, as is `stopped`.
 */
export interface SshWatcher extends Watcher<SshWatcherEvents> {
  /** Stops watching (idempotent): no timer, no listener left on the connection. The connection stays open. */
  stop(): void
  readonly side: 'client' | 'server'
  /** ssh2's own client keepalive, when configured; undefined when off, and on the server (not readable there). */
  readonly ssh2Keepalive: { readonly intervalMs: number; readonly countMax: number } | undefined
}

const EVENT_NAMES: readonly string[] = [...WATCHER_EVENTS, 'close']

interface Ssh2Connection {
  on(event: string | symbol, listener: (...args: never[]) => void): unknown
  once(event: string | symbol, listener: (...args: never[]) => void): unknown
  removeListener(event: string | symbol, listener: (...args: never[]) => void): unknown
}

class SshWatcherImpl extends WatcherEmitter implements SshWatcher {
  readonly side: 'client' | 'server'
  readonly policy: Policy
  readonly ssh2Keepalive: SshWatcher['ssh2Keepalive']
  private monitor: Monitor | undefined
  /** Stopped or closed: nothing more to watch. */
  private ended = false
  private stopped = false
  private deadReason: KeepaliveError | undefined
  private probeCount = 0
  private rtt: number | undefined = undefined
  /** When the last probe not yet followed by a byte was sent (monotonic ms); 0 when none waits. */
  private awaitingSince = 0
  /** Monitor events already passed on (bits: probe 1, alive 2, probeError 4). */
  private forwarded = 0
  private lastError: unknown
  private lastReset = 0
  private readonly socket: Ssh2Transport

  constructor(
    private readonly connection: Ssh2Connection,
    private readonly access: Ssh2Access,
    socket: Ssh2Transport,
    policy: Policy,
  ) {
    super('SshWatcher', EVENT_NAMES)
    this.side = access.side
    this.policy = policy
    this.socket = socket
    this.ssh2Keepalive = access.ownKeepalive
    connection.on(errorMonitor, this.onError)
    connection.once('close', this.onClose)
    if (access.authenticated()) this.start()
    else connection.once('ready', this.onReady)
  }

  protected override listenerAdded(event: string): void {
    this.forward(event)
  }

  get state(): SshWatcherState {
    if (this.stopped) return 'stopped'
    if (this.deadReason !== undefined) return 'dead'
    if (this.ended) return 'disconnected'
    return this.monitor === undefined ? 'connecting' : (this.monitor.state as 'idle' | 'probing')
  }

  get probesSent(): number {
    return this.monitor?.probesSent ?? 0
  }

  get lastSeen(): number | undefined {
    return this.ended || this.deadReason !== undefined ? undefined : this.monitor?.lastSeen
  }

  get probesTotal(): number {
    return this.probeCount
  }

  get lastRttMs(): number | undefined {
    return this.rtt
  }

  get deaths(): number {
    return this.deadReason === undefined ? 0 : 1
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    if (this.ended) return
    this.ended = true
    this.unhook()
    this.monitor?.stop()
  }

  private readonly onReady = (): void => {
    if (!this.ended) this.start()
  }

  private start(): void {
    const monitor = createMonitor({ policy: this.policy, probe: this.probe })
    this.monitor = monitor
    this.socket.on('data', this.onData)
    for (const event of ['probe', 'probeError'] as const)
      if (this.listenerCount(event) > 0) this.forward(event)
    if (this.listenerCount('alive') > 0 || sshChannels.alive.hasSubscribers) this.forward('alive')
    monitor.on('dead', (e) => {
      const reason = new SshKeepaliveTimeoutError(
        `SSH ${this.side === 'client' ? 'server' : 'client'} silent for ${Math.round(e.silenceMs)} ms: ${e.probesSent} keepalive@openssh.com ${e.probesSent === 1 ? 'request' : 'requests'} unanswered (policy detection time ${detection(this.policy)} ms)`,
        { cause: e.reason },
      )
      this.die(reason, 'watchSsh', e.silenceMs, e.probesSent)
      this.socket.destroy(reason)
    })
  }

  /**
   * Passes a monitor event on, from the first listener (or, for `alive`, a diagnostics subscriber at start) on:
   * an idle watcher with no listeners holds no forwarding closures, which keeps a thousand of them small.
   */
  private forward(event: string): void {
    const monitor = this.monitor
    if (monitor === undefined || (event !== 'probe' && event !== 'alive' && event !== 'probeError')) return
    const bit = event === 'probe' ? 1 : event === 'alive' ? 2 : 4
    if ((this.forwarded & bit) !== 0) return
    this.forwarded |= bit
    if (event === 'probe') monitor.on('probe', (e) => this.emit('probe', e))
    else if (event === 'probeError') monitor.on('probeError', (e) => this.emit('probeError', e))
    else {
      monitor.on('alive', (e) => {
        if (sshChannels.alive.hasSubscribers) {
          sshChannels.alive.publish({ connection: this.connection, watcher: this, rttMs: e.rttMs })
        }
        this.emit('alive', e)
      })
    }
  }

  /** Any byte received is life; on the client it also resets ssh2's own count (see the module comment). */
  private readonly onData = (): void => {
    this.monitor?.touch()
    if (this.awaitingSince !== 0) {
      this.rtt = performance.now() - this.awaitingSince
      this.awaitingSince = 0
    }
    const own = this.ssh2Keepalive
    if (own !== undefined) {
      const now = performance.now()
      if (now - this.lastReset >= own.intervalMs / 4) {
        this.lastReset = now
        this.access.resetOwnKeepalive()
      }
    }
  }

  /**
   * Sends one keepalive@openssh.com. Its reply needs no promise: it arrives as bytes, which touch the monitor
   * (REQUEST_SUCCESS and REQUEST_FAILURE alike), and a promise would report the same answer twice.
   */
  private readonly probe = ({ attempt }: { attempt: number }): void => {
    const socket = this.socket
    if (socket.destroyed === true || socket.writable === false) {
      throw new SshConnectionClosedError(`keepalive probe ${attempt}: the connection is no longer writable`)
    }
    if (sshChannels.probe.hasSubscribers) {
      sshChannels.probe.publish({
        connection: this.connection,
        watcher: this,
        attempt,
        silenceMs: this.monitor?.silence ?? 0,
      })
    }
    this.access.ping()
    this.probeCount++
    this.awaitingSince = performance.now()
  }

  private readonly onError = (error: unknown): void => {
    this.lastError = error
    if (this.ended || error instanceof SshKeepaliveTimeoutError) return
    const e = error as { level?: unknown; code?: unknown; message?: unknown }
    let by: SshDeadBy | undefined
    if (e?.level === 'client-timeout') by = 'ssh2'
    else if (e?.code === 'ETIMEDOUT') by = 'tcp'
    if (by === undefined) return
    const monitor = this.monitor
    const silenceMs = monitor?.silence ?? 0
    const reason = new SshKeepaliveTimeoutError(
      `SSH ${this.side === 'client' ? 'server' : 'client'} silent for ${Math.round(silenceMs)} ms: ${by === 'ssh2' ? "ssh2's own keepalive" : "the kernel's TCP keepalive"} gave up first (${String(e.message)})`,
      { cause: error },
    )
    this.die(reason, by, silenceMs, monitor?.probesSent ?? 0)
    // ssh2's server ends gracefully (DISCONNECT, then FIN), which waits on a dead peer: destroy instead.
    this.socket.destroy()
  }

  private die(reason: KeepaliveError, by: SshDeadBy, silenceMs: number, probesSent: number): void {
    this.deadReason = reason
    this.monitor?.stop()
    const event: SshDeadEvent = { reason, by, silenceMs, probesSent, detectionMs: detection(this.policy) }
    if (sshChannels.dead.hasSubscribers) {
      sshChannels.dead.publish({ connection: this.connection, watcher: this, ...event })
    }
    this.emit('dead', event)
  }

  private readonly onClose = (): void => {
    if (this.ended) return
    this.ended = true
    this.unhook()
    this.monitor?.stop()
    const reason =
      this.deadReason ??
      new SshConnectionClosedError(
        `The SSH connection closed${this.lastError instanceof Error ? `: ${this.lastError.message}` : ''}`,
        this.lastError === undefined ? undefined : { cause: this.lastError },
      )
    if (sshChannels.close.hasSubscribers) {
      sshChannels.close.publish({ connection: this.connection, watcher: this, reason })
    }
    this.emit('close', { reason } satisfies SshCloseEvent)
  }

  private unhook(): void {
    this.socket.removeListener('data', this.onData)
    this.connection.removeListener(errorMonitor, this.onError)
    this.connection.removeListener('close', this.onClose)
    this.connection.removeListener('ready', this.onReady)
  }
}

function detection(policy: Policy): number {
  return policy.idle + policy.interval * policy.probes
}

/**
 * Watches an ssh2 `Client` (after `connect()`) or a server-side `Connection` with OpenSSH semantics. Starts at
 * once when the connection is authenticated, else at its 'ready'. On death the connection is destroyed with a
 * `SshKeepaliveTimeoutError` (ssh2 emits it as the connection's 'error', then 'close').
 *
 * Throws `InvalidPolicyError` for a bad policy, `InvalidArgumentError` for something that is not a connection,
 * `SshConnectionClosedError` for a connection that is closed (or a Client never connected), and
 * `SshUnsupportedError` when the installed ssh2's internals are not the ones this version knows.
 */
export function watchSsh(connection: object, policy?: PolicyLike): SshWatcher {
  const validPolicy = definePolicy(policy)
  if (
    connection === null ||
    typeof connection !== 'object' ||
    typeof (connection as Partial<Ssh2Connection>).on !== 'function' ||
    typeof (connection as Partial<Ssh2Connection>).removeListener !== 'function'
  ) {
    throw new InvalidArgumentError(
      `watchSsh: connection must be an ssh2 Client or server Connection, got ${connection === null ? 'null' : typeof connection}`,
    )
  }
  const access = ssh2Access(connection)
  const socket = access.socket
  if (socket === undefined || socket.destroyed === true || socket.readable === false) {
    throw new SshConnectionClosedError(`watchSsh: the ssh2 ${access.side} connection is already closed`)
  }
  const watcher = new SshWatcherImpl(connection as Ssh2Connection, access, socket, validPolicy)
  if (sshChannels.watch.hasSubscribers) {
    sshChannels.watch.publish({
      connection,
      watcher,
      side: access.side,
      policy: validPolicy,
      ssh2Keepalive: access.ownKeepalive,
    })
  }
  return watcher
}

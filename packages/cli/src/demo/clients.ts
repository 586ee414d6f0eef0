/**
 * The clients process: connects every scenario's client to its peer with the shared policy, and measures around it:
 * the last sign of life (the last byte received, or for kernel keepalive the kernel's last ACK, read with `ss` when
 * the peer vanishes), the moment of death, and the payload bytes on the socket. Reports everything to the demo.
 */
import { execFileSync } from 'node:child_process'
import type { Policy } from '@keepalive/core'
import type { FromClients, ToClients } from './messages.js'
import { type FaultMode, now, type RunningClient, type Scenario } from './scenario.js'
import { ANCHORS, SCENARIOS } from './scenarios/index.js'

interface Tracked {
  readonly scenario: Scenario
  running?: RunningClient
  lastData: number
  baselineBytes: number
  lastAck?: number
  dead: boolean
}

export class ClientsRunner {
  private readonly tracked = new Map<string, Tracked>()

  constructor(private readonly send: (message: FromClients) => void) {}

  async start(
    host: string,
    ports: Readonly<Record<string, number>>,
    policy: Policy,
    mode: FaultMode,
  ): Promise<void> {
    const scenarios = [...SCENARIOS, ...ANCHORS].filter((s) => ports[s.id] !== undefined)
    await Promise.all(
      scenarios.map((scenario) => this.startOne(scenario, host, ports[scenario.id]!, policy, mode)),
    )
    this.send({ type: 'ready' })
  }

  private async startOne(
    scenario: Scenario,
    host: string,
    port: number,
    policy: Policy,
    mode: FaultMode,
  ): Promise<void> {
    const t: Tracked = { scenario, lastData: now(), baselineBytes: 0, dead: false }
    this.tracked.set(scenario.id, t)
    const id = scenario.id
    try {
      t.running = await scenario.startClient({
        host,
        port,
        policy,
        mode,
        events: {
          probe: (attempt) => this.send({ type: 'probe', id, at: now(), attempt }),
          alive: (rttMs) => this.send({ type: 'alive', id, at: now(), rttMs: rttMs ?? null }),
          dead: (reason) => this.died(t, reason),
        },
      })
    } catch (error) {
      this.send({ type: 'failed', id, message: (error as Error)?.message ?? String(error) })
      return
    }
    const socket = t.running.socket
    t.lastData = now()
    t.baselineBytes = socket.bytesRead + socket.bytesWritten
    // First among the socket's 'data' listeners: the time is read before the scenario's own listener touches its
    // monitor or watcher (whose handling of an answer may take a while: an `alive` event sent over IPC), so it is
    // never later than the time the detector counts from.
    socket.prependListener('data', () => {
      t.lastData = now()
    })
    this.send({ type: 'connected', id, at: now(), localPort: socket.localPort ?? 0 })
  }

  /** The peers just vanished: for kernel keepalive, ask the kernel when it last heard from the peer. */
  fault(): void {
    for (const t of this.tracked.values()) {
      if (!t.scenario.kernel || t.running === undefined) continue
      const lastAckAgo = kernelLastAck(t.running.socket.localPort)
      if (lastAckAgo !== undefined) t.lastAck = now() - lastAckAgo
    }
  }

  private died(t: Tracked, reason: string): void {
    if (t.dead) return
    t.dead = true
    const at = now()
    const socket = t.running?.socket
    this.send({
      type: 'dead',
      id: t.scenario.id,
      at,
      lastSignOfLife: t.scenario.kernel ? (t.lastAck ?? t.lastData) : t.lastData,
      reason,
      payloadBytes: socket === undefined ? 0 : socket.bytesRead + socket.bytesWritten - t.baselineBytes,
    })
    t.running?.stop()
  }

  stop(): void {
    for (const t of this.tracked.values()) t.running?.stop()
  }
}

/** `ss`'s lastack (ms since the kernel last received an ACK) for our socket on `localPort`, or undefined. */
function kernelLastAck(localPort: number | undefined): number | undefined {
  if (localPort === undefined) return undefined
  try {
    const out = execFileSync('ss', ['-Htni', 'state', 'established', `sport = :${localPort}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
    })
    const match = /lastack:(\d+)/.exec(out)
    return match === null ? undefined : Number(match[1])
  } catch {
    return undefined
  }
}

export function handleClients(send: (message: FromClients) => void): (message: ToClients) => void {
  const runner = new ClientsRunner(send)
  process.on('disconnect', () => runner.stop())
  return (message) => {
    if (message.type === 'start') void runner.start(message.host, message.ports, message.policy, message.mode)
    else if (message.type === 'fault') runner.fault()
  }
}

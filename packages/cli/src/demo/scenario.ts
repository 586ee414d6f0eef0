/**
 * What a demo scenario is: one protocol's embedded peer (run in the peers process) and its client with the shared
 * policy (run in the clients process), plus the detection time core's arithmetic promises for that client.
 * The runner (clients.ts) does the measuring around it: last sign of life, probes after the fault, bytes.
 */
import type net from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Policy, Protocol } from '@keepalive/core'

/** How the peers vanish: blackholed in network namespaces (root), or frozen with SIGSTOP. */
export type FaultMode = 'netns' | 'freeze'

/** Epoch milliseconds with sub-millisecond precision, comparable between the demo's processes. */
export function now(): number {
  return performance.timeOrigin + performance.now()
}

export interface ScenarioEvents {
  /** A keepalive probe went out (attempt 1, 2, … within one silence). */
  probe(attempt: number): void
  /** A probe was answered; round trip in ms where the protocol tells. */
  alive(rttMs: number | undefined): void
  /** The client declared the peer dead, and why (the adapter's error message). */
  dead(reason: string): void
}

export interface ClientContext {
  readonly host: string
  readonly port: number
  readonly policy: Policy
  readonly mode: FaultMode
  readonly events: ScenarioEvents
}

export interface RunningClient {
  /** The TCP socket under the protocol: bytes, the kernel's last ACK, the last data received. */
  readonly socket: net.Socket
  /** Stops timers and closes the connection. */
  stop(): void
}

export interface Scenario {
  /** Row id, unique in the demo: `tcp`, `tcp-kernel`, `http`, … */
  readonly id: string
  readonly protocol: Protocol
  /** What detects the death, in a few words: "kernel keepalive", "PING/PONG monitor", "PINGREQ (watchMqtt)". */
  readonly detector: string
  /** The fault modes in which this detector can see the death at all. */
  readonly modes: readonly FaultMode[]
  /** Why it cannot under the other mode, said plainly in the demo's output. */
  readonly whyNot?: string
  /** True when liveness is the kernel's (no data flows): the last sign of life is the kernel's last ACK. */
  readonly kernel: boolean
  /** The detection time the client's settings really give (core's arithmetic), ms. */
  configured(policy: Policy): number
  /** In the peers process: starts the embedded peer on `host`, port 0; returns the port. */
  startPeer(host: string, policy: Policy): Promise<number>
  /** In the clients process: connects with the policy; resolves once set up and idle. */
  startClient(context: ClientContext): Promise<RunningClient>
}

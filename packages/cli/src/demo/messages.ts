/** The messages between the demo and its two child processes (the peers and the clients), over Node's IPC channel. */
import type { Policy, Protocol } from '@keepalive/core'
import type { FaultMode } from './scenario.js'

export interface RowInfo {
  readonly id: string
  readonly protocol: Protocol
  readonly detector: string
  readonly configured: number
}

/** demo → peers */
export interface StartPeers {
  readonly type: 'start'
  readonly host: string
  readonly ids: readonly string[]
  readonly policy: Policy
}
/** peers → demo */
export interface PeersListening {
  readonly type: 'listening'
  readonly ports: Readonly<Record<string, number>>
}

/** demo → clients */
export type ToClients =
  | {
      readonly type: 'start'
      readonly host: string
      readonly ports: Readonly<Record<string, number>>
      readonly policy: Policy
      readonly mode: FaultMode
    }
  | { readonly type: 'fault'; readonly at: number }

/** clients → demo; `at` in epoch ms (scenario.ts `now()`). */
export type FromClients =
  | { readonly type: 'connected'; readonly id: string; readonly at: number; readonly localPort: number }
  | { readonly type: 'ready' }
  | { readonly type: 'probe'; readonly id: string; readonly at: number; readonly attempt: number }
  | { readonly type: 'alive'; readonly id: string; readonly at: number; readonly rttMs: number | null }
  | {
      readonly type: 'dead'
      readonly id: string
      readonly at: number
      /** The last byte received (or, for kernel keepalive, the kernel's last ACK), epoch ms. */
      readonly lastSignOfLife: number
      readonly reason: string
      /** Payload bytes both ways on the socket since it was set up (no headers). */
      readonly payloadBytes: number
    }
  | { readonly type: 'failed'; readonly id: string; readonly message: string }

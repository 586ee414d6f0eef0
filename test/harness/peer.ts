import type { Undo } from './cleanup.js'

/** A server the tests connect to. `stop()` is idempotent and also runs at cleanup. */
export interface Peer {
  host: string
  port: number
  version?: string
  stop(): Promise<void>
}

/** A peer in its own process (mosquitto, sshd): it can be frozen and killed. */
export interface ProcessPeer extends Peer {
  /** pid of the server process itself (not of a wrapper such as `unshare`). */
  pid: number
  /** SIGSTOP the server (and its session processes): the kernel still ACKs, the application no longer answers. */
  freeze(): Promise<Undo>
  thaw(): Promise<void>
  /** SIGKILL: the kernel closes its sockets (FIN, or RST where data was unread); clients see the close at once. */
  crash(): Promise<void>
  /** Everything the server wrote to stdout/stderr so far. */
  log(): string
}

/** A peer running in the test process (aedes, ssh2, node:http, the idle-closing server). */
export interface InProcessPeer extends Peer {
  /** Resets every open connection (RST, via socket.resetAndDestroy) and stops listening: a crashed peer. */
  crash(): Promise<void>
  /** Connections currently open. */
  connectionCount(): number
}

import type { Server, Socket } from 'node:net'

/** The open sockets of an in-process server, so that stop() and crash() can end each of them. */
export class SocketSet {
  readonly sockets = new Set<Socket>()

  add(socket: Socket): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }

  /** Tracks every connection a server accepts. */
  watch(server: Server): void {
    server.on('connection', (socket: Socket) => this.add(socket))
  }

  get size(): number {
    return this.sockets.size
  }

  /** RST on every connection (SO_LINGER 0 then close): what a client sees when the peer process dies mid-stream. */
  resetAll(): void {
    for (const socket of this.sockets) {
      if (!socket.destroyed) socket.resetAndDestroy()
    }
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy()
  }
}

/** Closes a listener, resolving (not rejecting) when it was not listening. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) resolve()
    else server.close(() => resolve())
  })
}

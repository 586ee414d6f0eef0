/**
 * Helpers the examples share (not an example itself: the example test runs only examples/*.ts and
 * examples/<dir>/main.ts). A relay between a client and an in-process peer that can go silent: frozen, it passes no
 * more bytes either way but keeps both connections open, as a hung peer or a path that drops packets does. An
 * in-process peer cannot be SIGSTOPped, and pausing its sockets is undone by the streams piped from them.
 */
import net from 'node:net'

/** Listens on an ephemeral loopback port; resolves to the port. */
export async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return (server.address() as net.AddressInfo).port
}

export interface Relay {
  /** The relay's own port: connect here instead of to the peer. */
  readonly port: number
  /** From now on nothing passes, in either direction. */
  freeze(): void
  /** Closes the relay and every connection through it. */
  close(): void
}

export async function startRelay(peerPort: number): Promise<Relay> {
  let frozen = false
  const sockets = new Set<net.Socket>()
  const track = (socket: net.Socket): void => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  }
  const server = net.createServer((client) => {
    const upstream = net.connect(peerPort, '127.0.0.1')
    track(client)
    track(upstream)
    client.on('data', (chunk) => frozen || upstream.write(chunk))
    upstream.on('data', (chunk) => frozen || client.write(chunk))
    // A frozen relay passes no FIN either: a peer that gives up on the silent client (aedes drops it after 1.5 ×
    // Keep Alive) must not tell the client so.
    client.on('close', () => frozen || upstream.destroy())
    upstream.on('close', () => frozen || client.destroy())
  })
  const port = await listen(server)
  return {
    port,
    freeze: () => {
      frozen = true
    },
    close: () => {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}

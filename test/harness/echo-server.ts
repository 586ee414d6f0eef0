import { createServer } from 'node:net'
import { track } from './cleanup.js'
import type { InProcessPeer } from './peer.js'
import { listen } from './ports.js'
import { closeServer, SocketSet } from './sockets.js'

/**
 * A TCP echo server in this process on port 0: the plainest peer for proxies and faults. For a peer that can be
 * frozen or killed, run test/fixtures/echo-server.ts with spawnNode instead.
 */
export async function startEchoServer(options: { host?: string } = {}): Promise<InProcessPeer> {
  const sockets = new SocketSet()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.pipe(socket)
  })
  const address = await listen(server, options.host)
  const stop = track(`echo server :${address.port}`, async () => {
    const closed = closeServer(server)
    sockets.destroyAll()
    await closed
  })
  return {
    ...address,
    stop,
    async crash() {
      sockets.resetAll()
      await stop()
    },
    connectionCount: () => sockets.size,
  }
}

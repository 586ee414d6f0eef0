/** A tiny server for the PING protocol: answers every `PING` line with `+PONG`. `hang()` makes it stop answering. */
import net from 'node:net'

export async function startPingServer(): Promise<{ port: number; hang(): void; close(): void }> {
  let hung = false
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.on('data', (chunk) => {
      if (!hung && chunk.includes('PING')) socket.write('+PONG\r\n')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    hang: () => {
      hung = true
    },
    close: () => {
      for (const socket of sockets) socket.destroy()
      server.close()
    },
  }
}

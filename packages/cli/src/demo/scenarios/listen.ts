/** Small socket helpers the scenarios share. */
import type net from 'node:net'

/** Listens on `host`, port 0; resolves with the port. */
export function listen(server: net.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port))
  })
}

/** Resolves once the socket is connected; rejects with its first error. */
export function connected(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
}

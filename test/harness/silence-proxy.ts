import { connect, createServer, type Socket } from 'node:net'
import { track } from './cleanup.js'
import type { ProxyTarget } from './idle-drop-proxy.js'
import type { Peer } from './peer.js'
import { listen } from './ports.js'
import { closeServer, SocketSet } from './sockets.js'

export interface SilenceProxy extends Peer {
  /**
   * From now on, bytes from the peer are read and thrown away: the client hears nothing, while the peer still gets
   * everything the client sends (its own keepalive is satisfied) and TCP stays up — a peer whose answers are lost.
   */
  silence(): void
  /** Ends every client connection from the proxy's side (FIN to the client, then to the peer): a peer that closed. */
  closeClients(): void
  /** performance.now() when the last byte was forwarded to a client (0 before any). */
  lastForwardedToClient(): number
  /** Resolves when every client connection is closed (at once when none is open). */
  clientsClosed(timeoutMs?: number): Promise<void>
  /** Client connections open now. */
  clientCount(): number
}

/**
 * A userspace TCP proxy in this process for fault tests that need a peer's silence at a chosen moment, with the time
 * of the last byte the client could have received (what a deadline is measured from). Limit: the proxy's kernel
 * ACKs what reaches it, so only application-level liveness notices the silence (as with startIdleDropProxy).
 */
export async function startSilenceProxy(options: {
  target: ProxyTarget
  host?: string
}): Promise<SilenceProxy> {
  const sockets = new SocketSet()
  const clients = new Set<Socket>()
  let silent = false
  let lastForwarded = 0
  const closedWaiters: Array<() => void> = []
  const wakeClosedWaiters = (): void => {
    if (clients.size > 0) return
    for (const wake of closedWaiters.splice(0)) wake()
  }

  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ ...options.target, allowHalfOpen: true })
    sockets.add(client)
    sockets.add(upstream)
    clients.add(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => {
      upstream.destroy()
      clients.delete(client)
      wakeClosedWaiters()
    })
    upstream.on('close', () => client.destroy())
    client.on('data', (chunk) => upstream.write(chunk))
    client.on('end', () => upstream.end())
    upstream.on('data', (chunk) => {
      if (silent) return
      lastForwarded = performance.now()
      client.write(chunk)
    })
    upstream.on('end', () => {
      if (!silent) client.end()
    })
  })
  const address = await listen(server, options.host)
  const stop = track(`silence proxy :${address.port}`, async () => {
    const closed = closeServer(server)
    sockets.destroyAll()
    await closed
  })
  return {
    host: address.host,
    port: address.port,
    stop,
    silence: () => {
      silent = true
    },
    closeClients: () => {
      for (const client of clients) client.end()
    },
    lastForwardedToClient: () => lastForwarded,
    clientsClosed: (timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        if (clients.size === 0) return resolve()
        const timer = setTimeout(
          () => reject(new Error(`clients still open after ${timeoutMs} ms`)),
          timeoutMs,
        )
        closedWaiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      }),
    clientCount: () => clients.size,
  }
}

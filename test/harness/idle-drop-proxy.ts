import { connect, createServer, type Socket } from 'node:net'
import { track } from './cleanup.js'
import type { Peer } from './peer.js'
import { listen } from './ports.js'
import { closeServer, SocketSet } from './sockets.js'

export interface ProxyTarget {
  host: string
  port: number
}

export interface IdleDropProxyOptions {
  target: ProxyTarget
  /** Silence on a connection (both directions) after which it is dropped. */
  idleDropMs: number
  host?: string
}

export interface DroppedConnectionInfo {
  /** performance.now() when forwarding stopped (undefined while still forwarding). */
  droppedAt: number | undefined
  /** Silence measured when it was dropped, ms. */
  idleMs: number | undefined
  bytesForwarded: number
  /** Bytes received after the drop and thrown away, per direction. */
  bytesDroppedFromClient: number
  bytesDroppedFromServer: number
}

export interface IdleDropProxy extends Peer {
  connections(): DroppedConnectionInfo[]
  /** Resolves when a connection is dropped (at once for one dropped and not yet taken). */
  nextDrop(timeoutMs?: number): Promise<DroppedConnectionInfo>
}

/**
 * A userspace TCP proxy that forwards normally, then after `idleDropMs` without traffic on a connection stops
 * forwarding in both directions without closing anything — what a NAT or load balancer does when its connection
 * entry expires. Neither side gets a FIN or RST; bytes sent afterwards vanish.
 *
 * Limit: the proxy's own kernel still ACKs what reaches it, including TCP keepalive probes, so only
 * application-level liveness (MQTT PINGREQ, SSH keepalive@openssh.com, HTTP) can notice. For a drop the kernel
 * notices too, use NetnsLink.blackhole() or dropTraffic().
 */
export async function startIdleDropProxy(options: IdleDropProxyOptions): Promise<IdleDropProxy> {
  const infos: DroppedConnectionInfo[] = []
  const drops: DroppedConnectionInfo[] = []
  const sockets = new SocketSet()
  let taken = 0
  const waiters: Array<(info: DroppedConnectionInfo) => void> = []

  const onConnection = (client: Socket): void => {
    const upstream = connect({ ...options.target, allowHalfOpen: true })
    sockets.add(client)
    sockets.add(upstream)
    const info: DroppedConnectionInfo = {
      droppedAt: undefined,
      idleMs: undefined,
      bytesForwarded: 0,
      bytesDroppedFromClient: 0,
      bytesDroppedFromServer: 0,
    }
    infos.push(info)
    let lastActivity = performance.now()
    // Re-armed for the remaining silence instead of on every chunk: cheap under traffic, exact at the deadline.
    const check = (): void => {
      const silence = performance.now() - lastActivity
      if (silence < options.idleDropMs) {
        timer = setTimeout(check, options.idleDropMs - silence)
        return
      }
      info.droppedAt = performance.now()
      info.idleMs = silence
      drops.push(info)
      const waiter = waiters.shift()
      if (waiter) {
        taken += 1
        waiter(info)
      }
    }
    let timer = setTimeout(check, options.idleDropMs)
    const forward = (
      from: Socket,
      to: Socket,
      droppedKey: 'bytesDroppedFromClient' | 'bytesDroppedFromServer',
    ) => {
      from.on('data', (chunk: Buffer) => {
        if (info.droppedAt !== undefined) {
          info[droppedKey] += chunk.length
          return
        }
        lastActivity = performance.now()
        info.bytesForwarded += chunk.length
        to.write(chunk)
      })
      // Before the drop a close travels through; after it, nothing does (the middlebox forgot the connection).
      from.on('end', () => {
        if (info.droppedAt === undefined) to.end()
      })
      from.on('error', () => {
        if (info.droppedAt === undefined) to.destroy()
      })
      from.on('close', () => {
        if (info.droppedAt === undefined) to.destroy()
      })
    }
    forward(client, upstream, 'bytesDroppedFromClient')
    forward(upstream, client, 'bytesDroppedFromServer')
    client.on('close', () => clearTimeout(timer))
  }

  // allowHalfOpen: after the drop, a FIN from the client must not make Node answer with a FIN of its own.
  const server = createServer({ allowHalfOpen: true }, onConnection)
  const address = await listen(server, options.host)
  const stop = track(`idle-drop proxy :${address.port}`, async () => {
    const closed = closeServer(server)
    sockets.destroyAll()
    await closed
  })
  return {
    ...address,
    connections: () => [...infos],
    nextDrop(timeoutMs = 10_000) {
      if (taken < drops.length) return Promise.resolve(drops[taken++] as DroppedConnectionInfo)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiters.indexOf(done)
          if (index >= 0) waiters.splice(index, 1)
          reject(new Error(`no connection dropped within ${timeoutMs} ms`))
        }, timeoutMs)
        const done = (info: DroppedConnectionInfo): void => {
          clearTimeout(timer)
          resolve(info)
        }
        waiters.push(done)
      })
    },
    stop,
  }
}

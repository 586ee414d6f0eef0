import { createServer, type Socket } from 'node:net'
import { track } from './cleanup.js'
import type { InProcessPeer } from './peer.js'
import { listen } from './ports.js'
import { closeServer, SocketSet } from './sockets.js'

export interface IdleClosingServerOptions {
  /** Close a connection exactly this long after the last byte received on it (or after accept). */
  idleTimeoutMs: number
  host?: string
  /** `echo` sends every byte back; `http` answers each request head with `200 ok` (keep-alive). Default echo. */
  mode?: 'echo' | 'http'
  /** In http mode, send `Keep-Alive: timeout=<s>` (Node does, nginx does not). Default false. */
  advertiseKeepAlive?: boolean
}

export interface IdleClose {
  /** Measured silence from the last received byte (or accept) to the close, ms. */
  idleMs: number
  /** performance.now() at the close. */
  at: number
  remotePort: number | undefined
}

export interface IdleClosingPeer extends InProcessPeer {
  /** Every idle close so far, in order. */
  closes: IdleClose[]
  /** The next idle close (one that already happened and was not yet taken is returned at once). */
  nextClose(timeoutMs?: number): Promise<IdleClose>
}

/**
 * A raw TCP server that closes each connection exactly `idleTimeoutMs` after the last byte it received, with no
 * grace and no notice — the way nginx (keepalive_timeout), Go's http.Server (IdleTimeout) and load balancers do.
 * A client that reuses the connection at that moment writes into a closed socket and gets a reset.
 */
export async function startIdleClosingServer(options: IdleClosingServerOptions): Promise<IdleClosingPeer> {
  const mode = options.mode ?? 'echo'
  const closes: IdleClose[] = []
  let taken = 0
  const waiters: Array<(close: IdleClose) => void> = []
  const sockets = new SocketSet()

  const onConnection = (socket: Socket): void => {
    sockets.add(socket)
    socket.on('error', () => {})
    let lastByteAt = performance.now()
    const timer = setTimeout(() => {
      const close: IdleClose = {
        idleMs: performance.now() - lastByteAt,
        at: performance.now(),
        remotePort: socket.remotePort,
      }
      // destroy() = close(2): a FIN now; whatever the client sends afterwards is answered with RST by the kernel.
      socket.destroy()
      closes.push(close)
      const waiter = waiters.shift()
      if (waiter) {
        taken += 1
        waiter(close)
      }
    }, options.idleTimeoutMs)
    socket.on('close', () => clearTimeout(timer))
    let head = ''
    socket.on('data', (chunk: Buffer) => {
      lastByteAt = performance.now()
      timer.refresh()
      if (mode === 'echo') {
        socket.write(chunk)
        return
      }
      head += chunk.toString('latin1')
      for (let end = head.indexOf('\r\n\r\n'); end >= 0; end = head.indexOf('\r\n\r\n')) {
        head = head.slice(end + 4)
        const keepAlive = options.advertiseKeepAlive
          ? `Keep-Alive: timeout=${Math.floor(options.idleTimeoutMs / 1000)}\r\n`
          : ''
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n${keepAlive}\r\nok`)
      }
    })
  }

  const server = createServer(onConnection)
  const address = await listen(server, options.host)
  const stop = track(`idle-closing server :${address.port}`, async () => {
    const closed = closeServer(server)
    sockets.destroyAll()
    await closed
  })
  return {
    ...address,
    closes,
    nextClose(timeoutMs = 10_000) {
      if (taken < closes.length) return Promise.resolve(closes[taken++] as IdleClose)
      return new Promise<IdleClose>((resolve, reject) => {
        const timer = setTimeout(() => {
          const index = waiters.indexOf(done)
          if (index >= 0) waiters.splice(index, 1)
          reject(new Error(`no idle close within ${timeoutMs} ms`))
        }, timeoutMs)
        const done = (close: IdleClose): void => {
          clearTimeout(timer)
          resolve(close)
        }
        waiters.push(done)
      })
    },
    stop,
    async crash() {
      sockets.resetAll()
      await stop()
    },
    connectionCount: () => sockets.size,
  }
}

/**
 * The server of the race: raw HTTP/1.1 over node:net that closes each connection exactly `idleTimeoutMs` after the
 * last byte it received, with no grace (nginx keepalive_timeout, Go's IdleTimeout, load balancers), and counts every
 * request it sees by method and by `x-request-id`, so a test can prove a POST arrived at most once. The harness's
 * startIdleClosingServer does the closing the same way but neither parses bodies nor counts; this one also lets a
 * test choose the Keep-Alive header(s) it sends, hostile ones included.
 */
import { createServer, type Socket } from 'node:net'
import { track } from '@keepalive/test-harness'

export interface RaceServerOptions {
  /** Close a connection this long after the last byte received on it. */
  idleTimeoutMs: number
  /** Keep-Alive header lines to send with every response (each one a separate header line), e.g. ['timeout=1']. */
  keepAliveHeaders?: readonly string[]
}

export interface RaceServer {
  host: string
  port: number
  url: string
  /** Requests seen per method. */
  requests: Map<string, number>
  /** Times each x-request-id was seen. */
  seen: Map<string, number>
  /** Connections accepted, and connections closed for idleness. */
  connections: () => number
  idleCloses: () => number
  stop: () => Promise<void>
}

export async function startRaceServer(options: RaceServerOptions): Promise<RaceServer> {
  const requests = new Map<string, number>()
  const seen = new Map<string, number>()
  const sockets = new Set<Socket>()
  let connections = 0
  let idleCloses = 0
  const keepAlive = (options.keepAliveHeaders ?? []).map((value) => `Keep-Alive: ${value}\r\n`).join('')

  const server = createServer((socket) => {
    connections += 1
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('error', () => {})
    socket.on('close', () => {
      sockets.delete(socket)
      clearTimeout(timer)
    })
    // destroy() = close(2): FIN now; whatever the client sends afterwards is answered with RST by the kernel.
    const timer = setTimeout(() => {
      idleCloses += 1
      socket.destroy()
    }, options.idleTimeoutMs)
    let buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      timer.refresh()
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n')
        if (end < 0) return
        const head = buffer.subarray(0, end).toString('latin1')
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0)
        if (buffer.length < end + 4 + length) return
        buffer = buffer.subarray(end + 4 + length)
        const method = head.slice(0, head.indexOf(' '))
        requests.set(method, (requests.get(method) ?? 0) + 1)
        const id = /\r\nx-request-id:\s*([^\r]+)/i.exec(head)?.[1]
        if (id) seen.set(id, (seen.get(id) ?? 0) + 1)
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n${keepAlive}\r\nok`)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const stop = track(`race server :${port}`, async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of sockets) socket.destroy()
    await closed
  })
  return {
    host: '127.0.0.1',
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    seen,
    connections: () => connections,
    idleCloses: () => idleCloses,
    stop,
  }
}

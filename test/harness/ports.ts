import { connect, createServer, type Server } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * A port that was free a moment ago, for servers that cannot bind port 0 themselves (mosquitto, sshd). Another
 * process may take it before the server binds it: callers retry on EADDRINUSE.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Resolves once a TCP connection to host:port succeeds (then closes it); rejects after `timeoutMs`. */
export async function waitForTcp(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  let lastError: Error | undefined
  while (performance.now() < deadline) {
    try {
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host, port })
        socket.once('connect', () => {
          socket.destroy()
          resolve()
        })
        socket.once('error', (error) => {
          socket.destroy()
          reject(error)
        })
      })
      return
    } catch (error) {
      lastError = error as Error
      await sleep(20)
    }
  }
  throw new Error(
    `nothing accepts connections on ${host}:${port} after ${timeoutMs} ms (${lastError?.message})`,
  )
}

/** Listens on port 0 and resolves with the bound address. */
export function listen(server: Server, host = '127.0.0.1'): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => {
      server.off('error', reject)
      const address = server.address()
      if (address === null || typeof address === 'string') reject(new Error('not a TCP server'))
      else resolve({ host: address.address, port: address.port })
    })
  })
}

import { connect, type NetConnectOpts, type Socket } from 'node:net'
import { registerCleanup } from './cleanup.js'

/** Events of a plain client socket with their performance.now() times, for timing assertions. */
export interface SocketEvents {
  end?: number
  close?: number
  error?: { code: string | undefined; at: number }
}

export interface TestClient {
  socket: Socket
  events: SocketEvents
  /** Writes `data` and resolves with the round trip (ms) once as many bytes came back; rejects after `timeoutMs`. */
  echo(data: string, timeoutMs?: number): Promise<number>
  /** performance.now() of the last byte received. */
  lastDataAt(): number
}

/**
 * A plain net.Socket client for echo-style peers, connected, destroyed at cleanup, recording end/close/error with
 * timestamps instead of throwing.
 */
export async function connectClient(options: NetConnectOpts): Promise<TestClient> {
  const socket = connect(options)
  registerCleanup(`client socket to ${'port' in options ? options.port : '?'}`, () => socket.destroy())
  const events: SocketEvents = {}
  let received = ''
  let lastDataAt = performance.now()
  socket.setEncoding('utf8')
  socket.setNoDelay(true)
  socket.on('data', (chunk: string) => {
    received += chunk
    lastDataAt = performance.now()
  })
  socket.on('end', () => {
    events.end = performance.now()
  })
  socket.on('close', () => {
    events.close = performance.now()
  })
  socket.on('error', (error: NodeJS.ErrnoException) => {
    events.error = { code: error.code, at: performance.now() }
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })

  const echo = (data: string, timeoutMs = 2000): Promise<number> => {
    received = ''
    const sentAt = performance.now()
    socket.write(data)
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (received.length >= data.length) {
          done()
          resolve(performance.now() - sentAt)
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`no echo of ${data.length} bytes within ${timeoutMs} ms`))
      }, timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        socket.off('data', check)
      }
      socket.on('data', check)
    })
  }
  return { socket, events, echo, lastDataAt: () => lastDataAt }
}

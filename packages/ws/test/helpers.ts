/**
 * The peers of the ws tests, in the test process on 127.0.0.1 port 0, each torn down by the harness's per-test
 * cleanup (also when the test fails):
 * - `startWatchedServer(policy)`: an http server with a ws `WebSocketServer` under `watchWebSocketServer`.
 * - `startRecipeServer(intervalMs)`: what users do today, the ws README's "How to detect and close broken
 *   connections" recipe: one `setInterval` pinging every client, an `isAlive` flag reset by the pong.
 * - `startThrottle(target, bytesPerSecond)`: a TCP relay passing client → server bytes at a fixed rate (a slow
 *   uplink), so a large message takes seconds and the client's pong queues behind it.
 * Every server records, per connection, when its last bytes arrived (`lastByteAt`, an independent tap appended
 * after ws's own listener) and when the connection was declared dead, on `now()` (CLOCK_MONOTONIC, comparable
 * with the fixtures' clocks).
 */
import http from 'node:http'
import net from 'node:net'
import type { PolicyLike } from '@keepalive/core'
import { listen, registerCleanup } from '@keepalive/test-harness'
import {
  type WatchWebSocketOptions,
  type WebSocketServerWatcher,
  type WsDeadEvent,
  watchWebSocketServer,
} from '@keepalive/ws'
import { type WebSocket, WebSocketServer } from 'ws'

/** Monotonic ms, the same clock as test/fixtures/ipc.ts's now(). */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

export interface Death {
  readonly at: number
  readonly lastByteAt: number
  readonly event?: WsDeadEvent
}

interface Tracked {
  readonly server: http.Server
  readonly wss: WebSocketServer
  readonly port: number
  readonly url: string
  readonly deaths: Death[]
  /** Connections accepted so far. */
  readonly connections: WebSocket[]
  /** Resolves at the next death. */
  nextDeath(timeoutMs: number): Promise<Death>
  close(): Promise<void>
}

async function startTracked(
  label: string,
  onConnection: (ws: WebSocket, lastByte: () => number) => void,
  extra?: (server: http.Server) => void,
): Promise<Tracked & { recordDeath(death: Death): void }> {
  const server = http.createServer()
  extra?.(server)
  const wss = new WebSocketServer({ server })
  const deaths: Death[] = []
  const connections: WebSocket[] = []
  const waiters: ((d: Death) => void)[] = []
  wss.on('connection', (ws, request) => {
    let lastByteAt = now()
    request.socket.on('data', () => {
      lastByteAt = now()
    })
    ws.on('error', () => {})
    connections.push(ws)
    onConnection(ws, () => lastByteAt)
  })
  const { port } = await listen(server)
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      server.closeAllConnections()
      server.close(() => resolve())
    })
    return closing
  }
  registerCleanup(`ws ${label} server`, close)
  return {
    server,
    wss,
    port,
    url: `ws://127.0.0.1:${port}`,
    deaths,
    connections,
    recordDeath(death) {
      deaths.push(death)
      for (const w of waiters.splice(0)) w(death)
    },
    nextDeath(timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${label}: no death within ${timeoutMs} ms`)),
          timeoutMs,
        )
        waiters.push((d) => {
          clearTimeout(timer)
          resolve(d)
        })
      })
    },
    close,
  }
}

export interface WatchedServer extends Tracked {
  readonly watcher: WebSocketServerWatcher
}

export async function startWatchedServer(
  policy: PolicyLike,
  options?: WatchWebSocketOptions,
  extra?: (server: http.Server) => void,
): Promise<WatchedServer> {
  const lastBytes = new WeakMap<object, () => number>()
  const tracked = await startTracked('watched', (ws, lastByte) => lastBytes.set(ws, lastByte), extra)
  const watcher = watchWebSocketServer(tracked.wss, policy, options)
  watcher.on('dead', (event) => {
    tracked.recordDeath({ at: now(), lastByteAt: lastBytes.get(event.ws)?.() ?? Number.NaN, event })
  })
  registerCleanup('ws server watcher', () => watcher.stop())
  return { ...tracked, watcher }
}

/** The ws README's heartbeat, as users copy it (the interval is the only knob). */
export async function startRecipeServer(intervalMs: number): Promise<Tracked> {
  const alive = new WeakMap<WebSocket, boolean>()
  const lastBytes = new WeakMap<WebSocket, () => number>()
  const tracked = await startTracked('recipe', (ws, lastByte) => {
    alive.set(ws, true)
    lastBytes.set(ws, lastByte)
    ws.on('pong', () => alive.set(ws, true))
  })
  const interval = setInterval(() => {
    for (const ws of tracked.wss.clients) {
      if (alive.get(ws) === false) {
        tracked.recordDeath({ at: now(), lastByteAt: lastBytes.get(ws)?.() ?? Number.NaN })
        ws.terminate()
        continue
      }
      alive.set(ws, false)
      ws.ping()
    }
  }, intervalMs)
  tracked.wss.on('close', () => clearInterval(interval))
  registerCleanup('ws recipe interval', () => clearInterval(interval))
  return tracked
}

export interface Throttle {
  readonly port: number
  readonly url: string
  close(): Promise<void>
}

/** A relay to `target` that passes client → server bytes at `bytesPerSecond`; server → client unthrottled. */
export async function startThrottle(targetPort: number, bytesPerSecond: number): Promise<Throttle> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    for (const s of [client, upstream]) {
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    upstream.pipe(client)
    let timer: NodeJS.Timeout | undefined
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk)
      client.pause()
      timer = setTimeout(() => client.resume(), (chunk.length / bytesPerSecond) * 1000)
    })
    client.on('close', () => clearTimeout(timer))
  })
  const { port } = await listen(server)
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
    return closing
  }
  registerCleanup('ws throttle relay', close)
  return { port, url: `ws://127.0.0.1:${port}`, close }
}

/**
 * A relay to `target` that drops every ping frame the server sends (what some proxies and load balancers do with
 * control frames), and passes everything else: the HTTP upgrade, then server frames (unmasked, RFC 6455 §5.2) parsed
 * across chunk boundaries and forwarded unless their opcode is 0x9. Client → server bytes pass untouched.
 */
export async function startPingDropper(targetPort: number): Promise<Throttle & { dropped(): number }> {
  const sockets = new Set<net.Socket>()
  let dropped = 0
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    for (const s of [client, upstream]) {
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    let upgraded = false
    let pending = Buffer.alloc(0)
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk])
      if (!upgraded) {
        const end = pending.indexOf('\r\n\r\n')
        if (end < 0) return
        client.write(pending.subarray(0, end + 4))
        pending = pending.subarray(end + 4)
        upgraded = true
      }
      for (;;) {
        if (pending.length < 2) return
        const opcode = (pending[0] as number) & 0x0f
        let length = (pending[1] as number) & 0x7f
        let header = 2
        if (length === 126) {
          if (pending.length < 4) return
          length = pending.readUInt16BE(2)
          header = 4
        } else if (length === 127) {
          if (pending.length < 10) return
          length = Number(pending.readBigUInt64BE(2))
          header = 10
        }
        if (pending.length < header + length) return
        const frame = pending.subarray(0, header + length)
        pending = pending.subarray(header + length)
        if (opcode === 0x9) dropped++
        else client.write(frame)
      }
    })
  })
  const { port } = await listen(server)
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
    return closing
  }
  registerCleanup('ws ping-dropping relay', close)
  return { port, url: `ws://127.0.0.1:${port}`, close, dropped: () => dropped }
}

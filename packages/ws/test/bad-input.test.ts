/**
 * Bad input gets a KeepaliveError naming the field and the value; a hostile peer (a malformed frame, a pong flood)
 * crashes nothing and leaks nothing; stop() and close leave no listener behind. Real ws servers and clients on
 * 127.0.0.1, raw TCP for what a ws client would refuse to send.
 */
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { isKeepaliveError } from '@keepalive/core'
import { expectNoLeaks } from '@keepalive/test-harness'
import {
  socketIoOptions,
  WsConnectionClosedError,
  WsUnsupportedError,
  watchWebSocket,
  watchWebSocketServer,
} from '@keepalive/ws'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { checkWsVersion } from '../src/ws-version.js'
import { startWatchedServer } from './helpers.js'

const POLICY = { idle: 300, interval: 200, probes: 2 }

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return isKeepaliveError(error) ? `${error.code}: ${error.message}` : `not a KeepaliveError: ${error}`
  }
  return undefined
}

async function openClient(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url)
  ws.on('error', () => {})
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  return ws
}

/** A raw TCP client that completed the WebSocket handshake: frames are written by hand. */
async function rawClient(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  )
  await new Promise<void>((resolve) => {
    socket.once('data', (chunk: Buffer) => {
      expect(chunk.toString()).toMatch(/^HTTP\/1.1 101/)
      resolve()
    })
  })
  return socket
}

/** A masked client frame with an empty payload: FIN + opcode, mask bit, length 0, a zero mask key. */
function frame(opcode: number): Buffer {
  return Buffer.from([0x80 | opcode, 0x80, 0, 0, 0, 0])
}

describe('ws: bad arguments are typed errors', () => {
  it('not a WebSocket, a bad policy, bad options', async () => {
    for (const bad of [null, undefined, 42, 'ws://x', {}, { readyState: 1, ping() {} }]) {
      expect(code(() => watchWebSocket(bad as object))).toMatch(
        /^KA_ERR_INVALID_ARGUMENT: watchWebSocket: ws must be/,
      )
    }
    const server = await startWatchedServer(POLICY)
    const ws = await openClient(server.url)
    expect(code(() => watchWebSocket(ws, { idle: -5 }))).toMatch(/^KA_ERR_INVALID_POLICY: .*idle/)
    expect(code(() => watchWebSocket(ws, POLICY, { probe: 'pong' as never }))).toMatch(
      /^KA_ERR_INVALID_ARGUMENT: watchWebSocket: options.probe must be 'ping' or .* got "pong"/,
    )
    expect(code(() => watchWebSocket(ws, POLICY, { probe: { send: 1 } as never }))).toMatch(
      /options.probe must be/,
    )
    expect(
      code(() => watchWebSocket(ws, POLICY, { probe: { send: () => {}, isAnswer: 'yes' } as never })),
    ).toMatch(/options.probe.isAnswer is not an option \(allowed: send\), got "yes"/)
    expect(code(() => watchWebSocket(ws, POLICY, { bogus: 1 } as never))).toMatch(
      /options.bogus is not an option/,
    )
    expect(code(() => watchWebSocket(ws, POLICY, { name: 5 } as never))).toMatch(
      /options.name must be a string, got 5/,
    )
    expect(code(() => watchWebSocket(ws, POLICY, [] as never))).toMatch(/options must be an object/)
    expect(code(() => watchWebSocketServer({} as never))).toMatch(
      /^KA_ERR_INVALID_ARGUMENT: watchWebSocketServer/,
    )
    expect(code(() => watchWebSocketServer(server.wss))).toMatch(/already watched/)
    expect(code(() => socketIoOptions(POLICY, 5 as never))).toMatch(
      /^KA_ERR_INVALID_ARGUMENT: socketIoOptions: base/,
    )
    expect(socketIoOptions('fast', { cors: { origin: '*' } })).toEqual({
      cors: { origin: '*' },
      pingInterval: 5000,
      pingTimeout: 3000,
    })
    ws.terminate()
  })

  it('a closed WebSocket, one already watched, one with no socket, an unsupported ws major; listener checks', async () => {
    expectNoLeaks()
    const server = await startWatchedServer(POLICY)
    const ws = await openClient(server.url)
    const watcher = watchWebSocket(ws, POLICY)
    expect(code(() => watchWebSocket(ws, POLICY))).toMatch(/^KA_ERR_INVALID_ARGUMENT: .*already watched/)
    expect(code(() => watcher.on('deadd' as never, () => {}))).toMatch(
      /^KA_ERR_INVALID_ARGUMENT: WebSocketWatcher events are .*close; got "deadd"/,
    )
    expect(code(() => watcher.on('dead', 5 as never))).toMatch(/listener must be a function, got 5/)
    const closed = new Promise((resolve) => ws.once('close', resolve))
    ws.close()
    await closed
    expect(watcher.state).toBe('disconnected')
    expect(code(() => watchWebSocket(ws, POLICY))).toMatch(
      /^KA_ERR_WS_CONNECTION_CLOSED: .*closed \(readyState 3\)/,
    )
    // Shaped like a ws WebSocket, open, but with no net.Socket under it (a wrapper, a browser-like object).
    const shell = { readyState: 1, ping() {}, terminate() {}, on() {}, once() {}, removeListener() {} }
    expect(() => watchWebSocket(shell)).toThrow(WsUnsupportedError)
    expect(() => checkWsVersion('7.5.10')).toThrow(WsUnsupportedError)
    expect(code(() => checkWsVersion('9.0.0'))).toMatch(/^KA_ERR_WS_UNSUPPORTED: .*installed ws is 9.0.0/)
    expect(() => checkWsVersion('8.23.0')).not.toThrow()
  })
})

describe('ws: hostile peers crash nothing', () => {
  it('a malformed frame (reserved opcode): the connection closes, close names ws’s error, nothing leaks', async () => {
    expectNoLeaks()
    const server = await startWatchedServer(POLICY)
    const socket = await rawClient(server.port)
    while (server.watcher.stats.connections === 0) await new Promise((r) => setTimeout(r, 10))
    const [ws] = server.connections
    const watcher = server.watcher.watcherOf(ws as object)
    expect(watcher?.state).toBe('idle')
    const closed = new Promise<{ reason: Error; code: number }>((resolve) => watcher?.on('close', resolve))
    socket.write(frame(0x3))
    const { reason, code: closeCode } = await closed
    expect(reason).toBeInstanceOf(WsConnectionClosedError)
    // ws answered with a 1002 close frame; the raw peer never completes the closing handshake, so ws reports 1006.
    expect(reason.message).toMatch(/code 1006: Invalid WebSocket frame: invalid opcode 3/)
    expect((reason.cause as Error).message).toMatch(/invalid opcode 3/)
    expect(closeCode).toBe(1006)
    expect(watcher?.state).toBe('disconnected')
    expect(server.watcher.stats).toMatchObject({ connections: 0, deaths: 0 })
    socket.destroy()
  })

  it('a pong flood (20,000 unsolicited pongs): no death, no alive storm, the watcher stays idle', async () => {
    expectNoLeaks()
    const server = await startWatchedServer({ idle: 2000, interval: 500, probes: 2 })
    const socket = await rawClient(server.port)
    while (server.watcher.stats.connections === 0) await new Promise((r) => setTimeout(r, 10))
    const [ws] = server.connections
    const watcher = server.watcher.watcherOf(ws as object)
    let alive = 0
    watcher?.on('alive', () => alive++)
    const pongs = Buffer.concat(Array.from({ length: 20_000 }, () => frame(0xa)))
    let pongsSeen = 0
    ws?.on('pong', () => pongsSeen++)
    socket.write(pongs)
    while (pongsSeen < 20_000) await new Promise((r) => setTimeout(r, 10))
    expect(alive).toBe(0) // alive is an answer to a probe; none was out
    expect(watcher?.state).toBe('idle')
    expect(server.deaths).toEqual([])
    socket.destroy()
  })
})

describe('ws: stop() and close leave nothing behind', () => {
  it('stop() removes every listener the watcher added, on the WebSocket and its socket', async () => {
    expectNoLeaks()
    const server = await startWatchedServer(POLICY)
    const ws = new WebSocket(server.url)
    ws.on('error', () => {})
    const names = ['close', 'pong', 'message', 'open', 'upgrade'] as const
    const before = Object.fromEntries(names.map((n) => [n, ws.listenerCount(n)]))
    const watcher = watchWebSocket(ws, POLICY)
    expect(watcher.state).toBe('connecting')
    expect(watcher.lastSeen).toBeUndefined()
    await new Promise((resolve) => ws.once('open', resolve))
    expect(watcher.state).toBe('idle')
    expect(watcher.side).toBe('client')
    const socket = (ws as unknown as { _socket: net.Socket })._socket
    const dataBefore = socket.listenerCount('data')
    watcher.stop()
    watcher.stop() // idempotent
    expect(watcher.state).toBe('stopped')
    expect(socket.listenerCount('data')).toBe(dataBefore - 1)
    expect(Object.fromEntries(names.map((n) => [n, ws.listenerCount(n)]))).toEqual({
      ...before,
      open: 0,
      upgrade: 0,
    })
    // A stopped watcher can be replaced: the WebSocket is no longer marked as watched.
    const again = watchWebSocket(ws, POLICY)
    expect(again.state).toBe('idle')
    again.stop()
    ws.terminate()
  })

  it('the server watcher stops with the server and lets go of it', async () => {
    expectNoLeaks()
    const server = await startWatchedServer(POLICY)
    const ws = await openClient(server.url)
    while (server.watcher.stats.connections === 0) await new Promise((r) => setTimeout(r, 10))
    expect(server.watcher.state).toBe('running')
    const serverSide = server.connections[0] as object
    const perConnection = server.watcher.watcherOf(serverSide)
    await server.close()
    // ws 8 emits the server's 'close' once its last client is gone (a tick after the http server closed).
    for (let i = 0; i < 100 && server.watcher.state === 'running'; i++)
      await new Promise((r) => setTimeout(r, 10))
    expect(server.watcher.state).toBe('stopped')
    expect(perConnection?.state).toMatch(/^(stopped|disconnected)$/)
    expect(server.wss.listenerCount('connection')).toBe(1) // the helper's own tap; the watcher's is gone
    ws.terminate()
  })
})

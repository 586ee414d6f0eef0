/**
 * Test-side MQTT wire tools: a fixed-header splitter, a counting proxy that records what the client puts on the
 * wire (CONNECT's Keep Alive, each PINGREQ with its time), and a scripted broker for inputs no real broker sends
 * (Server Keep Alive 0 / 65535 / absent on MQTT 5, no CONNACK at all, a PINGRESP storm). Plain bytes, no MQTT
 * library: what is asserted is what is on the wire.
 */
import { createConnection, createServer, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { listen, track } from '@keepalive/test-harness'

export const PACKET = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  SUBSCRIBE: 8,
  SUBACK: 9,
  PINGREQ: 12,
  PINGRESP: 13,
}

export interface WirePacket {
  type: number
  at: number
  body: Buffer
}

/** Splits a byte stream into MQTT control packets (fixed header: type nibble, variable-length remaining length). */
export class PacketSplitter {
  #buffer: Buffer = Buffer.alloc(0)
  push(chunk: Buffer, at = performance.now()): WirePacket[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk])
    const out: WirePacket[] = []
    for (;;) {
      const b = this.#buffer
      if (b.length < 2) break
      let length = 0
      let multiplier = 1
      let i = 1
      let complete = false
      for (; i < b.length && i <= 4; i++) {
        const byte = b[i] as number
        length += (byte & 0x7f) * multiplier
        multiplier *= 128
        if ((byte & 0x80) === 0) {
          complete = true
          break
        }
      }
      if (!complete) break
      const start = i + 1
      if (b.length < start + length) break
      out.push({ type: (b[0] as number) >> 4, at, body: b.subarray(start, start + length) })
      this.#buffer = b.subarray(start + length)
    }
    return out
  }
}

/** CONNECT's variable header: protocol name (2-byte length + bytes), level, flags, Keep Alive (2 bytes). */
export function connectKeepalive(body: Buffer): { level: number; keepalive: number } {
  const nameLength = body.readUInt16BE(0)
  const level = body[2 + nameLength] as number
  return { level, keepalive: body.readUInt16BE(2 + nameLength + 2) }
}

export interface WireProxy {
  host: string
  port: number
  url: string
  /** Client → broker packets, all connections, in order. */
  readonly sent: WirePacket[]
  pingreqs(since?: number): WirePacket[]
  connects(): { level: number; keepalive: number; at: number }[]
  stop(): Promise<void>
}

/** A TCP proxy in front of `target` that records every packet the client sends. */
export async function startWireProxy(target: { host: string; port: number }): Promise<WireProxy> {
  const sent: WirePacket[] = []
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = createConnection(target)
    sockets.add(client).add(upstream)
    const splitter = new PacketSplitter()
    client.on('data', (chunk) => {
      sent.push(...splitter.push(chunk))
      upstream.write(chunk)
    })
    upstream.pipe(client)
    const close = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('close', close).on('error', close)
    upstream.on('close', close).on('error', close)
  })
  const address = await listen(server)
  const stop = track(`wire proxy :${address.port}`, async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return {
    ...address,
    url: `mqtt://${address.host}:${address.port}`,
    sent,
    pingreqs: (since = 0) => sent.filter((p) => p.type === PACKET.PINGREQ && p.at >= since),
    connects: () =>
      sent.filter((p) => p.type === PACKET.CONNECT).map((p) => ({ ...connectKeepalive(p.body), at: p.at })),
    stop,
  }
}

export interface ScriptedBrokerOptions {
  /**
   * The CONNACK to send: `{ serverKeepAlive }` for MQTT 5 with that property (undefined = absent), or `null`
   * to never answer CONNECT.
   */
  connack: { serverKeepAlive?: number } | null
  /** Answer PINGREQ with PINGRESP (default true). */
  answerPings?: boolean
}

export interface ScriptedBroker {
  host: string
  port: number
  url: string
  readonly received: WirePacket[]
  pingreqs(since?: number): WirePacket[]
  /** Sends PINGRESP to every connection every `everyMs` until the returned function is called. */
  pingrespStorm(everyMs: number): () => void
  connections(): number
  stop(): Promise<void>
}

/** CONNACK for MQTT 3.1.1 (level 4) or 5, with an optional Server Keep Alive property (0x13). */
export function connackBytes(level: number, serverKeepAlive: number | undefined): Buffer {
  if (level !== 5) return Buffer.from([0x20, 0x02, 0x00, 0x00])
  const props =
    serverKeepAlive === undefined
      ? Buffer.alloc(0)
      : Buffer.from([0x13, (serverKeepAlive >> 8) & 0xff, serverKeepAlive & 0xff])
  return Buffer.concat([Buffer.from([0x20, 3 + props.length, 0x00, 0x00, props.length]), props])
}

/** A minimal MQTT broker that does exactly what the test scripts, byte for byte. */
export async function startScriptedBroker(options: ScriptedBrokerOptions): Promise<ScriptedBroker> {
  const received: WirePacket[] = []
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket)).on('error', () => {})
    const splitter = new PacketSplitter()
    socket.on('data', (chunk) => {
      for (const packet of splitter.push(chunk)) {
        received.push(packet)
        if (packet.type === PACKET.CONNECT && options.connack !== null) {
          const { level } = connectKeepalive(packet.body)
          socket.write(connackBytes(level, options.connack.serverKeepAlive))
        } else if (packet.type === PACKET.PINGREQ && options.answerPings !== false) {
          socket.write(Buffer.from([0xd0, 0x00]))
        }
      }
    })
  })
  const address = await listen(server)
  const storms = new Set<ReturnType<typeof setInterval>>()
  const stop = track(`scripted broker :${address.port}`, async () => {
    for (const timer of storms) clearInterval(timer)
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return {
    ...address,
    url: `mqtt://${address.host}:${address.port}`,
    received,
    pingreqs: (since = 0) => received.filter((p) => p.type === PACKET.PINGREQ && p.at >= since),
    pingrespStorm(everyMs) {
      const timer = setInterval(() => {
        for (const socket of sockets) socket.write(Buffer.from([0xd0, 0x00]))
      }, everyMs)
      storms.add(timer)
      return () => {
        clearInterval(timer)
        storms.delete(timer)
      }
    },
    connections: () => sockets.size,
    stop,
  }
}

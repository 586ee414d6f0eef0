/**
 * A small client library for a Redis-style protocol (`PING\r\n` → `+PONG\r\n`), the way a library author would build
 * keepalive in: the connection from `@keepalive/tcp` (the kernel's probes and TCP_USER_TIMEOUT from the policy), and
 * core's `createMonitor` for application-level liveness, which also sees a server whose process hangs while its
 * kernel keeps acknowledging. Every byte received is a sign of life; after `idle` of silence the monitor sends PING;
 * after `probes` unanswered ones the client closes with the monitor's reason (KA_ERR_PROBE_TIMEOUT).
 */
import { EventEmitter } from 'node:events'
import type net from 'node:net'
import { createMonitor, type DeadEvent, type PolicyLike } from '@keepalive/core'
import { connect } from '@keepalive/tcp'

export interface PingClientOptions {
  host: string
  port: number
  keepalive?: PolicyLike
}

export class PingClient extends EventEmitter<{ dead: [DeadEvent]; pong: [] }> {
  readonly #socket: net.Socket
  readonly #monitor

  private constructor(socket: net.Socket, keepalive: PolicyLike | undefined) {
    super()
    this.#socket = socket
    this.#monitor = createMonitor({ policy: keepalive, name: 'ping-client', probe: () => this.ping() })
    socket.on('data', (chunk) => {
      this.#monitor.touch()
      if (chunk.includes('+PONG')) this.emit('pong')
    })
    this.#monitor.on('dead', (event) => {
      socket.destroy(event.reason)
      this.emit('dead', event)
    })
    socket.on('close', () => this.#monitor.stop())
  }

  static async connect({ host, port, keepalive }: PingClientOptions): Promise<PingClient> {
    const socket = connect({ host, port, keepalive })
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    socket.on('error', () => {}) // surfaced through 'dead' and close()
    return new PingClient(socket, keepalive)
  }

  ping(): void {
    this.#socket.write('PING\r\n')
  }

  close(): void {
    this.#monitor.stop()
    this.#socket.destroy()
  }
}

/**
 * `demo --compare`: the same faults against each library left to its own keepalive, side by side with the adapters.
 * Nothing here is tuned: each client is what a user gets from the library's defaults (keepalive turned on where
 * the library has a switch for it), so the table shows what the adapters change.
 */
import http from 'node:http'
import net from 'node:net'
import mqtt from 'mqtt'
import ssh2 from 'ssh2'
import type { Scenario } from '../scenario.js'
import { httpScenario } from './http.js'
import { connected } from './listen.js'
import { mqttScenario } from './mqtt.js'
import { sshScenario } from './ssh.js'
import { tcpKernel } from './tcp.js'

/** An anchor reuses the adapter scenario's peer; its `expected` says what the library's defaults promise, in words. */
export interface Anchor extends Scenario {
  readonly anchorOf: string
  expected(): string
}

export const nodeTcpDefault: Anchor = {
  ...tcpKernel,
  id: 'tcp-node',
  anchorOf: 'tcp-kernel',
  detector: "Node's socket.setKeepAlive(true)",
  expected: () =>
    "the kernel's defaults (net.ipv4.tcp_keepalive_*: 7200 s + 75 s × 9 unless changed), no TCP_USER_TIMEOUT",
  async startClient({ host, port, events }) {
    const socket = net.connect({ host, port })
    await connected(socket)
    socket.setKeepAlive(true)
    socket.on('error', (error: NodeJS.ErrnoException) => events.dead(`${error.code ?? error.message}`))
    return { socket, stop: () => socket.destroy() }
  },
}

export const nodeHttpDefault: Anchor = {
  ...httpScenario,
  id: 'http-node',
  anchorOf: 'http',
  detector: "Node's http.Agent({ keepAlive: true })",
  expected: () =>
    "TCP_KEEPIDLE = keepAliveMsecs (1 s); interval and count are libuv's and the kernel's; no TCP_USER_TIMEOUT",
  async startClient({ host, port, events }) {
    const agent = new http.Agent({ keepAlive: true })
    const request = http.request({ host, port, path: '/hold', agent })
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      request.once('error', reject)
      request.once('socket', (s: net.Socket) =>
        s.connecting ? s.once('connect', () => resolve(s)) : resolve(s),
      )
      request.end()
    })
    request.removeAllListeners('error')
    request.on('error', (error: NodeJS.ErrnoException) => events.dead(`${error.code ?? error.message}`))
    return {
      socket,
      stop: () => {
        request.destroy()
        agent.destroy()
      },
    }
  },
}

export const mqttjsDefault: Anchor = {
  ...mqttScenario,
  id: 'mqtt-mqttjs',
  anchorOf: 'mqtt',
  detector: "mqtt.js's own keepalive (same Keep Alive)",
  expected: () =>
    'mqtt.js sends PINGREQ after Keep Alive of silence from us and gives up when no PINGRESP came by the next tick',
  async startClient({ host, port, policy, events }) {
    const keepalive = Math.max(1, Math.floor(policy.idle / 1000))
    const client = mqtt.connect({ host, port, protocol: 'mqtt', keepalive, reconnectPeriod: 0 })
    client.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('close', () => reject(new Error('no CONNACK')))
    })
    client.removeAllListeners('close')
    client.once('offline', () => events.dead('mqtt.js: keepalive timeout'))
    client.once('close', () => events.dead('mqtt.js: connection closed'))
    return { socket: client.stream as net.Socket, stop: () => client.end(true) }
  },
}

export const ssh2Default: Anchor = {
  ...sshScenario,
  id: 'ssh-ssh2',
  anchorOf: 'ssh',
  detector: "ssh2's defaults",
  expected: () => "ssh2's client keepalive is off by default: nothing probes",
  async startClient({ host, port, events }) {
    const sock = net.connect({ host, port })
    await connected(sock)
    const client = new ssh2.Client()
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve)
      client.once('error', reject)
      client.connect({ sock, username: 'demo', hostVerifier: () => true, readyTimeout: 10_000 })
    })
    client.on('error', (error: Error & { level?: string }) =>
      events.dead(`ssh2: ${error.level ?? error.message}`),
    )
    client.once('close', () => events.dead('ssh2: connection closed'))
    return {
      socket: sock,
      stop: () => {
        client.end()
        sock.destroy()
      },
    }
  },
}

export const ANCHORS: readonly Anchor[] = [nodeTcpDefault, nodeHttpDefault, mqttjsDefault, ssh2Default]

/**
 * TCP, two ways. `tcp-kernel`: @keepalive/tcp sets idle, interval, count and TCP_USER_TIMEOUT on the socket and the
 * kernel does the probing; the death arrives as ETIMEDOUT. Only a real blackhole shows it: a frozen process's kernel
 * still answers the probes. `tcp`: the protocol-neutral monitor of @keepalive/core sends PING lines on a plain socket
 * and the peer answers PONG (the logic of the repository's first demo), which a frozen peer stops doing.
 */
import net from 'node:net'
import { createMonitor, tcpSettings } from '@keepalive/core'
import { connect, isKeepaliveTimeout } from '@keepalive/tcp'
import type { Scenario } from '../scenario.js'
import { connected, listen } from './listen.js'

export const tcpKernel: Scenario = {
  id: 'tcp-kernel',
  protocol: 'tcp',
  detector: 'kernel keepalive (@keepalive/tcp)',
  modes: ['netns'],
  whyNot: "a frozen peer's kernel still answers TCP keepalive probes, so the kernel never notices",
  kernel: true,
  configured: (policy) => tcpSettings(policy).detectionTime,
  async startPeer(host) {
    const server = net.createServer((socket) => socket.on('error', () => {}))
    return listen(server, host)
  },
  async startClient({ host, port, policy, events }) {
    const socket = connect({ host, port, keepalive: policy })
    await connected(socket)
    socket.on('error', (error) => {
      events.dead(
        isKeepaliveTimeout(error)
          ? `${(error as NodeJS.ErrnoException).code}: the kernel gave up`
          : String(error),
      )
    })
    return { socket, stop: () => socket.destroy() }
  },
}

export const tcpMonitor: Scenario = {
  id: 'tcp',
  protocol: 'tcp',
  detector: 'PING/PONG monitor (createMonitor)',
  modes: ['netns', 'freeze'],
  kernel: false,
  // The monitor probes on the policy's own grid: no whole seconds, so it promises exactly idle + interval × probes.
  configured: (policy) => policy.idle + policy.interval * policy.probes,
  async startPeer(host) {
    const server = net.createServer((socket) => {
      socket.on('error', () => {})
      socket.on('data', (chunk) => {
        for (const _ of chunk.toString('latin1').matchAll(/PING\n/g)) socket.write('PONG\n')
      })
    })
    return listen(server, host)
  },
  async startClient({ host, port, policy, events }) {
    const socket = net.connect({ host, port })
    await connected(socket)
    socket.on('error', () => {})
    const monitor = createMonitor({ policy, name: 'demo tcp', probe: () => socket.write('PING\n') })
    socket.on('data', () => monitor.touch())
    monitor.on('probe', ({ attempt }) => events.probe(attempt))
    monitor.on('alive', ({ rttMs }) => events.alive(rttMs))
    monitor.on('dead', ({ probesSent }) => {
      events.dead(`${probesSent} PINGs unanswered`)
      socket.destroy()
    })
    return {
      socket,
      stop: () => {
        monitor.stop()
        socket.destroy()
      },
    }
  },
}

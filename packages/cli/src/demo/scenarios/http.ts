/**
 * HTTP: a node:http server as the peer, its timeouts set by `configureServer(server, policy)`, which holds a request
 * open (a long poll); the client is a `createAgent(policy)` Agent, which puts the policy's full TCP keepalive on
 * every socket at connect. HTTP sends no probes of its own: a dead server under an in-flight request is found by
 * that TCP keepalive, so the death arrives as the request's ETIMEDOUT, and only a real blackhole shows it.
 */
import http from 'node:http'
import type net from 'node:net'
import { httpClientSettings } from '@keepalive/core'
import { configureServer, createAgent } from '@keepalive/http'
import type { Scenario } from '../scenario.js'
import { listen } from './listen.js'

export const httpScenario: Scenario = {
  id: 'http',
  protocol: 'http',
  detector: 'TCP keepalive under a request (createAgent)',
  modes: ['netns'],
  whyNot:
    "HTTP sends no probes of its own: a request in flight is guarded by TCP keepalive, which a frozen server's kernel still answers",
  kernel: true,
  configured: (policy) => httpClientSettings(policy).detectionTime,
  async startPeer(host, policy) {
    const held = new Set<http.ServerResponse>()
    const server = http.createServer((request, response) => {
      // A long poll: the response never comes; the client waits with the request in flight.
      request.resume()
      held.add(response)
      response.on('close', () => held.delete(response))
    })
    configureServer(server, policy)
    return listen(server as unknown as net.Server, host)
  },
  async startClient({ host, port, policy, events }) {
    const agent = createAgent(policy)
    const request = http.request({ host, port, path: '/hold', agent })
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      request.once('error', reject)
      request.once('socket', (s: net.Socket) => {
        if (s.connecting) s.once('connect', () => resolve(s))
        else resolve(s)
      })
      request.end()
    })
    request.removeAllListeners('error')
    request.on('error', (error: NodeJS.ErrnoException) => {
      events.dead(`${error.code ?? error.message}: the request's socket died (TCP keepalive)`)
    })
    return {
      socket,
      stop: () => {
        request.destroy()
        agent.destroy()
      },
    }
  },
}

/**
 * Other clients of a watched server: Node's global WebSocket (undici's, Node 22+; Node 20 has it only behind
 * --experimental-websocket, so the test is skipped there, by name). It cannot send pings, but answers them.
 */
import { expectNoLeaks } from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import { startWatchedServer } from './helpers.js'

const hasGlobalWebSocket = typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function'

describe('ws: Node’s global WebSocket (undici) as the client', () => {
  it.skipIf(!hasGlobalWebSocket)(
    'answers the watcher’s pings: probes answered, RTT measured, 0 deaths',
    async () => {
      expectNoLeaks()
      const server = await startWatchedServer({ idle: 200, interval: 300, probes: 2 })
      const client = new WebSocket(server.url)
      await new Promise((resolve, reject) => {
        client.addEventListener('open', resolve, { once: true })
        client.addEventListener('error', reject, { once: true })
      })
      for (let i = 0; i < 300 && server.watcher.stats.connections === 0; i++)
        await new Promise((r) => setTimeout(r, 10))
      const watcher = server.watcher.watcherOf(server.connections[0] as object)
      await new Promise((resolve) => setTimeout(resolve, 1500))
      expect(server.watcher.stats.probesTotal).toBeGreaterThanOrEqual(3)
      expect(watcher?.lastRttMs).toBeGreaterThan(0)
      expect(server.deaths).toEqual([])
      const closed = new Promise((resolve) => client.addEventListener('close', resolve, { once: true }))
      client.close()
      await closed
    },
  )
})

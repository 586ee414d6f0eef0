// The watcher contract (core's Watcher, #23) against watchWebSocket on a ws client of a ws server in this process,
// through the contract's proxy (test/harness/watcher-contract.ts).

import http from 'node:http'
import { listen, registerCleanup } from '@keepalive/test-harness'
import { describeWatcherContract } from '@keepalive/test-harness/watcher-contract'
import { watchWebSocket } from '@keepalive/ws'
import WebSocket, { WebSocketServer } from 'ws'

describeWatcherContract({
  name: 'WebSocketWatcher',
  ownEvents: ['close'],
  deadCode: 'KA_ERR_WS_PONG_TIMEOUT',
  async connect(policy, via) {
    const server = http.createServer()
    const wss = new WebSocketServer({ server })
    wss.on('connection', (ws) => ws.on('error', () => {}))
    const { port } = await listen(server)
    registerCleanup('ws contract server', async () => {
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    })
    const target = await via({ host: '127.0.0.1', port })
    const client = new WebSocket(`ws://${target.host}:${target.port}`)
    client.on('error', () => {})
    registerCleanup('ws contract client', () => client.terminate())
    const watcher = watchWebSocket(client, policy)
    registerCleanup('ws watcher', () => watcher.stop())
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject))
    return { watcher }
  },
})

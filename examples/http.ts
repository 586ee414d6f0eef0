/**
 * @keepalive/http: an Agent that never hands out a socket the server is about to close.
 *
 * The server here closes idle keep-alive connections after 1 s (its `keepAliveTimeout`, announced in the
 * `Keep-Alive: timeout=1` header). The client sends a request, waits exactly that second, and sends another: the
 * moment a plain keep-alive Agent may reuse a socket as the server's FIN arrives (ECONNRESET / "socket hang up").
 * `createAgent` retires the idle socket a safety margin before the server's timeout, so the second request goes out
 * on a fresh socket, and `agent.stats` says so.
 *
 * Run: bash scripts/run-ts.sh examples/http.ts
 */
import http from 'node:http'
import type net from 'node:net'
import { createAgent } from '@keepalive/http'

const server = http.createServer((_request, response) => response.end('ok\n'))
server.keepAliveTimeout = 1_000
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as net.AddressInfo

const agent = createAgent('fast')

function get(): Promise<{ status: number | undefined; keepAlive: string | string[] | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
        response.resume()
        response.on('end', () =>
          resolve({ status: response.statusCode, keepAlive: response.headers['keep-alive'] }),
        )
      })
      .on('error', reject)
  })
}

const first = await get()
console.log(`request 1: ${first.status}, server announces Keep-Alive: ${first.keepAlive}`)
await new Promise((resolve) => setTimeout(resolve, 1_000)) // the server's idle timeout, to the millisecond
const second = await get()
console.log(`request 2 after 1 s idle: ${second.status}`)
console.log('agent.stats:', agent.stats)

agent.destroy()
server.close()

const { socketsCreated, expiredIdle, requestsFailed } = agent.stats
if (first.status !== 200 || second.status !== 200 || expiredIdle < 1 || requestsFailed !== 0) {
  console.error(
    'expected two 200s, the idle socket retired before the server closed it, and no failed request',
  )
  process.exit(1)
}
console.log(
  `ok: http: ${socketsCreated} sockets, ${expiredIdle} retired before the server's 1 s timeout, 0 requests failed`,
)

import { createServer, type RequestListener, type Server } from 'node:http'
import { track } from './cleanup.js'
import type { InProcessPeer } from './peer.js'
import { listen } from './ports.js'
import { closeServer, SocketSet } from './sockets.js'

export interface HttpServerOptions {
  host?: string
  /** server.keepAliveTimeout in ms (Node's default is 5000). */
  keepAliveTimeout?: number
  headersTimeout?: number
  requestTimeout?: number
}

export interface HttpPeer extends InProcessPeer {
  url: string
  server: Server
  /** Requests answered so far. */
  requestCount(): number
}

const defaultHandler: RequestListener = (_request, response) => {
  response.setHeader('content-type', 'text/plain')
  response.end('ok')
}

/** A node:http server on port 0 (default handler: 200 "ok"). */
export async function startHttpServer(
  handler: RequestListener = defaultHandler,
  options: HttpServerOptions = {},
): Promise<HttpPeer> {
  let requests = 0
  const server = createServer((request, response) => {
    requests += 1
    handler(request, response)
  })
  if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout
  if (options.headersTimeout !== undefined) server.headersTimeout = options.headersTimeout
  if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout
  const sockets = new SocketSet()
  sockets.watch(server)
  const address = await listen(server, options.host)
  const stop = track(`http server :${address.port}`, async () => {
    const closed = closeServer(server)
    server.closeAllConnections()
    sockets.destroyAll()
    await closed
  })
  return {
    ...address,
    url: `http://${address.host}:${address.port}`,
    server,
    requestCount: () => requests,
    stop,
    async crash() {
      sockets.resetAll()
      await stop()
    },
    connectionCount: () => sockets.size,
  }
}

/**
 * The stale-socket race made deterministic: a real node:http server that answers the first request on each
 * connection and destroys the connection when a second request arrives on it, so a client that reuses the socket
 * meets a reset before any response byte every time. `seen` lists each request as "METHOD URL n" (n: its number on
 * its connection) with its Idempotency-Key header when it has one. `neverAnswer(url)`: leave such a request (when it is
 * the first on its connection) without an answer.
 */
import { startHttpServer } from '@keepalive/test-harness'

export async function startStaleServer(options: { neverAnswer?: (url: string) => boolean } = {}) {
  const perSocket = new WeakMap<object, number>()
  const seen: string[] = []
  const server = await startHttpServer((req, res) => {
    const n = (perSocket.get(req.socket) ?? 0) + 1
    perSocket.set(req.socket, n)
    const key = req.headers['idempotency-key']
    seen.push(`${req.method} ${req.url} ${n}${key === undefined ? '' : ` key=${String(key)}`}`)
    req.resume()
    req.on('end', () => {
      if (n === 2) req.socket.destroy()
      else if (!options.neverAnswer?.(req.url ?? '')) res.end('ok')
    })
  })
  return { server, seen }
}

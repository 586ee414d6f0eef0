import { connect, createServer, type Socket } from 'node:net'
import { track } from './cleanup.js'
import type { ProxyTarget } from './idle-drop-proxy.js'
import type { Peer } from './peer.js'
import { listen } from './ports.js'
import { closeServer, SocketSet } from './sockets.js'

export interface DelayProxyOptions {
  target: ProxyTarget
  /** Added to every chunk in each direction: a round trip grows by twice this. */
  oneWayDelayMs: number
  host?: string
}

export interface DelayProxy extends Peer {
  oneWayDelayMs: number
}

type Item = { due: number; chunk: Buffer } | { due: number; end: true } | { due: number; destroy: true }

/**
 * Delivers what `from` sends to `to` `delayMs` later, in order: a queue of timestamped chunks and one timer for its
 * head. A close is delayed like data, so it never overtakes bytes sent before it.
 */
function delayPipe(from: Socket, to: Socket, delayMs: number): void {
  const queue: Item[] = []
  let timer: NodeJS.Timeout | undefined
  const flush = (): void => {
    timer = undefined
    const now = performance.now()
    // Half a millisecond early is on time: setTimeout only has millisecond resolution.
    while (queue.length > 0 && (queue[0] as Item).due <= now + 0.5) {
      const item = queue.shift() as Item
      if ('chunk' in item) to.write(item.chunk)
      else if ('end' in item) to.end()
      else to.destroy()
    }
    schedule()
  }
  const schedule = (): void => {
    const head = queue[0]
    if (head && !timer) timer = setTimeout(flush, Math.max(0, head.due - performance.now()))
  }
  const push = (item: Item): void => {
    queue.push(item)
    schedule()
  }
  from.on('data', (chunk: Buffer) => push({ due: performance.now() + delayMs, chunk }))
  from.on('end', () => push({ due: performance.now() + delayMs, end: true }))
  from.on('close', (hadError) => {
    if (hadError) push({ due: performance.now() + delayMs, destroy: true })
  })
  from.on('error', () => {})
  to.on('close', () => {
    if (timer) clearTimeout(timer)
    timer = undefined
    queue.length = 0
  })
}

/**
 * A userspace TCP proxy that adds `oneWayDelayMs` of latency in each direction (this kernel has no netem). The
 * TCP handshake itself is not delayed: only data and closes are.
 */
export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const sockets = new SocketSet()
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ ...options.target, allowHalfOpen: true })
    // No Nagle on either leg: small chunks must leave when their time comes, not when a segment fills.
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    sockets.add(client)
    sockets.add(upstream)
    delayPipe(client, upstream, options.oneWayDelayMs)
    delayPipe(upstream, client, options.oneWayDelayMs)
  })
  const address = await listen(server, options.host)
  const stop = track(`delay proxy :${address.port}`, async () => {
    const closed = closeServer(server)
    sockets.destroyAll()
    await closed
  })
  return { ...address, oneWayDelayMs: options.oneWayDelayMs, stop }
}

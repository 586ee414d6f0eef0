/**
 * The node:http internals createAgent relies on (src/node-internals.ts), each pinned against the real node:http of
 * the Node running the test (20, 22, 24 and 26 in test-all). When a Node release changes one, the test named after it
 * fails here — and, at run time, the check in node-internals.ts turns the feature off with a warning instead of
 * breaking requests (last describe).
 */
import http from 'node:http'
import type { Socket } from 'node:net'
import { startHttpServer } from '@keepalive/test-harness'
import { describe, expect, it, vi } from 'vitest'
import { createAgent, getReuseFacts } from '../src/index.js'
import {
  checkAtLoad,
  checkRequest,
  removeFreeSocket,
  replaceRequestMethods,
  requestOnSocket,
  responseOf,
  takesNewestFree,
  watchSocketWrites,
} from '../src/node-internals.js'
import { startStaleServer } from './stale-server.js'

function send(agent: http.Agent, url: string, options: http.RequestOptions = {}, body?: string) {
  return new Promise<{ status: number; body: string; socket: Socket }>((resolve, reject) => {
    const req = http.request(url, { ...options, agent }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, socket: req.socket as Socket }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe(`node:http ${process.versions.node} internals`, () => {
  it('every check node-internals.ts makes at load passes', () => {
    expect(checkAtLoad()).toEqual({ retry: undefined, prune: undefined, counts: undefined })
  })

  it('a ClientRequest hands itself to agent.addRequest, with res null until its response head, then the response', async () => {
    const server = await startHttpServer()
    const agent = new http.Agent({ keepAlive: true })
    const added: unknown[] = []
    const addRequest = (http.Agent.prototype as unknown as { addRequest: (...a: unknown[]) => void })
      .addRequest
    ;(agent as unknown as { addRequest: (...a: unknown[]) => void }).addRequest = function (
      this: unknown,
      ...a
    ) {
      added.push(a[0])
      addRequest.apply(this, a)
    }
    try {
      const req = http.get(server.url, { agent })
      expect(added).toEqual([req])
      // What checkFirstRequest looks at on the first request: res null, not destroyed or closed, timeoutCb a field.
      expect(checkRequest(req)).toBeUndefined()
      expect(responseOf(req)).toBeNull()
      const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve))
      expect(responseOf(req)).toBe(res)
      res.resume()
      await new Promise((resolve) => res.on('end', resolve))
      const changed = http.get(server.url, { agent })
      changed.on('error', () => {})
      ;(changed as unknown as { _closed: unknown })._closed = undefined
      expect(checkRequest(changed)).toBe("a new ClientRequest's _closed is not false")
      changed.destroy()
    } finally {
      agent.destroy()
    }
  })

  it('socket._httpMessage is the request writing on the socket, and every byte it writes goes through socket.write', async () => {
    const server = await startHttpServer((req, res) => {
      let length = 0
      req.on('data', (chunk: Buffer) => {
        length += chunk.length
      })
      req.on('end', () => res.end(String(length)))
    })
    const agent = new http.Agent({ keepAlive: true })
    const writers: unknown[] = []
    let written = 0
    const createConnection = agent.createConnection.bind(agent)
    agent.createConnection = ((options: object, cb: unknown) => {
      const socket = (createConnection as (o: object, c: unknown) => Socket)(options, cb)
      watchSocketWrites(socket, (s, chunk, encoding) => {
        writers.push(requestOnSocket(s))
        written +=
          typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : (chunk as Uint8Array).length
      })
      return socket
    }) as typeof agent.createConnection
    try {
      const body = 'x'.repeat(10_000)
      const req = http.request(server.url, {
        agent,
        method: 'POST',
        headers: { 'content-length': body.length },
      })
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        req.on('response', resolve)
        req.on('error', reject)
        req.write(body.slice(0, 5000))
        req.end(body.slice(5000))
      })
      let text = ''
      for await (const chunk of res) text += chunk
      expect(text).toBe('10000')
      expect(writers.length).toBeGreaterThan(0)
      expect(writers.every((w) => w === req)).toBe(true)
      // Head and body: everything the socket sent passed through the replaced write.
      expect(written).toBe((req.socket as Socket).bytesWritten)
    } finally {
      agent.destroy()
    }
  })

  it("a request's response, prefinish, error and close go through its emit, and an abort through its destroy", async () => {
    const server = await startHttpServer()
    const agent = new http.Agent({ keepAlive: true })
    try {
      const events: string[] = []
      const req = http.get(server.url, { agent })
      const closed = new Promise((resolve) => req.on('close', resolve))
      const own = replaceRequestMethods(
        req,
        function (this: http.ClientRequest, event: string | symbol, ...args: unknown[]) {
          events.push(String(event))
          return own.emit.call(this, event, ...args)
        } as http.ClientRequest['emit'],
        req.destroy,
      )
      const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve))
      res.resume()
      await closed
      expect(events).toEqual(expect.arrayContaining(['socket', 'prefinish', 'response', 'finish', 'close']))

      const controller = new AbortController()
      const aborted = http.get(server.url, { agent, signal: controller.signal })
      const destroyed: unknown[] = []
      const seen: string[] = []
      const own2 = replaceRequestMethods(
        aborted,
        function (this: http.ClientRequest, event: string | symbol, ...args: unknown[]) {
          seen.push(String(event))
          return own2.emit.call(this, event, ...args)
        } as http.ClientRequest['emit'],
        function (this: http.ClientRequest, error?: Error) {
          destroyed.push(error)
          return own2.destroy.call(this, error)
        } as http.ClientRequest['destroy'],
      )
      const failed = new Promise((resolve) => aborted.on('error', resolve))
      const abortClosed = new Promise((resolve) => aborted.on('close', resolve))
      controller.abort()
      expect(await failed).toMatchObject({ name: 'AbortError' })
      await abortClosed
      expect(destroyed).toHaveLength(1)
      expect(seen).toEqual(expect.arrayContaining(['error', 'close']))
    } finally {
      agent.destroy()
    }
  })

  it("an Agent hears its own 'free' (socket, options) after each response on a kept socket", async () => {
    const server = await startHttpServer()
    const agent = new http.Agent({ keepAlive: true })
    const frees: Array<[unknown, unknown]> = []
    agent.on('free', (socket, options) => frees.push([socket, options]))
    try {
      const first = await send(agent, server.url)
      const second = await send(agent, server.url)
      await new Promise((resolve) => setImmediate(resolve))
      expect(second.socket).toBe(first.socket)
      expect(frees.map(([s]) => s)).toEqual([first.socket, first.socket])
      expect(agent.getName(frees[0]?.[1] as http.ClientRequestArgs)).toBe(`127.0.0.1:${server.port}:`)
    } finally {
      agent.destroy()
    }
  })

  it('lifo takes the last socket of a free list and fifo the first; a socket removed from the list is not handed out', async () => {
    const server = await startHttpServer()
    for (const scheduling of ['lifo', 'fifo'] as const) {
      const agent = new http.Agent({ keepAlive: true, scheduling })
      try {
        // Two sockets in the pool: two requests at once, both ended.
        const [a, b] = await Promise.all([send(agent, server.url), send(agent, server.url)])
        await new Promise((resolve) => setImmediate(resolve))
        const name = `127.0.0.1:${server.port}:`
        const list = agent.freeSockets[name] as Socket[]
        expect(list).toHaveLength(2)
        expect(new Set(list)).toEqual(new Set([a.socket, b.socket]))
        expect(takesNewestFree(agent)).toBe(scheduling === 'lifo')
        const expected = scheduling === 'lifo' ? list[1] : list[0]
        const other = scheduling === 'lifo' ? list[0] : list[1]
        const total = (agent as unknown as { totalSocketCount: number }).totalSocketCount
        expect(total).toBe(2)
        // Take the one the agent would pick next out of the pool: the next request gets the other one.
        expect(removeFreeSocket(agent, name, expected as Socket)).toBe(true)
        expect((agent as unknown as { totalSocketCount: number }).totalSocketCount).toBe(1)
        const next = await send(agent, server.url)
        expect(next.socket).toBe(other)
        ;(expected as Socket).destroy()
        await new Promise((resolve) => setImmediate(resolve))
        // The agent's own close handler finds nothing left to remove: its count stays right.
        expect((agent as unknown as { totalSocketCount: number }).totalSocketCount).toBe(1)
      } finally {
        agent.destroy()
      }
    }
  })

  it('a request whose reused socket died before any response byte is sent again on a new socket (createSocket, onSocket, destroyed/_closed)', async () => {
    const { server, seen } = await startStaleServer()
    const agent = createAgent()
    try {
      const first = await send(agent, server.url)
      const again = await send(agent, `${server.url}/again`, { timeout: 5000 })
      expect(again.status).toBe(200)
      expect(again.socket).not.toBe(first.socket)
      expect(seen).toEqual(['GET / 1', 'GET /again 2', 'GET /again 1'])
      expect(agent.stats.requestsRetried).toBe(1)
      // The request's timeout was forwarded to the new socket.
      expect(again.socket.timeout).toBeGreaterThan(0)
    } finally {
      agent.destroy()
    }
  })
})

describe('a failed check turns its feature off, with a warning naming what changed', () => {
  it('ClientRequest.prototype.onSocket missing: retry off (KEEPALIVE_HTTP_NODE_CHANGED), requests still work', async () => {
    const { server, seen } = await startStaleServer()
    const proto = http.ClientRequest.prototype as unknown as { onSocket?: unknown }
    const onSocket = proto.onSocket
    const warnings: Error[] = []
    const onWarning = (w: Error) => warnings.push(w)
    process.on('warning', onWarning)
    vi.resetModules()
    let agent: http.Agent | undefined
    try {
      proto.onSocket = undefined
      const fresh = await import('../src/index.js')
      proto.onSocket = onSocket
      agent = fresh.createAgent()
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.map((w) => [(w as Error & { code?: string }).code, w.message])).toEqual([
        [
          'KEEPALIVE_HTTP_NODE_CHANGED',
          expect.stringMatching(
            /node:http changed .*\(http\.ClientRequest\.prototype\.onSocket is missing\): requests failing on a reused socket are not sent again/,
          ),
        ],
      ])
      await send(agent, server.url)
      const error = await send(agent, `${server.url}/again`).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ECONNRESET' })
      expect(getReuseFacts(error)).toMatchObject({ reusedSocket: true, notRetriedBecause: 'retry disabled' })
      expect(seen).toEqual(['GET / 1', 'GET /again 2'])
    } finally {
      proto.onSocket = onSocket
      process.off('warning', onWarning)
      agent?.destroy()
      vi.resetModules()
    }
  })
})

/**
 * The undici behaviour createDispatcher relies on beyond undici's documented API (src/undici-internals.ts), each
 * pinned against the real undici of the matrix: undici 7 on Node 20, undici 8 on Node 22, 24 and 26
 * (undici-version.ts). When an undici release changes one, the test named after it fails here — and, at run time, the
 * check in undici-internals.ts turns the feature off with a warning instead of breaking requests (last describe).
 */
import type { Socket } from 'node:net'
import { startHttpServer } from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import { createDispatcher, getReuseFacts } from '../src/index.js'
import {
  checkModule,
  IDLE_CLOSE_MESSAGE,
  informationalError,
  isInformational,
  linkNextWrite,
  socketErrorPort,
  takeLink,
  undiciSupport,
} from '../src/undici-internals.js'
import { startStaleServer } from './stale-server.js'
import { expectedUndiciMajor, undici, undiciVersion } from './undici-version.js'

/** A plain undici Client whose sockets are handed to `onSocket` as they connect (through undici's own connector). */
function clientWatchingSockets(url: string, onSocket: (socket: Socket) => void, options: object = {}) {
  const connector = undici.buildConnector({})
  return new undici.Client(url, {
    ...options,
    connect: (opts: object, callback: (error: Error | null, socket: Socket | null) => void) =>
      connector(opts as never, (error, socket) => {
        if (socket) onSocket(socket as Socket)
        callback(error, socket as Socket | null)
      }),
  } as never)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function collectWarnings() {
  const warnings: Array<Error & { code?: string }> = []
  const onWarning = (w: Error) => warnings.push(w)
  process.on('warning', onWarning)
  return { warnings, stop: () => process.off('warning', onWarning) }
}

describe(`undici ${undiciVersion} internals`, () => {
  it(`is undici ${expectedUndiciMajor()}, and every check undici-internals.ts makes at the first dispatcher passes`, () => {
    expect(Number.parseInt(undiciVersion, 10)).toBe(expectedUndiciMajor())
    expect(checkModule(undici)).toEqual({ retry: undefined, limits: undefined, idleCount: undefined })
  })

  it(`undici closes an idle socket with InformationalError('${IDLE_CLOSE_MESSAGE}')`, async () => {
    const server = await startHttpServer()
    const errors: Error[] = []
    const client = clientWatchingSockets(
      server.url,
      (socket) => socket.on('error', (e: Error) => errors.push(e)),
      { keepAliveTimeout: 100, keepAliveMaxTimeout: 100, keepAliveTimeoutThreshold: 0 },
    )
    try {
      const res = await client.request({ path: '/', method: 'GET' })
      await res.body.text()
      await sleep(400)
      expect(errors.map((e) => [e.message, isInformational(e as never)])).toEqual([
        [IDLE_CLOSE_MESSAGE, true],
      ])
    } finally {
      await client.close()
    }
  })

  it('a socket destroyed with an InformationalError between requests fails nothing: the next request connects anew', async () => {
    const server = await startHttpServer()
    const sockets: Socket[] = []
    const client = clientWatchingSockets(server.url, (socket) => sockets.push(socket))
    try {
      const first = await client.request({ path: '/', method: 'GET' })
      await first.body.text()
      const error = informationalError(undici, 'socket max age')
      expect(error).toBeInstanceOf(undici.errors.InformationalError)
      ;(sockets[0] as Socket).destroy(error)
      // Dispatched while the socket is closing: undici waits for the close, then connects a new one.
      const second = await client.request({ path: '/2', method: 'GET' })
      expect(await second.body.text()).toBe('ok')
      expect(sockets).toHaveLength(2)
    } finally {
      await client.close()
    }
  })

  it("a socket's error reaches the request as the same object, a SocketError whose socket.localPort is the socket's", async () => {
    const { server } = await startStaleServer()
    const socketErrors: Error[] = []
    const sockets: Socket[] = []
    const client = clientWatchingSockets(server.url, (socket) => {
      sockets.push(socket)
      socket.on('error', (e: Error) => socketErrors.push(e))
    })
    try {
      const first = await client.request({ path: '/', method: 'GET' })
      await first.body.text()
      const port = (sockets[0] as Socket).localPort
      const error = await client.request({ path: '/2', method: 'GET' }).catch((e: unknown) => e as Error)
      expect(error).toBeInstanceOf(undici.errors.SocketError)
      expect((error as { code?: string }).code).toBe('UND_ERR_SOCKET')
      expect(socketErrorPort(error)).toBe(port)
      // The 'error' event's object, when the socket had one, is the one the request got.
      if (socketErrors.length > 0) expect(socketErrors).toContain(error)
    } finally {
      await client.close()
    }
  })

  it("a Client calls onRequestStart (undici 7: also the old API's onConnect), then writes the request's head through socket.write in the same step", async () => {
    const server = await startHttpServer()
    const heads: Array<[object | undefined, string]> = []
    const client = clientWatchingSockets(server.url, (socket) => {
      const write = socket.write
      socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
        heads.push([takeLink(), String(chunk).slice(0, 12)])
        return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
      } as Socket['write']
    })
    const apis = expectedUndiciMajor() === 7 ? ['new', 'old'] : ['new']
    try {
      for (const api of apis) {
        const path = `/${api}`
        const request = { path }
        await new Promise<void>((resolve, reject) => {
          const handler =
            api === 'new'
              ? {
                  onRequestStart: () => linkNextWrite(request),
                  onResponseStart: () => {},
                  onResponseData: () => {},
                  onResponseEnd: () => resolve(),
                  onResponseError: (_c: unknown, e: Error) => reject(e),
                }
              : {
                  onConnect: () => linkNextWrite(request),
                  onHeaders: () => true,
                  onData: () => true,
                  onComplete: () => resolve(),
                  onError: (e: Error) => reject(e),
                }
          client.dispatch({ path, method: 'GET' }, handler as never)
        })
        expect(heads.at(-1)?.[0]).toBe(request)
        await sleep(20)
      }
      expect(heads.map(([, head]) => head)).toEqual(apis.map((api) => `GET /${api} HTTP/`.slice(0, 12)))
    } finally {
      await client.close()
    }
  })

  it('through createDispatcher, with both handler APIs (undici.request, fetch), no check turns anything off', async () => {
    const server = await startHttpServer()
    const { warnings, stop } = collectWarnings()
    const dispatcher = createDispatcher(undefined, { undici, serverKeepAliveTimeout: 5000 })
    try {
      for (let i = 0; i < 2; i += 1) {
        const res = await undici.request(server.url, { dispatcher })
        await res.body.text()
        const f = await undici.fetch(server.url, { dispatcher })
        await f.text()
      }
      const support = undiciSupport(undici)
      expect(support.linkChecked).toBe(true)
      expect(support.off).toEqual({ retry: undefined, limits: undefined, idleCount: undefined })
      expect(warnings).toEqual([])
    } finally {
      stop()
      await dispatcher.close()
    }
  })
})

describe('a failed check turns its feature off, with a warning naming what changed', () => {
  it('SocketError no longer keeps its socket: retry off (KEEPALIVE_HTTP_UNDICI_CHANGED), requests still work', async () => {
    const { server, seen } = await startStaleServer()
    const { warnings, stop } = collectWarnings()
    // A copy of the module whose SocketError forgets its socket: what an undici release changing it would look like.
    const Original = undici.errors.SocketError
    class ForgetfulSocketError extends Original {
      constructor(message?: string) {
        super(message)
      }
    }
    const changed = { ...undici, errors: { ...undici.errors, SocketError: ForgetfulSocketError } }
    const dispatcher = createDispatcher(undefined, { undici: changed as never })
    try {
      await sleep(0)
      expect(warnings.map((w) => [w.code, w.message])).toEqual([
        [
          'KEEPALIVE_HTTP_UNDICI_CHANGED',
          '@keepalive/http: undici changed (SocketError no longer keeps the socket it is given as error.socket): requests failing on a reused socket are not sent again',
        ],
      ])
      const first = await undici.request(server.url, { dispatcher })
      expect(await first.body.text()).toBe('ok')
      // undici's Pool sends a request dispatched in the same tick as the previous response's end on another Client.
      await sleep(20)
      const error = await undici.request(`${server.url}/again`, { dispatcher }).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'UND_ERR_SOCKET' })
      expect(getReuseFacts(error)).toMatchObject({ reusedSocket: true, notRetriedBecause: 'retry disabled' })
      expect(seen).toEqual(['GET / 1', 'GET /again 2'])
    } finally {
      stop()
      await dispatcher.close()
    }
  })

  it("InformationalError changed: socket limits fall back to undici's own (maxRequestsPerClient), with the warning", async () => {
    const server = await startHttpServer()
    const { warnings, stop } = collectWarnings()
    class OtherInfo extends Error {
      code = 'UND_ERR_SOMETHING'
    }
    const changed = { ...undici, errors: { ...undici.errors, InformationalError: OtherInfo } }
    const dispatcher = createDispatcher(undefined, {
      undici: changed as never,
      maxRequestsPerSocket: 2,
      jitter: 0,
    })
    try {
      await sleep(0)
      expect(warnings.map((w) => w.message)).toEqual([
        "@keepalive/http: undici changed (InformationalError's code is UND_ERR_SOMETHING, not UND_ERR_INFO): maxSocketAge and maxRequestsPerSocket are applied by undici's Pool clientTtl and Client maxRequestsPerClient",
      ])
      for (let i = 0; i < 4; i += 1) {
        const res = await undici.request(server.url, { dispatcher })
        expect(await res.body.text()).toBe('ok')
      }
      expect(dispatcher.stats.socketsCreated).toBe(2)
    } finally {
      stop()
      await dispatcher.close()
    }
  })
})

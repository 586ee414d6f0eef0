/**
 * The pool's own rules on both engines, against a real node:http server: full TCP keepalive read back from the kernel
 * while the first request is still in flight (applied at connect, not when the socket goes idle), socket retirement
 * by request count and by age, the counters and diagnostics, and bad options.
 */
import { execFileSync } from 'node:child_process'
import diagnosticsChannel from 'node:diagnostics_channel'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readTcpKeepalive } from '@keepalive/tcp'
import { startHttpServer, track } from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import {
  createAgent,
  createDispatcher,
  createHttpsAgent,
  getReuseFacts,
  UndiciUnsupportedError,
} from '../src/index.js'
import { resolveOptions } from '../src/options.js'
import { undici } from './undici-version.js'

const FAST = 'fast' // 5 s / 1 s / 3: what the kernel must hold

function get(
  agent: http.Agent,
  url: string,
  options: https.RequestOptions = {},
): Promise<{ status: number; socket: Socket; inFlight: ReturnType<typeof readTcpKeepalive> }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? https : http).get(url, { ...options, agent }, (res) => {
      // Read while the response is still being received: the socket has never been free.
      const inFlight = readTcpKeepalive(req.socket as Socket)
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, socket: req.socket as Socket, inFlight }))
    })
    req.on('error', reject)
  })
}

describe('TCP keepalive at connect', () => {
  it('node:http: the kernel holds the policy on a socket whose first request is in flight', async () => {
    const server = await startHttpServer()
    const agent = createAgent(FAST)
    try {
      const { inFlight } = await get(agent, server.url)
      expect(inFlight).toMatchObject({ enabled: true, idle: 5000, interval: 1000, probes: 3 })
    } finally {
      agent.destroy()
    }
  })

  it('undici: the same, on the socket the connector made', async () => {
    let seen: Socket | undefined
    let inFlight: ReturnType<typeof readTcpKeepalive> = null
    const onCreated = (message: unknown) => {
      seen = (message as { socket: Socket }).socket
    }
    diagnosticsChannel.subscribe('keepalive:http:socketCreated', onCreated)
    const server = await startHttpServer((_req, res) => {
      if (seen) inFlight = readTcpKeepalive(seen)
      res.end('ok')
    })
    const dispatcher = createDispatcher(FAST, { undici })
    try {
      const res = await undici.request(server.url, { dispatcher })
      await res.body.text()
      expect(inFlight).toMatchObject({ enabled: true, idle: 5000, interval: 1000, probes: 3 })
    } finally {
      diagnosticsChannel.unsubscribe('keepalive:http:socketCreated', onCreated)
      await dispatcher.close()
    }
  })
})

describe('socket limits', () => {
  it('maxRequestsPerSocket: 3 (jitter 0) → a new socket every 3 requests, on both engines', async () => {
    const server = await startHttpServer()
    const agent = createAgent(undefined, { maxRequestsPerSocket: 3, jitter: 0 })
    const dispatcher = createDispatcher(undefined, { maxRequestsPerSocket: 3, jitter: 0, undici })
    try {
      for (let i = 0; i < 9; i += 1) {
        expect((await get(agent, server.url)).status).toBe(200)
        const res = await undici.request(server.url, { dispatcher })
        await res.body.text()
      }
      expect(agent.stats).toMatchObject({
        socketsCreated: 3,
        socketsReused: 6,
        retired: 3,
        requestsFailed: 0,
      })
      expect(dispatcher.stats).toMatchObject({
        socketsCreated: 3,
        socketsReused: 6,
        retired: 3,
        requestsFailed: 0,
      })
    } finally {
      agent.destroy()
      await dispatcher.close()
    }
  })

  it('a pooled socket past its idle budget is not handed out when a busy event loop has not run its timer, on both engines', async () => {
    // Node's server sends `Keep-Alive: timeout=1`: the idle budget is under 1 s on both engines.
    const { url } = await startHttpServer(undefined, { keepAliveTimeout: 1000 })
    const agent = createAgent(undefined, { jitter: 0 })
    const dispatcher = createDispatcher(undefined, { jitter: 0, undici })
    // The loop is blocked past the budget (and past the server's 1 s, whose timer cannot fire either). node:http
    // would hand the expired socket to the next request (its timer has not run): the agent checks deadlines when a
    // request asks for a socket (pruneFree). undici keeps it out of the request by itself (measured here: nothing is
    // retried or failed on either engine).
    const blockLoop = () => {
      const until = performance.now() + 1100
      while (performance.now() < until) {}
    }
    try {
      expect((await get(agent, url)).status).toBe(200)
      await (await undici.request(url, { dispatcher })).body.text()
      await new Promise((resolve) => setImmediate(resolve)) // both sockets back in their pools
      expect([agent.stats.expiredIdle, dispatcher.stats.expiredIdle]).toEqual([0, 0])
      blockLoop()
      const second = get(agent, url)
      expect(agent.stats.expiredIdle).toBe(1)
      expect((await second).status).toBe(200)
      blockLoop()
      const res = await undici.request(url, { dispatcher })
      expect(res.statusCode).toBe(200)
      await res.body.text()
      // The agent's second socket went idle during the second block too (its own timer closed it afterwards).
      const common = { socketsCreated: 2, socketsReused: 0, requestsRetried: 0, requestsFailed: 0 }
      expect(agent.stats).toMatchObject({ ...common, expiredIdle: 2 })
      expect(dispatcher.stats).toMatchObject({ ...common, expiredIdle: 1 })
    } finally {
      agent.destroy()
      await dispatcher.close()
    }
  })

  it("a server's `Connection: close` is the server's close, not a retirement, on both engines", async () => {
    const { url } = await startHttpServer((_req, res) => {
      res.setHeader('connection', 'close')
      res.end('ok')
    })
    const agent = createAgent(undefined, { maxRequestsPerSocket: 3, jitter: 0 })
    const dispatcher = createDispatcher(undefined, { maxRequestsPerSocket: 3, jitter: 0, undici })
    try {
      for (let i = 0; i < 4; i += 1) {
        expect((await get(agent, url)).status).toBe(200)
        const res = await undici.request(url, { dispatcher })
        await res.body.text()
      }
      for (const stats of [agent.stats, dispatcher.stats]) {
        expect(stats).toMatchObject({
          socketsCreated: 4,
          socketsReused: 0,
          retired: 0,
          expiredIdle: 0,
          requestsFailed: 0,
        })
      }
    } finally {
      agent.destroy()
      await dispatcher.close()
    }
  })

  it('maxSocketAge: 300 ms (jitter 0) → sockets replaced while requests keep coming every 100 ms', async () => {
    const server = await startHttpServer()
    const agent = createAgent(undefined, { maxSocketAge: 300, jitter: 0 })
    const dispatcher = createDispatcher(undefined, { maxSocketAge: '300ms', jitter: 0, undici })
    try {
      for (let i = 0; i < 10; i += 1) {
        await get(agent, server.url)
        const res = await undici.request(server.url, { dispatcher })
        await res.body.text()
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      // 10 requests over ~1 s with a 300 ms life: at least 3 sockets, and fewer than one per request.
      expect(agent.stats.socketsCreated).toBeGreaterThanOrEqual(3)
      expect(agent.stats.socketsCreated).toBeLessThan(10)
      expect(dispatcher.stats.socketsCreated).toBeGreaterThanOrEqual(3)
      expect(dispatcher.stats.socketsCreated).toBeLessThan(10)
      // undici: only the age replaces a socket here (the server keeps them 5 s), so every socket but perhaps the last
      // was retired by us, between requests; nothing failed on either engine.
      expect(dispatcher.stats.retired).toBeGreaterThanOrEqual(dispatcher.stats.socketsCreated - 1)
      expect([agent.stats.requestsFailed, dispatcher.stats.requestsFailed]).toEqual([0, 0])
    } finally {
      agent.destroy()
      await dispatcher.close()
    }
  })

  it('maxSocketAge: 0 turns the age limit off', () => {
    expect(resolveOptions('test', undefined, { maxSocketAge: 0 }).socketLimits().maxAge).toBe(0)
    expect(createAgent(undefined, { maxSocketAge: 0 }).stats.socketsCreated).toBe(0)
  })

  it('jitter lowers each socket’s limits by at most its fraction', () => {
    const o = resolveOptions('test', undefined, {
      maxSocketAge: 1000,
      maxRequestsPerSocket: 100,
      jitter: 0.5,
    })
    for (let i = 0; i < 200; i += 1) {
      const { maxAge, maxRequests } = o.socketLimits()
      expect(maxAge).toBeGreaterThanOrEqual(500)
      expect(maxAge).toBeLessThanOrEqual(1000)
      expect(maxRequests).toBeGreaterThanOrEqual(50)
      expect(maxRequests).toBeLessThanOrEqual(100)
    }
  })
})

/** A throwaway self-signed certificate for localhost, made with the openssl CLI (Node cannot make X.509). */
function testCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'ka-http-cert-'))
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
      ]),
      { stdio: 'ignore' },
    )
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('createHttpsAgent', () => {
  it('an https.Agent with the same engine: TLS, TCP keepalive at connect, reuse, request limit, counters', async () => {
    const { key, cert } = testCertificate()
    const server = https.createServer({ key, cert }, (_req, res) => res.end('ok'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const stop = track('https server', async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
    const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/`
    const agent = createHttpsAgent(FAST, {
      maxRequestsPerSocket: 2,
      jitter: 0,
      ca: cert,
      servername: 'localhost',
    })
    try {
      expect(agent).toBeInstanceOf(https.Agent)
      const first = await get(agent, url)
      expect(first.status).toBe(200)
      expect((first.socket as unknown as { encrypted?: boolean }).encrypted).toBe(true)
      expect(first.inFlight).toMatchObject({ enabled: true, idle: 5000, interval: 1000, probes: 3 })
      for (let i = 0; i < 3; i += 1) expect((await get(agent, url)).status).toBe(200)
      // 4 requests, 2 per socket: 2 sockets, each reused once and retired at its limit.
      expect(agent.stats).toMatchObject({
        socketsCreated: 2,
        socketsReused: 2,
        retired: 2,
        requestsFailed: 0,
      })
      expect(agent.settings.tcp).toBeDefined()
    } finally {
      agent.destroy()
      await stop()
    }
  })
})

describe('idle budget', () => {
  it('the server’s configured timeout retires idle sockets a margin below it (node:http and undici)', async () => {
    const server = await startHttpServer()
    const agent = createAgent(undefined, { serverKeepAliveTimeout: 600, safetyMargin: 300 })
    const dispatcher = createDispatcher(undefined, { serverKeepAliveTimeout: 600, safetyMargin: 300, undici })
    try {
      await get(agent, server.url)
      await (await undici.request(server.url, { dispatcher })).body.text()
      // Budget 300 ms: still pooled at 150 ms, gone by 450 ms (timer tick and scheduling are the slack).
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(Object.keys(agent.freeSockets)).toHaveLength(1)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(Object.keys(agent.freeSockets)).toHaveLength(0)
      expect(agent.stats.expiredIdle).toBe(1)
      expect(dispatcher.stats.expiredIdle).toBe(1)
      expect(agent.settings.freeSocketTimeout).toBe(300)
    } finally {
      agent.destroy()
      await dispatcher.close()
    }
  })
})

describe('failures carry the facts', () => {
  it('a request to a closed port fails with the engine’s own error and fresh-socket facts', async () => {
    const server = await startHttpServer()
    const url = server.url
    await server.stop()
    const agent = createAgent()
    const dispatcher = createDispatcher(undefined, { undici })
    try {
      const nodeError = await get(agent, url).catch((error: unknown) => error)
      expect(nodeError).toMatchObject({ code: 'ECONNREFUSED' })
      expect(getReuseFacts(nodeError)).toMatchObject({
        engine: 'node:http',
        reusedSocket: false,
        notRetriedBecause: 'fresh socket',
      })
      const undiciError = await undici.request(url, { dispatcher }).catch((error: unknown) => error)
      expect(undiciError).toMatchObject({ code: 'ECONNREFUSED' })
      expect(getReuseFacts(undiciError)).toMatchObject({
        engine: 'undici',
        reusedSocket: false,
        notRetriedBecause: 'fresh socket',
      })
      expect([agent.stats.requestsFailed, dispatcher.stats.requestsFailed]).toEqual([1, 1])
    } finally {
      agent.destroy()
      await dispatcher.close()
    }
  })
})

describe('bad options', () => {
  it('throw KA_ERR_INVALID_ARGUMENT naming the option and the value', () => {
    const invalid = expect.objectContaining({ code: 'KA_ERR_INVALID_ARGUMENT' })
    expect(() => createAgent(undefined, { maxSocketAge: 'soon' })).toThrow(
      /createAgent: option "maxSocketAge" must be a duration .* got "soon"/,
    )
    expect(() => createAgent(undefined, { jitter: 2 })).toThrow(
      /option "jitter" must be a number from 0 to 0.5, got 2/,
    )
    expect(() => createAgent(undefined, { retry: 'yes' as never })).toThrow(invalid)
    expect(() => createAgent(undefined, { maxRequestsPerSocket: -1 })).toThrow(
      /"maxRequestsPerSocket" must be a non-negative integer/,
    )
    expect(() => createAgent(undefined, { path: 5 as never })).toThrow(/option "path" must be an object/)
    expect(() => createDispatcher(undefined, { serverKeepAliveTimeout: -5, undici })).toThrow(invalid)
    expect(() => createAgent({ probes: 0 })).toThrow(
      expect.objectContaining({ code: 'KA_ERR_INVALID_POLICY' }),
    )
  })

  it('an undici module without the parts needed throws KA_ERR_HTTP_UNDICI_UNSUPPORTED', () => {
    expect(() => createDispatcher(undefined, { undici: {} as never })).toThrow(UndiciUnsupportedError)
    expect(() => createDispatcher(undefined, { undici: {} as never })).toThrow(
      expect.objectContaining({ code: 'KA_ERR_HTTP_UNDICI_UNSUPPORTED' }),
    )
  })
})

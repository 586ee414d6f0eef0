/**
 * configureServer behind a load balancer, scaled down: a proxy in front of a node:http server pools its upstream
 * connections and drops idle ones at P (an ALB's 60 s, here 2 s), ignoring the backend's Keep-Alive hint, and answers
 * 502 when an upstream connection fails under a request — what an ALB does. A backend that closes idle connections
 * before P (Node's default 5 s + 1 s buffer against the ALB's 60 s; here 300 ms + 1 s, 15 ms away through the delay
 * proxy) makes the proxy reuse connections the backend is closing: 502s. The same backend after
 * configureServer(server, policy, { behind: { idleTimeout: P } }) gives none.
 */
import http from 'node:http'
import { startDelayProxy, startHttpServer } from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import { configureServer } from '../src/index.js'
import type { RaceResult } from './race-clients.js'
import { raceNode } from './race-clients.js'

const P = 2000
const BACKEND_IDLE = 300
/** Node (20.20+, 22.19+, 24.6+) keeps an idle socket keepAliveTimeout + 1 s (its keepAliveTimeoutBuffer) before closing. */
const BACKEND_CLOSES_AT = BACKEND_IDLE + 1000

/** An ALB keeps an upstream connection idle up to its own timeout and ignores the backend's Keep-Alive hint. */
class BalancerAgent extends http.Agent {
  override keepSocketAlive(socket: import('node:stream').Duplex): boolean {
    const s = socket as import('node:net').Socket
    s.unref()
    s.setTimeout(P)
    return true
  }
}

/** An ALB-like proxy: upstream keep-alive pool with idle timeout P; upstream failure → 502. */
async function startBalancer(target: { host: string; port: number }) {
  // One upstream pool per client chain (x-request-id is <prefix>-<chain>-<n>): each upstream connection then sits idle
  // exactly one client gap, as a balancer's connection does for a client at that rate. A shared pool would hand the
  // most recently used connection to the next request and hide the race.
  const pools = new Map<string, BalancerAgent>()
  const upstream = {
    destroy: () => {
      for (const agent of pools.values()) agent.destroy()
    },
  }
  let bad = 0
  const front = await startHttpServer((req, res) => {
    const chain = String(req.headers['x-request-id']).split('-').slice(0, 2).join('-')
    let agent = pools.get(chain)
    if (!agent) {
      agent = new BalancerAgent({ keepAlive: true })
      pools.set(chain, agent)
    }
    const out = http.request(
      {
        host: target.host,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    out.on('error', () => {
      bad += 1
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(out)
  })
  return { front, upstream, badGateways: () => bad }
}

async function runThrough(
  configure: boolean,
): Promise<{ result: RaceResult; bad: number; config?: ReturnType<typeof configureServer> }> {
  const backend = await startHttpServer()
  backend.server.keepAliveTimeout = BACKEND_IDLE
  const config = configure
    ? configureServer(backend.server, 'balanced', { behind: { idleTimeout: P } })
    : undefined
  // 15 ms each way between balancer and backend: the window in which a reuse meets the backend's close.
  const link = await startDelayProxy({
    target: { host: backend.host, port: backend.port },
    oneWayDelayMs: 15,
  })
  const lb = await startBalancer(link)
  const client = new http.Agent({ keepAlive: true })
  try {
    const result = await raceNode(client, {
      host: lb.front.host,
      port: lb.front.port,
      chains: 40,
      requestsPerChain: 5,
      minGapMs: BACKEND_CLOSES_AT - 40,
      maxGapMs: BACKEND_CLOSES_AT + 20,
      idPrefix: configure ? 'configured' : 'default',
    })
    return { result, bad: lb.badGateways(), ...(config ? { config } : {}) }
  } finally {
    client.destroy()
    lb.upstream.destroy()
  }
}

describe('configureServer behind an idle-closing load balancer (60 s scaled to 2 s)', () => {
  it('a backend closing idle connections before the balancer gives 502s; configured, none', async () => {
    const before = await runThrough(false)
    const after = await runThrough(true)
    console.log(
      `[configureServer] backend idle ${BACKEND_IDLE} ms behind a ${P} ms balancer: ${before.bad} upstream resets (502) of 200;` +
        ` after configureServer: ${after.bad} (keepAliveTimeout ${after.config?.keepAliveTimeout} ms)`,
    )
    // The unconfigured run shows the race is real here, so the configured run's zero means something.
    expect(before.bad).toBeGreaterThan(0)
    expect(after.bad).toBe(0)
    expect(after.result.failed).toBe(0)
    expect(after.config).toMatchObject({ keepAliveTimeout: P + 5000, headersTimeout: P + 6000 })
    expect(after.config?.warnings[0]).toMatch(
      /keepAliveTimeout was 300 ms, not above the 2000 ms idle timeout of the load balancer/,
    )
  })

  it('with nothing known: above an ALB’s 60 s, headersTimeout above it, requestTimeout not below; a warning says so', async () => {
    const server = http.createServer()
    const config = configureServer(server)
    expect(config).toMatchObject({
      keepAliveTimeout: 65_000,
      headersTimeout: 66_000,
      requestTimeout: 300_000,
    })
    expect(server.keepAliveTimeout).toBe(65_000)
    expect(server.headersTimeout).toBe(66_000)
    expect(config.warnings.join('\n')).toMatch(/path's idle timeout is unknown/)
  })

  it('warns about a server.timeout that closes idle connections first, and keeps requestTimeout 0', () => {
    const server = http.createServer()
    server.timeout = 10_000
    server.requestTimeout = 0
    const config = configureServer(server, 'fast', { behind: { idleTimeout: '60s' } })
    expect(config.warnings.join('\n')).toMatch(/server\.timeout is 10000 ms, below keepAliveTimeout 65000 ms/)
    expect(server.requestTimeout).toBe(0)
  })

  it('bad input throws KA_ERR_INVALID_ARGUMENT naming the option', () => {
    const server = http.createServer()
    expect(() => configureServer({} as http.Server)).toThrow(
      expect.objectContaining({ code: 'KA_ERR_INVALID_ARGUMENT' }),
    )
    expect(() => configureServer(server, undefined, { behind: { idleTimeout: 'soon' } })).toThrow(
      /option "behind.idleTimeout" must be a duration .* got "soon"/,
    )
    expect(() => configureServer(server, { idle: -1 })).toThrow(
      expect.objectContaining({ code: 'KA_ERR_INVALID_POLICY' }),
    )
  })
})

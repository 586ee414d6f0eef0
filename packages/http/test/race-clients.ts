/**
 * Drives the race: many parallel chains of requests, each waiting a random gap around the server's idle timeout
 * before its next request, so requests keep landing on sockets the server is closing at that moment. One runner
 * for node:http agents and one for undici dispatchers; both count outcomes by error code.
 */
import http from 'node:http'
import type { Dispatcher } from 'undici'

export interface RaceOptions {
  /** host:port of the server (usually the delay proxy in front of it). */
  host: string
  port: number
  chains: number
  requestsPerChain: number
  /** Each gap is drawn uniformly from [minGapMs, maxGapMs]. */
  minGapMs: number
  maxGapMs: number
  method?: string
  /** Prefix of the x-request-id header, unique per run. */
  idPrefix: string
  headers?: Record<string, string>
}

export interface RaceResult {
  ok: number
  failed: number
  /** Failures by error code (or message when there is no code). */
  errors: Record<string, number>
  /** The errors themselves (first 20), for the facts attached to them. */
  samples: unknown[]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function race(options: RaceOptions, send: (id: string) => Promise<void>): Promise<RaceResult> {
  const result: RaceResult = { ok: 0, failed: 0, errors: {}, samples: [] }
  const chain = async (c: number): Promise<void> => {
    // Chains start together (within 20 ms) and so move in waves: each wave needs one socket per chain, and each socket
    // then sits idle about one gap, right around the server's close. Spread over a whole gap, lifo pools would hand
    // the few most recently used sockets round and rarely meet the race.
    await sleep(Math.random() * 20)
    for (let i = 0; i < options.requestsPerChain; i += 1) {
      const id = `${options.idPrefix}-${c}-${i}`
      try {
        await send(id)
        result.ok += 1
      } catch (error) {
        result.failed += 1
        const code = String((error as { code?: unknown }).code ?? (error as Error).message)
        result.errors[code] = (result.errors[code] ?? 0) + 1
        if (result.samples.length < 20) result.samples.push(error)
      }
      await sleep(options.minGapMs + Math.random() * (options.maxGapMs - options.minGapMs))
    }
  }
  await Promise.all(Array.from({ length: options.chains }, (_, c) => chain(c)))
  return result
}

/** The race through a node:http Agent (ours, agentkeepalive's, or Node's global one). */
export function raceNode(agent: http.Agent, options: RaceOptions): Promise<RaceResult> {
  const method = options.method ?? 'GET'
  const body = method === 'GET' || method === 'HEAD' ? undefined : 'payload'
  return race(
    options,
    (id) =>
      new Promise<void>((resolve, reject) => {
        const req = http.request(
          {
            host: options.host,
            port: options.port,
            path: '/',
            method,
            agent,
            headers: {
              'x-request-id': id,
              ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }),
              ...options.headers,
            },
          },
          (res) => {
            res.on('error', reject)
            res.resume()
            res.on('end', () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
            )
          },
        )
        req.on('error', reject)
        req.end(body)
      }),
  )
}

/** The race through an undici Dispatcher (ours or a plain Agent), with undici's own `request`. */
export function raceUndici(
  request: typeof import('undici').request,
  dispatcher: Dispatcher,
  options: RaceOptions,
): Promise<RaceResult> {
  const method = (options.method ?? 'GET') as Dispatcher.HttpMethod
  const body = method === 'GET' || method === 'HEAD' ? undefined : 'payload'
  return race(options, async (id) => {
    const res = await request(`http://${options.host}:${options.port}/`, {
      dispatcher,
      method,
      headers: { 'x-request-id': id, ...options.headers },
      ...(body === undefined ? {} : { body }),
    })
    await res.body.text()
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
  })
}

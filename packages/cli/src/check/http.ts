/**
 * `check http(s)://host[:port][/path]`: sends a few GETs through a `createAgent(policy)` (or `createHttpsAgent`) Agent,
 * one after another so the pool reuses its socket, and reports the server's `Keep-Alive` header, how long the agent
 * keeps a pooled socket idle given that hint (core's `httpClientSettings`), whether the socket was reused, the TCP
 * keepalive the kernel holds on it (@keepalive/tcp's read-back), and the time to each response head. Credentials in
 * the URL are sent as Basic auth by node:http and never printed.
 */
import http from 'node:http'
import https from 'node:https'
import type net from 'node:net'
import { performance } from 'node:perf_hooks'
import { httpClientSettings, parseKeepAliveHeader } from '@keepalive/core'
import { createAgent, createHttpsAgent } from '@keepalive/http'
import { readTcpKeepalive } from '@keepalive/tcp'
import { CliCheckFailedError } from '../errors.js'
import { type CheckOptions, type CheckResult, roundTrips } from './result.js'
import { connectFailed } from './tcp.js'

interface Response {
  readonly status: number
  readonly keepAlive: string | undefined
  readonly connection: string | undefined
  readonly took: number
  readonly kernel: ReturnType<typeof readTcpKeepalive>
}

export async function checkHttp(display: string, url: URL, options: CheckOptions): Promise<CheckResult> {
  const tls = url.protocol === 'https:'
  const agent = tls ? createHttpsAgent(options.policy) : createAgent(options.policy)
  const get = (): Promise<Response> =>
    new Promise((resolve, reject) => {
      const started = performance.now()
      const request = (tls ? https : http).get(url, { agent, timeout: options.timeout }, (response) => {
        const took = performance.now() - started
        // Read while the socket is ours: after 'end' it goes back to the pool and the response lets go of it.
        const socket = response.socket as net.Socket
        const kernel = socket.destroyed ? null : readTcpKeepalive(socket)
        response.resume()
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            keepAlive: headerText(response.headers['keep-alive']),
            connection: headerText(response.headers.connection),
            took,
            kernel,
          }),
        )
        response.on('error', reject)
      })
      request.on('timeout', () =>
        request.destroy(new CliCheckFailedError(`${display}: no response within ${options.timeout} ms`)),
      )
      request.on('error', (error) =>
        reject(error instanceof CliCheckFailedError ? error : connectFailed(display, error)),
      )
    })
  try {
    const responses: Response[] = []
    for (let i = 0; i < options.samples; i++) responses.push(await get())
    const last = responses[responses.length - 1]!
    const kernel = last.kernel
    const asked = httpClientSettings(options.policy)
    const hinted = httpClientSettings(
      options.policy,
      last.keepAlive === undefined ? {} : { keepAliveHint: last.keepAlive },
    )
    const hint = parseKeepAliveHeader(last.keepAlive)
    const stats = agent.stats
    return {
      url: display,
      protocol: 'http',
      policy: options.policy,
      asked: {
        'pooled socket idle at most, ms': asked.freeSocketTimeout,
        TCP_KEEPIDLE: asked.tcp.idleSeconds,
        TCP_KEEPINTVL: asked.tcp.intervalSeconds,
        TCP_KEEPCNT: asked.tcp.probes,
        TCP_USER_TIMEOUT: asked.tcp.userTimeoutMs,
      },
      applied: {
        status: last.status,
        'Keep-Alive header': last.keepAlive ?? null,
        'Connection header': last.connection ?? null,
        'server keeps idle sockets, ms': hint?.timeoutMs ?? null,
        'pooled socket idle at most, ms': hinted.reuseSockets ? hinted.freeSocketTimeout : 0,
        'limited by': hinted.limitedBy,
        'sockets opened': stats.socketsCreated,
        'requests on a reused socket': stats.socketsReused,
        TCP_KEEPIDLE: kernel === null ? null : kernel.idle / 1000,
        TCP_KEEPINTVL: kernel === null ? null : kernel.interval / 1000,
        TCP_KEEPCNT: kernel?.probes ?? null,
        TCP_USER_TIMEOUT: kernel?.userTimeout ?? null,
        'read back from the kernel': kernel !== null,
      },
      roundTrips: roundTrips(
        'request → response head',
        responses.map((r) => r.took),
      ),
      warnings: [...hinted.warnings],
    }
  } finally {
    agent.destroy()
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}

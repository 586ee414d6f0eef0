/**
 * `check tcp://host:port`: connects with @keepalive/tcp, reads back what the kernel holds (SO_KEEPALIVE,
 * TCP_KEEPIDLE/INTVL/CNT, TCP_USER_TIMEOUT) against what the policy asked, and times a few TCP handshakes
 * (SYN → SYN-ACK, the round trip a keepalive probe and its ACK take too).
 */
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { tcpSettings } from '@keepalive/core'
import { connect, type TcpKeepaliveReport } from '@keepalive/tcp'
import { CliCheckFailedError } from '../errors.js'
import { type CheckOptions, type CheckResult, roundTrips } from './result.js'

export interface HostPort {
  readonly host: string
  readonly port: number
}

export async function checkTcp(url: string, target: HostPort, options: CheckOptions): Promise<CheckResult> {
  const asked = tcpSettings(options.policy)
  const socket = connect({
    host: target.host,
    port: target.port,
    keepalive: options.policy,
    timeout: options.timeout,
  })
  let report: TcpKeepaliveReport | null
  try {
    report = await new Promise<TcpKeepaliveReport | null>((resolve, reject) => {
      socket.once('keepalive', resolve)
      socket.once('error', (error) => reject(connectFailed(url, error)))
      socket.once('timeout', () =>
        reject(new CliCheckFailedError(`${url}: no connection within ${options.timeout} ms`)),
      )
    })
  } finally {
    socket.destroy()
  }
  if (report === null)
    throw new CliCheckFailedError(`${url}: the connection closed before keepalive could be applied`)

  const samples: number[] = []
  for (let i = 0; i < options.samples; i++) samples.push(await handshake(url, target, options.timeout))
  return {
    url,
    protocol: 'tcp',
    policy: options.policy,
    asked: {
      SO_KEEPALIVE: true,
      TCP_KEEPIDLE: asked.idleSeconds,
      TCP_KEEPINTVL: asked.intervalSeconds,
      TCP_KEEPCNT: asked.probes,
      TCP_USER_TIMEOUT: asked.userTimeoutMs,
    },
    applied: {
      SO_KEEPALIVE: report.enabled,
      TCP_KEEPIDLE: report.idle / 1000,
      TCP_KEEPINTVL: report.interval / 1000,
      TCP_KEEPCNT: report.probes,
      TCP_USER_TIMEOUT: report.userTimeout,
      mechanism: report.mechanism,
      'read back from the kernel': report.verified,
    },
    roundTrips: roundTrips('TCP handshake (SYN → SYN-ACK)', samples),
    warnings: [...asked.warnings, ...report.warnings],
  }
}

/** One connect, timed from the SYN to the established socket, then closed. */
function handshake(url: string, target: HostPort, timeout: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const socket = net.connect({ host: target.host, port: target.port, timeout })
    socket.once('connect', () => {
      const took = performance.now() - started
      socket.destroy()
      resolve(took)
    })
    socket.once('timeout', () => {
      socket.destroy()
      reject(new CliCheckFailedError(`${url}: no connection within ${timeout} ms`))
    })
    socket.once('error', (error) => reject(connectFailed(url, error)))
  })
}

export function connectFailed(url: string, error: unknown): CliCheckFailedError {
  const e = error as NodeJS.ErrnoException
  const what = e?.code
    ? `${e.code}${e.message && !e.message.includes(e.code) ? ` ${e.message}` : ''}`
    : String(e?.message ?? error)
  return new CliCheckFailedError(`cannot connect to ${url}: ${what}`, { cause: error })
}

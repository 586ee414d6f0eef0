/** The report applyTcpKeepalive returns: what the kernel holds, how it got there, and every difference from what was asked. */
import type { Socket } from 'node:net'
import type { TcpSettings } from '@keepalive/core'
import type { TcpKeepaliveMechanism } from './apply-options.js'
import type { TcpKeepaliveValues } from './read.js'

/** What the kernel holds after applying (ms / count), how it got there, and everything that did not go as asked. */
export interface TcpKeepaliveReport extends TcpKeepaliveValues {
  readonly mechanism: TcpKeepaliveMechanism
  /** True when the values were read back from the kernel; false when they are what Node was asked to set. */
  readonly verified: boolean
  /**
   * True when the socket was not connected yet: nothing is applied, the values are the ones that will be, and
   * `ready` resolves with the real report at 'connect' (or null if the socket closes first or turns out not to be TCP).
   */
  readonly pending: boolean
  /** Everything not applied as asked. Also published on `keepalive:tcp:warning`. Empty when all is as asked. */
  readonly warnings: readonly string[]
  /** What the policy asks of TCP (core's `tcpSettings`). */
  readonly requested: TcpSettings
  /** The applied report: this report when not pending. Never rejects. */
  readonly ready: Promise<TcpKeepaliveReport | null>
}

const reports = new WeakMap<Socket, TcpKeepaliveReport>()

/** The last report applyTcpKeepalive produced for this socket (the applied one, once a pending socket connects). */
export function getTcpKeepaliveReport(socket: Socket): TcpKeepaliveReport | undefined {
  return reports.get(socket)
}

export function rememberReport(socket: Socket, report: TcpKeepaliveReport): void {
  reports.set(socket, report)
}

/**
 * Adds `ready` as a non-enumerable property, so that logging or JSON.stringify of a report shows the values, not a
 * Promise. Without `ready`, the report is already applied and `ready` resolves with the report itself.
 */
export function withReady(
  fields: Omit<TcpKeepaliveReport, 'ready'>,
  ready?: Promise<TcpKeepaliveReport | null>,
): TcpKeepaliveReport {
  const report = fields as TcpKeepaliveReport
  Object.defineProperty(report, 'ready', { value: ready ?? Promise.resolve(report), enumerable: false })
  return report
}

/** Without read-back: what the mechanism was asked to set, and libuv's fixed values for what it cannot. */
export function expectedValues(
  mechanism: TcpKeepaliveMechanism,
  settings: TcpSettings,
  userTimeoutSet: boolean,
): TcpKeepaliveValues {
  const partial = mechanism === 'partial'
  return {
    enabled: true,
    idle: settings.idleSeconds * 1000,
    interval: partial ? 1000 : settings.intervalSeconds * 1000,
    probes: partial ? 10 : settings.probes,
    userTimeout: userTimeoutSet ? settings.userTimeoutMs : 0,
  }
}

/**
 * Anything the kernel holds that differs from what was set is a warning: the report never hides a difference.
 * `userTimeout`: the user timeout (ms) the kernel should hold, or undefined when it was not set.
 */
export function compareWithKernel(
  values: TcpKeepaliveValues,
  settings: TcpSettings,
  mechanism: TcpKeepaliveMechanism,
  userTimeout: number | undefined,
  warnings: string[],
): void {
  const differs = (label: string, held: number, asked: number, unit: string): void => {
    if (held !== asked) warnings.push(`the kernel holds ${label} ${held}${unit}, asked ${asked}${unit}`)
  }
  if (!values.enabled) warnings.push('the kernel holds SO_KEEPALIVE off')
  differs('idle', values.idle, settings.idleSeconds * 1000, ' ms')
  if (mechanism === 'partial') return
  differs('interval', values.interval, settings.intervalSeconds * 1000, ' ms')
  differs('probes', values.probes, settings.probes, '')
  if (userTimeout !== undefined) differs('user timeout', values.userTimeout, userTimeout, ' ms')
}

/**
 * What applying tells: the report applyTcpKeepalive returns (what the kernel holds, how it got there, every
 * difference from what was asked) and the `keepalive:tcp:*` diagnostics channels that publish it. Invariant: the
 * report never hides a difference (each one is a warning), and a message is built only when a channel has subscribers.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import type { TcpSettings } from '@keepalive/core'
import { debugChannels } from '@keepalive/core/internal'
import type { TcpKeepaliveValues } from './kernel.js'
import type { MechanismResult, TcpKeepaliveMechanism } from './mechanisms.js'

export const tcpChannels = {
  /** `keepalive:tcp:applied` — keepalive was applied to a connected socket: `{ socket, report }`. */
  applied: diagnosticsChannel.channel('keepalive:tcp:applied'),
  /** `keepalive:tcp:warning` — something was not applied as asked: `{ socket, warning }`, one per warning. */
  warning: diagnosticsChannel.channel('keepalive:tcp:warning'),
} as const

// NODE_DEBUG=keepalive prints these too, one line each, as every package's (core's debugChannels).
debugChannels(tcpChannels)

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

/** The report of a socket that is not connected yet: the values that will be applied, and `ready`. */
export function pendingReport(
  socket: Socket,
  settings: TcpSettings,
  mechanism: TcpKeepaliveMechanism,
  userTimeout: boolean,
  ready: Promise<TcpKeepaliveReport | null>,
): TcpKeepaliveReport {
  const report = withReady(
    {
      enabled: false,
      idle: settings.idleSeconds * 1000,
      interval: settings.intervalSeconds * 1000,
      probes: settings.probes,
      userTimeout: userTimeout ? settings.userTimeoutMs : 0,
      mechanism,
      verified: false,
      pending: true,
      warnings: settings.warnings,
      requested: settings,
    },
    ready,
  )
  reports.set(socket, report)
  return report
}

/** The report of an applied socket, remembered for it and published. `warnings` gets every difference. */
export function appliedReport(
  socket: Socket,
  settings: TcpSettings,
  result: MechanismResult,
  warnings: string[],
): TcpKeepaliveReport {
  const { mechanism } = result
  const verified = typeof result.values !== 'string'
  let values: TcpKeepaliveValues
  if (typeof result.values !== 'string') {
    values = result.values
    compareWithKernel(values, settings, mechanism, result.userTimeout, warnings)
  } else {
    // Without read-back: what the mechanism was asked to set, and libuv's fixed values for what it cannot.
    const partial = mechanism === 'partial'
    values = {
      enabled: true,
      idle: settings.idleSeconds * 1000,
      interval: partial ? 1000 : settings.intervalSeconds * 1000,
      probes: partial ? 10 : settings.probes,
      userTimeout: result.userTimeout === undefined ? 0 : settings.userTimeoutMs,
    }
    warnings.push(
      `values not read back from the kernel (${result.values}): they are what Node was asked to set`,
    )
  }
  const report = withReady({
    enabled: values.enabled,
    idle: values.idle,
    interval: values.interval,
    probes: values.probes,
    userTimeout: values.userTimeout,
    mechanism,
    verified,
    pending: false,
    warnings,
    requested: settings,
  })
  reports.set(socket, report)
  if (tcpChannels.warning.hasSubscribers) {
    for (const warning of report.warnings) tcpChannels.warning.publish({ socket, warning })
  }
  if (tcpChannels.applied.hasSubscribers) tcpChannels.applied.publish({ socket, report })
  return report
}

/** Publishes a warning that belongs to no report. */
export function warn(socket: Socket, warning: string): void {
  if (tcpChannels.warning.hasSubscribers) tcpChannels.warning.publish({ socket, warning })
}

/**
 * Adds `ready` as a non-enumerable property, so that logging or JSON.stringify of a report shows the values, not a
 * Promise. Without `ready`, the report is already applied and `ready` resolves with the report itself.
 */
function withReady(
  fields: Omit<TcpKeepaliveReport, 'ready'>,
  ready?: Promise<TcpKeepaliveReport | null>,
): TcpKeepaliveReport {
  const report = fields as TcpKeepaliveReport
  Object.defineProperty(report, 'ready', { value: ready ?? Promise.resolve(report), enumerable: false })
  return report
}

/** Anything the kernel holds that differs from what was set is a warning. `userTimeout`: ms, undefined if not set. */
function compareWithKernel(
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

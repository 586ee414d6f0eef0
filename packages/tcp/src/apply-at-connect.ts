/**
 * A socket that is not connected yet: return a pending report now (the values that will be applied), and apply at the
 * TCP 'connect'. Its `ready` resolves with the applied report, or null if the socket closes first.
 */
import type { Socket } from 'node:net'
import type { TcpSettings } from '@keepalive/core'
import { applyToConnected } from './apply-connected.js'
import type { InternalApplyOptions } from './apply-options.js'
import { warn } from './diagnostics.js'
import { predictMechanism } from './mechanism.js'
import { rememberReport, type TcpKeepaliveReport, withReady } from './report.js'
import { resolveTcp } from './socket-fd.js'

export function applyAtConnect(
  socket: Socket,
  emitter: Socket,
  settings: TcpSettings,
  options: InternalApplyOptions,
): TcpKeepaliveReport {
  let resolveReady!: (report: TcpKeepaliveReport | null) => void
  const ready = new Promise<TcpKeepaliveReport | null>((resolve) => {
    resolveReady = resolve
  })
  const onConnect = (): void => {
    emitter.off('close', onClose)
    let report: TcpKeepaliveReport | null = null
    try {
      report = applyToConnected(socket, resolveTcp(socket), settings, options)
    } catch (error) {
      // A throw inside a 'connect' listener would crash the process: report it instead.
      warn(socket, `keepalive not applied at connect: ${(error as Error).message}`)
    }
    options.onApplied?.(report)
    resolveReady(report)
  }
  const onClose = (): void => {
    emitter.off('connect', onConnect)
    options.onApplied?.(null)
    resolveReady(null)
  }
  emitter.once('connect', onConnect)
  emitter.once('close', onClose)
  const report = withReady(
    {
      enabled: false,
      idle: settings.idleSeconds * 1000,
      interval: settings.intervalSeconds * 1000,
      probes: settings.probes,
      userTimeout: options.userTimeout === false ? 0 : settings.userTimeoutMs,
      mechanism: predictMechanism(options),
      verified: false,
      pending: true,
      warnings: settings.warnings,
      requested: settings,
    },
    ready,
  )
  rememberReport(socket, report)
  return report
}

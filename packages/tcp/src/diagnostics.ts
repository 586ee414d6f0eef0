/** Publishing on core's `keepalive:tcp:*` channels: every warning, and every applied report. */
import type { Socket } from 'node:net'
import { channels } from '@keepalive/core/internal'
import type { TcpKeepaliveReport } from './report.js'

/** Publishes a warning that belongs to no report. */
export function warn(socket: Socket, warning: string): void {
  if (channels.tcpWarning.hasSubscribers) channels.tcpWarning.publish({ socket, warning })
}

/** Publishes a report's warnings, then the report. */
export function publishReport(socket: Socket, report: TcpKeepaliveReport): void {
  if (channels.tcpWarning.hasSubscribers) {
    for (const warning of report.warnings) channels.tcpWarning.publish({ socket, warning })
  }
  if (channels.tcpApplied.hasSubscribers) channels.tcpApplied.publish({ socket, report })
}

/**
 * applyTcpKeepalive: idle, interval, count and user timeout on one socket, by the best mechanism this Node and
 * platform have, read back from the kernel. Runs once per socket, at connect or accept; nothing is added to the
 * data path (no 'data' listener, no wrapped write).
 *
 * The parts: policy-settings (policy → core's tcpSettings), mechanism (which way to set), native-keepalive /
 * ffi-keepalive / partial-keepalive (the three ways), apply-connected (set, read back, compare), apply-at-connect
 * (sockets not connected yet), report and diagnostics (what the caller and the channels see).
 */
import type { Socket } from 'node:net'
import type { PolicyLike, TcpSettings } from '@keepalive/core'
import { applyAtConnect } from './apply-at-connect.js'
import { applyToConnected } from './apply-connected.js'
import type { ApplyTcpKeepaliveOptions, InternalApplyOptions } from './apply-options.js'
import { assertForcedMechanismAvailable } from './mechanism.js'
import { settingsFor } from './policy-settings.js'
import type { TcpKeepaliveReport } from './report.js'
import { resolveTcp } from './socket-fd.js'

/**
 * Applies a keepalive policy to a TCP socket (net.Socket or tls.TLSSocket; client, accepted or TLS) and returns what the
 * kernel holds. Before connect, it applies at 'connect': the returned report is `pending`, its `ready` promise gives
 * the real one. Throws InvalidPolicyError, TcpNotTcpError, TcpSocketClosedError, or TcpUnsupportedError (a forced
 * mechanism that is not available). A failing setsockopt is a warning and a fallback, never a throw.
 */
export function applyTcpKeepalive(
  socket: Socket,
  policy?: PolicyLike,
  options?: ApplyTcpKeepaliveOptions,
): TcpKeepaliveReport {
  return applySettings(socket, settingsFor(policy), options ?? {})
}

/** applyTcpKeepalive with the settings already computed (also the seam for tests with hand-made numbers). */
export function applySettings(
  socket: Socket,
  settings: TcpSettings,
  options: InternalApplyOptions,
): TcpKeepaliveReport {
  const target = resolveTcp(socket)
  assertForcedMechanismAvailable(options)
  if (target.state === 'pending') return applyAtConnect(socket, target.emitter, settings, options)
  const report = applyToConnected(socket, target, settings, options)
  options.onApplied?.(report)
  return report
}

/** The last resort: what Node's two-argument setKeepAlive can do (idle only), and the warnings listing what is missing. */
import type { Socket } from 'node:net'
import type { TcpSettings } from '@keepalive/core'
import type { ApplyTcpKeepaliveOptions } from './apply-options.js'
import { whyNoFfi } from './mechanism.js'

/** What old Node can do: idle only. libuv (1.35+) then forces interval 1 s and 10 probes. */
export function setPartial(socket: Socket, settings: TcpSettings): void {
  socket.setKeepAlive(true, settings.idleSeconds * 1000)
}

/** What happens without a user timeout: the end of every warning that says it is not set. */
export const WITHOUT_USER_TIMEOUT =
  'a peer that vanishes while sent data is unacknowledged is detected only when retransmissions give up (~15 min on Linux)'

export function partialWarnings(options: ApplyTcpKeepaliveOptions, fd: number): string[] {
  const why = options.mechanism === 'partial' ? 'forced by the mechanism option' : whyNoFfi(options, fd)
  return [
    `partial: only the idle time was set, with Node's setKeepAlive (${why})`,
    'TCP_KEEPINTVL not set: Node/libuv uses 1 s',
    'TCP_KEEPCNT not set: Node/libuv uses 10 probes',
    ...(options.userTimeout === false ? [] : [`TCP_USER_TIMEOUT not set: ${WITHOUT_USER_TIMEOUT}`]),
  ]
}

import type { Undo } from './cleanup.js'
import { track } from './cleanup.js'
import { processTree, signalAndWait } from './process-state.js'

/**
 * SIGSTOP `pid` (with `tree`, its descendants too): the kernel keeps ACKing and keepalive probes are answered,
 * but the application reads and answers nothing. Resolves once the kernel shows it stopped; the undo (SIGCONT) is
 * also registered for cleanup, so nothing stays frozen after a failed test.
 */
export async function freezeProcess(pid: number, options: { tree?: boolean } = {}): Promise<Undo> {
  const pids = options.tree ? processTree(pid) : [pid]
  for (const p of pids) await signalAndWait(p, 'SIGSTOP')
  return track(`thaw pid ${pid}`, async () => {
    for (const p of pids) await signalAndWait(p, 'SIGCONT').catch(() => {})
  })
}

/**
 * SIGKILL `pid`: the kernel closes its sockets — a FIN where nothing was unread, an RST where data was waiting —
 * so the client sees 'end'/'close' at once and ECONNRESET or EPIPE on its next write. For an RST on every
 * connection regardless, use an in-process peer's crash() (socket.resetAndDestroy).
 */
export function crashProcess(pid: number): void {
  process.kill(pid, 'SIGKILL')
}

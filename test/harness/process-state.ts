import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

/** The one-letter state of a process from /proc (R, S, T for stopped, Z…), or undefined when it is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.charAt(stat.lastIndexOf(')') + 2)
  } catch {
    return undefined
  }
}

/**
 * Sends SIGSTOP or SIGCONT and waits until the kernel shows the new state, so that a test starts measuring only
 * once the process really is frozen (or running again).
 */
export async function signalAndWait(
  pid: number,
  signal: 'SIGSTOP' | 'SIGCONT',
  timeoutMs = 2000,
): Promise<void> {
  process.kill(pid, signal)
  const wanted = (state: string | undefined): boolean =>
    state === undefined ||
    (signal === 'SIGSTOP' ? state === 'T' || state === 't' : state !== 'T' && state !== 't')
  const deadline = performance.now() + timeoutMs
  while (!wanted(processState(pid))) {
    if (performance.now() > deadline) throw new Error(`pid ${pid} did not reach the state after ${signal}`)
    await sleep(2)
  }
}

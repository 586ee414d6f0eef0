import { readdirSync, readFileSync } from 'node:fs'
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

/** `root` and all its descendants (from the parent pids in /proc), root first. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      const list = children.get(ppid) ?? []
      list.push(Number(entry))
      children.set(ppid, list)
    } catch {
      // exited while we looked
    }
  }
  const tree: number[] = []
  const queue = [root]
  while (queue.length > 0) {
    const pid = queue.shift() as number
    tree.push(pid)
    queue.push(...(children.get(pid) ?? []))
  }
  return tree
}

import { setTimeout as sleep } from 'node:timers/promises'
import { registerCleanup } from './cleanup.js'
import { listHarnessNamespaces, namespaceOwner } from './netns.js'
import { listProcessRecords, recordIsAlive } from './state.js'

/**
 * Handle types whose count must come back to where it was: listeners, sockets, timers, child processes. Other
 * entries of `process.getActiveResourcesInfo()` belong to the runtime or to vitest itself (its IPC pipe, TTYs,
 * file system requests in flight) and are ignored.
 */
export const TRACKED_RESOURCES = [
  'TCPServerWrap',
  'TCPSocketWrap',
  'TCPWrap',
  'PipeServerWrap',
  'UDPWrap',
  'Timeout',
  'ProcessWrap',
] as const

export interface ResourceSnapshot {
  /** Count per tracked handle type. */
  counts: Record<string, number>
  /** `ka-` namespaces created by this process. */
  namespaces: string[]
  /** pids of live peer/fixture processes started by this process. */
  processes: number[]
}

function countResources(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const name of TRACKED_RESOURCES) counts[name] = 0
  for (const name of process.getActiveResourcesInfo()) {
    if (name in counts) counts[name] = (counts[name] ?? 0) + 1
  }
  return counts
}

/** Namespaces created by this process that still exist. */
export function ownNamespaces(): string[] {
  return listHarnessNamespaces().filter((ns) => namespaceOwner(ns) === process.pid)
}

/** Live processes that this process started through the harness. */
export function ownProcesses(): number[] {
  return listProcessRecords()
    .filter((r) => r.owner === process.pid && recordIsAlive(r))
    .map((r) => r.pid)
}

export function snapshotResources(): ResourceSnapshot {
  return { counts: countResources(), namespaces: ownNamespaces(), processes: ownProcesses() }
}

/** What grew between `before` and now, as human lines (empty when nothing leaked). */
export function diffResources(
  before: ResourceSnapshot,
  after: ResourceSnapshot = snapshotResources(),
): string[] {
  const problems: string[] = []
  for (const [name, count] of Object.entries(after.counts)) {
    const was = before.counts[name] ?? 0
    if (count > was) problems.push(`${count - was} more ${name} than before (${was} → ${count})`)
  }
  for (const ns of after.namespaces) {
    if (!before.namespaces.includes(ns)) problems.push(`network namespace ${ns} still exists`)
  }
  for (const pid of after.processes) {
    if (!before.processes.includes(pid)) problems.push(`child process ${pid} still runs`)
  }
  return problems
}

/**
 * Throws when handles, timers, namespaces or child processes remain that were not there at `before`. Closing is
 * asynchronous (a destroyed socket leaves on a later tick), so it polls for up to `settleMs` before deciding.
 */
export async function assertNoLeakedResources(before: ResourceSnapshot, settleMs = 1000): Promise<void> {
  const deadline = performance.now() + settleMs
  let problems = diffResources(before)
  while (problems.length > 0 && performance.now() < deadline) {
    await sleep(20)
    problems = diffResources(before)
  }
  if (problems.length > 0) {
    throw new Error(
      `leaked resources:\n  ${problems.join('\n  ')}\nnow active: ${process.getActiveResourcesInfo()}`,
    )
  }
}

/**
 * Snapshots now and registers the leak check as a cleanup. Cleanups run newest first, so calling this at the start
 * of a test makes the check run after every other cleanup of that test: it sees what the test really left behind.
 */
export function expectNoLeaks(settleMs = 1000): ResourceSnapshot {
  const before = snapshotResources()
  registerCleanup('leak check', () => assertNoLeakedResources(before, settleMs))
  return before
}

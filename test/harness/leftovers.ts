import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteNamespaceSync, listHarnessNamespaces, namespaceOwner } from './netns.js'
import { findBinary } from './prerequisites.js'
import { forgetProcess, isAlive, listProcessRecords, type ProcessRecord, recordIsAlive } from './state.js'
import { TEMP_DIR_PATTERN } from './tmp.js'

/** Parent pid from /proc, or undefined. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    return Number.isFinite(ppid) ? ppid : undefined
  } catch {
    return undefined
  }
}

/** True when `pid` descends from `ancestor`. */
function descendsFrom(pid: number, ancestor: number): boolean {
  let current: number | undefined = pid
  for (let depth = 0; current !== undefined && current > 1 && depth < 64; depth++) {
    if (current === ancestor) return true
    current = parentOf(current)
  }
  return false
}

/**
 * An owner is finished when it is dead, or when it is one of our own (vitest worker) descendants while we are
 * tearing down: everything a run created must be gone by then. Harness resources of other live processes (another
 * engineer's test run on the same machine) are never touched.
 */
function ownerFinished(owner: number | undefined, root: number | undefined): boolean {
  if (owner === undefined) return false
  if (!isAlive(owner)) return true
  return root !== undefined && owner !== root && descendsFrom(owner, root)
}

function isListening(port: number): boolean {
  const ss = findBinary('ss')
  if (!ss) return false
  try {
    return execFileSync(ss, ['-Htln', `sport = :${port}`], { encoding: 'utf8' }).trim().length > 0
  } catch {
    return false
  }
}

export interface Leftover {
  kind: 'namespace' | 'process' | 'listener' | 'temp dir'
  description: string
}

/**
 * Finds harness namespaces, processes and listeners whose owner has finished. With `remove`, kills and deletes them
 * too (stale records of processes that already exited are removed silently: they are not leaks).
 */
export function findLeftovers(options: { root?: number; remove?: boolean } = {}): Leftover[] {
  const leftovers: Leftover[] = []
  for (const ns of listHarnessNamespaces()) {
    if (!ownerFinished(namespaceOwner(ns), options.root)) continue
    leftovers.push({ kind: 'namespace', description: `network namespace ${ns}` })
    if (options.remove) deleteNamespaceSync(ns)
  }
  for (const record of listProcessRecords()) {
    if (!ownerFinished(record.owner, options.root)) continue
    if (recordIsAlive(record)) {
      leftovers.push({ kind: 'process', description: describe(record) })
      if (options.remove) {
        try {
          process.kill(record.pid, 'SIGKILL')
        } catch {
          // gone meanwhile
        }
      }
    } else if (record.port !== undefined && isListening(record.port)) {
      // The process is gone but something listens on its port: a child it forked (sshd) survived it.
      leftovers.push({
        kind: 'listener',
        description: `port ${record.port} of ${describe(record)} still listens`,
      })
    }
    if (options.remove) forgetProcess(record.pid)
  }
  for (const name of readdirSync(tmpdir())) {
    const match = TEMP_DIR_PATTERN.exec(name)
    if (!match || !ownerFinished(Number(match[1]), options.root)) continue
    leftovers.push({ kind: 'temp dir', description: `temp dir ${join(tmpdir(), name)}` })
    if (options.remove) rmSync(join(tmpdir(), name), { recursive: true, force: true })
  }
  return leftovers
}

function describe(record: ProcessRecord): string {
  const port = record.port === undefined ? '' : ` on port ${record.port}`
  return `${record.label} (pid ${record.pid}${port}, started by pid ${record.owner})`
}

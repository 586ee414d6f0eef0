import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A directory shared by every process of every test run on this machine, where the harness records the peer
 * processes it starts. A record outlives a worker that was killed before it could clean up, so the global teardown
 * (test/harness/global-setup.ts) can still find, kill and report what the worker left behind.
 */
export const STATE_DIR = join(tmpdir(), 'keepalive-harness')
const PROCS_DIR = join(STATE_DIR, 'procs')

export interface ProcessRecord {
  /** pid of the process we started (mosquitto, sshd, a node fixture). */
  pid: number
  /** pid of the test process that started it; the record is a leak only once this one is gone. */
  owner: number
  /** /proc/<pid>/stat start time, so that a recycled pid is not mistaken for ours. */
  startTicks: string | undefined
  label: string
  /** Listening port on loopback, when the process is a server. */
  port?: number
}

/** The kernel's start time of `pid` (field 22 of /proc/<pid>/stat), or undefined if it is gone. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return fields[19]
  } catch {
    return undefined
  }
}

/** True when `pid` is alive and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** True when the record still names the same live process (same pid and same start time). */
export function recordIsAlive(record: ProcessRecord): boolean {
  return isAlive(record.pid) && processStartTicks(record.pid) === record.startTicks
}

const recordPath = (pid: number): string => join(PROCS_DIR, `${pid}.json`)

export function recordProcess(record: Omit<ProcessRecord, 'owner' | 'startTicks'>): void {
  mkdirSync(PROCS_DIR, { recursive: true })
  const full: ProcessRecord = { ...record, owner: process.pid, startTicks: processStartTicks(record.pid) }
  writeFileSync(recordPath(record.pid), JSON.stringify(full))
}

export function updateRecord(pid: number, patch: Partial<ProcessRecord>): void {
  try {
    const record = JSON.parse(readFileSync(recordPath(pid), 'utf8')) as ProcessRecord
    writeFileSync(recordPath(pid), JSON.stringify({ ...record, ...patch }))
  } catch {
    // already gone
  }
}

export function forgetProcess(pid: number): void {
  rmSync(recordPath(pid), { force: true })
}

export function listProcessRecords(): ProcessRecord[] {
  let names: string[]
  try {
    names = readdirSync(PROCS_DIR)
  } catch {
    return []
  }
  const records: ProcessRecord[] = []
  for (const name of names) {
    try {
      records.push(JSON.parse(readFileSync(join(PROCS_DIR, name), 'utf8')) as ProcessRecord)
    } catch {
      // written concurrently or removed meanwhile
    }
  }
  return records
}

import { type ChildProcess, spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Undo } from './cleanup.js'
import { track } from './cleanup.js'
import type { ExitInfo } from './node-process.js'
import { waitForTcp } from './ports.js'
import { requireBinary } from './prerequisites.js'
import { processState, processTree, signalAndWait } from './process-state.js'
import { forgetProcess, recordProcess } from './state.js'

export interface ChildPeerOptions {
  label: string
  argv: readonly string[]
  /** Run inside this network namespace (then readiness comes from the log only: the host cannot connect). */
  netns?: string
  host: string
  port: number
  /** A log line that means "listening". */
  ready: RegExp
  timeoutMs?: number
  /**
   * The spawned process is a wrapper (`unshare --fork`): the server is its first child. Signals meant for the
   * server (freeze) go to that child's process tree.
   */
  wrapped?: boolean
}

export interface ChildPeer {
  child: ChildProcess
  /** The server's pid (the wrapper's child when wrapped). */
  pid: number
  log(): string
  freeze(): Promise<Undo>
  thaw(): Promise<void>
  crash(): Promise<void>
  /** SIGTERM (then SIGKILL after a grace period); resolves with how the spawned process ended. */
  stop(): Promise<ExitInfo>
  exited: Promise<ExitInfo>
}

/** Thrown when the server could not bind its port because something else took it meanwhile: pick another, retry. */
export class AddressInUseError extends Error {}

const STOP_GRACE_MS = 3000

function firstChild(pid: number): number | undefined {
  return processTree(pid)[1]
}

/**
 * Starts a server process, captures its output, and resolves once the `ready` line appeared and (outside a
 * namespace) a TCP connection succeeds. Registered for cleanup and for process exit; recorded in the state dir.
 */
export async function startChildPeer(options: ChildPeerOptions): Promise<ChildPeer> {
  const argv = options.netns
    ? [requireBinary('ip'), 'netns', 'exec', options.netns, ...options.argv]
    : [...options.argv]
  const [file, ...args] = argv as [string, ...string[]]
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  if (child.pid === undefined) throw new Error(`${options.label}: could not start ${argv.join(' ')}`)
  const wrapperPid = child.pid
  recordProcess({ pid: wrapperPid, label: options.label, port: options.port })

  let output = ''
  const onOutput = (chunk: Buffer): void => {
    output += chunk.toString('utf8')
  }
  child.stdout?.on('data', onOutput)
  child.stderr?.on('data', onOutput)

  let exitInfo: ExitInfo | undefined
  const exited = new Promise<ExitInfo>((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal }
      forgetProcess(wrapperPid)
      resolve(exitInfo)
    })
    child.on('error', (error) => {
      output += `\n[spawn error] ${error.message}\n`
    })
  })

  let serverPid = wrapperPid
  const killAll = (): void => {
    for (const pid of new Set([serverPid, wrapperPid])) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone
      }
    }
  }
  const killAllAndForget = (): void => {
    killAll()
    forgetProcess(wrapperPid)
    forgetProcess(serverPid)
  }

  const stop = track(
    `${options.label} (pid ${wrapperPid})`,
    async () => {
      if (exitInfo) return
      // SIGCONT too: a frozen server would otherwise keep SIGTERM pending until the grace period ends.
      for (const pid of processTree(serverPid)) {
        try {
          process.kill(pid, 'SIGCONT')
        } catch {
          // gone
        }
      }
      try {
        process.kill(serverPid, 'SIGTERM')
      } catch {
        // gone
      }
      const timer = setTimeout(killAll, STOP_GRACE_MS)
      await exited
      clearTimeout(timer)
      if (serverPid !== wrapperPid) forgetProcess(serverPid)
    },
    killAllAndForget,
  )

  const deadline = performance.now() + (options.timeoutMs ?? 10_000)
  try {
    while (!options.ready.test(output)) {
      if (exitInfo) {
        if (/Address already in use/i.test(output))
          throw new AddressInUseError(`${options.label}: port taken`)
        throw new Error(`exited (code ${exitInfo.code}, signal ${exitInfo.signal}) before it was ready`)
      }
      if (performance.now() > deadline) throw new Error('not ready in time')
      await sleep(10)
    }
    if (options.wrapped) {
      const pid = firstChild(wrapperPid)
      if (pid === undefined) throw new Error('the wrapper has no child process')
      serverPid = pid
      recordProcess({ pid, label: options.label, port: options.port })
    }
    if (!options.netns)
      await waitForTcp(options.host, options.port, Math.max(100, deadline - performance.now()))
  } catch (error) {
    await stop()
    if (error instanceof AddressInUseError) throw error
    throw new Error(`${options.label}: ${(error as Error).message}\n--- log ---\n${output.trim()}`, {
      cause: error,
    })
  }

  const signalTree = async (signal: 'SIGSTOP' | 'SIGCONT'): Promise<void> => {
    for (const pid of processTree(serverPid)) {
      if (processState(pid) !== undefined) await signalAndWait(pid, signal).catch(() => {})
    }
  }
  const thaw = (): Promise<void> => signalTree('SIGCONT')

  return {
    child,
    pid: serverPid,
    log: () => output,
    async freeze() {
      await signalTree('SIGSTOP')
      return track(`thaw ${options.label}`, thaw)
    },
    thaw,
    async crash() {
      if (exitInfo) return
      try {
        process.kill(serverPid, 'SIGKILL')
      } catch {
        // gone
      }
      await exited
    },
    stop: async () => {
      await stop()
      return exited
    },
    exited,
  }
}

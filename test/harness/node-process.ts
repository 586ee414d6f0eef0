import { type ChildProcess, spawn } from 'node:child_process'
import type { Undo } from './cleanup.js'
import { track } from './cleanup.js'
import { resolveScript, TSX_LOADER_URL } from './paths.js'
import { requireBinary } from './prerequisites.js'
import { signalAndWait } from './process-state.js'
import { forgetProcess, recordProcess } from './state.js'

/** A message on the JSON channel between a test and its child: `{ type, ...fields }`. */
export interface FixtureMessage {
  type: string
  [field: string]: unknown
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface SpawnNodeOptions {
  /** Run the child inside this network namespace (`ip netns exec <netns> node …`). */
  netns?: string
  /** Arguments after the script. */
  args?: readonly string[]
  /** Added to (and overriding) the parent's environment. */
  env?: Record<string, string | undefined>
  /** The node binary; default `process.execPath`, so a suite running on Node 24 starts Node 24 children. */
  node?: string
  /** Extra node flags, before the script. */
  nodeArgs?: readonly string[]
  /** Shown in errors and cleanup labels; default the script's file name. */
  label?: string
}

export interface NodeProcess {
  readonly pid: number
  readonly child: ChildProcess
  readonly label: string
  /** Sends a message to the child (`process.on('message')` there). */
  send(message: FixtureMessage): void
  /**
   * The next message of `type` (earlier ones are buffered, so nothing sent before the call is lost). Rejects when
   * the child exits first or after `timeoutMs`, with the child's stderr in the error message.
   */
  next<T extends { type: string } = FixtureMessage>(type: string, timeoutMs?: number): Promise<T>
  /** SIGSTOP, resolved once the kernel shows the process stopped. The undo thaws it. */
  freeze(): Promise<Undo>
  /** SIGCONT, resolved once the process runs again. */
  thaw(): Promise<void>
  /** SIGKILL (works on a frozen process too) and waits for the exit. Idempotent; also runs at cleanup. */
  kill(): Promise<ExitInfo>
  /** Resolves when the child has exited, never rejects. */
  readonly exited: Promise<ExitInfo>
  /** Output captured so far (the last 64 KiB of each). */
  stdout(): string
  stderr(): string
}

const OUTPUT_LIMIT = 64 * 1024
/** KA_HARNESS_VERBOSE=1 mirrors every child's stderr into the test log. */
const { KA_HARNESS_VERBOSE: verbose } = process.env

function keepTail(buffer: string, chunk: string): string {
  const joined = buffer + chunk
  return joined.length > OUTPUT_LIMIT ? joined.slice(joined.length - OUTPUT_LIMIT) : joined
}

/**
 * Starts a child Node running a TypeScript fixture the way `scripts/run-ts.sh` does
 * (`node --conditions=@keepalive/source --import tsx`), so it uses the workspace packages' sources, optionally
 * inside a network namespace. `ip netns exec` execs the command in place, so the pid is the node process itself
 * (signals reach it) and the IPC channel (stdio fd 3) survives. Killed at cleanup and on process exit.
 */
export function spawnNode(script: string | URL, options: SpawnNodeOptions = {}): NodeProcess {
  const scriptPath = resolveScript(script)
  const label = options.label ?? scriptPath.split('/').pop() ?? scriptPath
  const node = options.node ?? process.execPath
  const nodeArgv = [
    node,
    '--conditions=@keepalive/source',
    '--import',
    TSX_LOADER_URL,
    ...(options.nodeArgs ?? []),
    scriptPath,
    ...(options.args ?? []),
  ]
  const argv = options.netns ? [requireBinary('ip'), 'netns', 'exec', options.netns, ...nodeArgv] : nodeArgv
  const [file, ...args] = argv as [string, ...string[]]
  const child = spawn(file, args, {
    stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...options.env },
  })
  if (child.pid === undefined) {
    // spawn failures surface as an 'error' event; make them an exception here instead.
    throw new Error(`spawnNode: could not start ${argv.join(' ')}`)
  }
  const pid = child.pid
  recordProcess({ pid, label: `node ${label}` })

  let out = ''
  let err = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out = keepTail(out, chunk)
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err = keepTail(err, chunk)
    if (verbose) process.stderr.write(`[${label} ${pid}] ${chunk}`)
  })

  let exitInfo: ExitInfo | undefined
  const exited = new Promise<ExitInfo>((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal }
      forgetProcess(pid)
      // Wait for the streams too, so stderr is complete when a waiter reports it.
      setImmediate(() => {
        failWaiters()
        resolve({ code, signal })
      })
    })
    child.on('error', (error) => {
      err = keepTail(err, `\n[spawn error] ${error.message}\n`)
    })
  })

  const queue: FixtureMessage[] = []
  const waiters: Array<{ type: string; resolve: (m: FixtureMessage) => void; reject: (e: Error) => void }> =
    []
  child.on('message', (raw) => {
    const message = raw as FixtureMessage
    const index = waiters.findIndex((w) => w.type === message?.type)
    if (index >= 0) waiters.splice(index, 1)[0]?.resolve(message)
    else queue.push(message)
  })
  const describeExit = (): string =>
    exitInfo ? `exited (code ${exitInfo.code}, signal ${exitInfo.signal})` : 'still running'
  const failure = (what: string): Error =>
    new Error(`${label} (pid ${pid}) ${what}; ${describeExit()}\n--- stderr ---\n${err.trim() || '(empty)'}`)
  function failWaiters(): void {
    for (const waiter of waiters.splice(0)) waiter.reject(failure(`exited before sending "${waiter.type}"`))
  }

  const next = <T extends { type: string }>(type: string, timeoutMs = 10_000): Promise<T> => {
    const index = queue.findIndex((m) => m?.type === type)
    if (index >= 0) return Promise.resolve(queue.splice(index, 1)[0] as T)
    if (exitInfo) return Promise.reject(failure(`exited before sending "${type}"`))
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        type,
        resolve: (m: FixtureMessage) => {
          clearTimeout(timer)
          resolve(m as T)
        },
        reject: (e: Error) => {
          clearTimeout(timer)
          reject(e)
        },
      }
      const timer = setTimeout(() => {
        const i = waiters.indexOf(waiter)
        if (i >= 0) waiters.splice(i, 1)
        reject(failure(`sent no "${type}" within ${timeoutMs} ms`))
      }, timeoutMs)
      waiters.push(waiter)
    })
  }

  const kill = track(
    `node ${label} (pid ${pid})`,
    async () => {
      if (!exitInfo) {
        try {
          child.kill('SIGKILL')
        } catch {
          // already gone
        }
      }
      await exited
    },
    () => {
      if (!exitInfo) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      forgetProcess(pid)
    },
  )

  const thaw = async (): Promise<void> => {
    if (!exitInfo) await signalAndWait(pid, 'SIGCONT')
  }

  return {
    pid,
    child,
    label,
    send(message) {
      if (!child.connected) throw failure(`cannot receive "${message.type}": the IPC channel is closed`)
      child.send(message)
    },
    next,
    async freeze() {
      await signalAndWait(pid, 'SIGSTOP')
      return track(`thaw ${label} (pid ${pid})`, thaw)
    },
    thaw,
    kill: async () => {
      await kill()
      return exited
    },
    exited,
    stdout: () => out,
    stderr: () => err,
  }
}

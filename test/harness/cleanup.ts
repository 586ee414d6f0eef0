/**
 * The cleanup registry: every resource the harness creates (namespace, child process, server, proxy, temp dir,
 * fault) registers its undo here, and the undos run LIFO after each test — also when the test failed or timed out,
 * because they run from an afterEach hook (see vitest-setup.ts), not from the test body.
 *
 * Scope: an undo registered while a test runs (test body, beforeEach) is undone after that test; one registered
 * outside a test (beforeAll, module top level) is undone after the file. Processes and namespaces also register a
 * synchronous last-resort hook that runs on process exit, for a worker that dies without running its hooks.
 */

/** Undoes one fault or stops one resource. Idempotent wherever the harness returns one. */
export type Undo = () => Promise<void>

interface Entry {
  id: number
  label: string
  undo: () => unknown
  /** 0: file scope, 1: test scope. */
  depth: number
}

const CLEANUP_TIMEOUT_MS = 15_000

let nextId = 1
let depth = 0
const entries: Entry[] = []
const exitHooks = new Map<number, { label: string; hook: () => void }>()

/** Registers `undo` to run after the current test (or file). Returns a function that unregisters it. */
export function registerCleanup(label: string, undo: () => unknown): () => void {
  const entry: Entry = { id: nextId++, label, undo, depth }
  entries.push(entry)
  return () => {
    const index = entries.indexOf(entry)
    if (index >= 0) entries.splice(index, 1)
  }
}

/**
 * Registers a synchronous hook for process exit: the last resort for resources that outlive the process otherwise
 * (network namespaces, child processes). Returns a function that unregisters it.
 */
export function registerExitHook(label: string, hook: () => void): () => void {
  const id = nextId++
  exitHooks.set(id, { label, hook })
  installExitHandler()
  return () => {
    exitHooks.delete(id)
  }
}

/**
 * Wraps a resource's teardown into an idempotent `stop` that is also registered for cleanup (and, with
 * `lastResort`, for process exit). Calling `stop` early unregisters it; a second call returns the first promise.
 */
export function track(label: string, teardown: () => Promise<void>, lastResort?: () => void): Undo {
  let stopping: Promise<void> | undefined
  const unregisterExit = lastResort ? registerExitHook(label, lastResort) : undefined
  const stop: Undo = () => {
    if (!stopping) {
      unregister()
      stopping = teardown().finally(() => unregisterExit?.())
    }
    return stopping
  }
  const unregister = registerCleanup(label, stop)
  return stop
}

/** Marks the start of a test: what is registered from now on is undone by `endTestScope`. */
export function beginTestScope(): void {
  depth = 1
}

/** Undoes everything registered since `beginTestScope`, LIFO, then returns to file scope. */
export async function endTestScope(): Promise<void> {
  try {
    await runCleanups(1)
  } finally {
    depth = 0
  }
}

/**
 * Runs the registered undos with scope >= minDepth, newest first. Every undo runs even when an earlier one fails;
 * the failures are thrown together afterwards so a broken cleanup fails the test instead of hiding.
 */
export async function runCleanups(minDepth = 0): Promise<void> {
  const errors: unknown[] = []
  for (;;) {
    let index = -1
    for (let i = entries.length - 1; i >= 0; i--) {
      if ((entries[i] as Entry).depth >= minDepth) {
        index = i
        break
      }
    }
    if (index < 0) break
    const [entry] = entries.splice(index, 1) as [Entry]
    try {
      await withTimeout(Promise.resolve().then(entry.undo), CLEANUP_TIMEOUT_MS, entry.label)
    } catch (error) {
      errors.push(new Error(`cleanup "${entry.label}" failed: ${(error as Error).message}`, { cause: error }))
    }
  }
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanups failed`)
}

/** Labels of what is still registered (for diagnostics and the leak checker). */
export function pendingCleanups(): string[] {
  return entries.map((e) => e.label)
}

function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no result after ${ms} ms`)), ms)
    // Unref'd: a watchdog must neither keep the process alive nor count as a handle in the leak check it guards.
    timer.unref()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

let exitHandlerInstalled = false
function runExitHooks(): void {
  // Newest first, like the regular cleanups; only synchronous work is possible here.
  for (const [id, { label, hook }] of [...exitHooks].reverse()) {
    exitHooks.delete(id)
    try {
      hook()
    } catch (error) {
      process.stderr.write(`[harness] exit cleanup "${label}" failed: ${(error as Error).message}\n`)
    }
  }
}

function installExitHandler(): void {
  if (exitHandlerInstalled) return
  exitHandlerInstalled = true
  process.on('exit', runExitHooks)
  // A terminating signal ends the process without 'exit'. Where nobody else handles the signal, run the hooks and
  // re-raise it with the default action restored, so the process still dies of that signal.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    if (process.listenerCount(signal) > 0) continue
    process.once(signal, () => {
      runExitHooks()
      process.kill(process.pid, signal)
    })
  }
}

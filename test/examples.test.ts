/**
 * Every example runs, so none can rot (examples/README.md states the convention this checks). Discovered, not
 * listed: each `examples/<name>.ts` and each `examples/<name>/main.ts` is an example named `<name>`, run as a child
 * process with `bash scripts/run-ts.sh` (sources, no build), and must exit 0 with `ok: <name>: …` as its last line
 * of output. Children are killed (their whole process group) on timeout and after each test, pass or fail.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const examplesDir = join(root, 'examples')

/** `[name, path relative to the root]` of every runnable example. */
const examples: [string, string][] = readdirSync(examplesDir, { withFileTypes: true })
  .flatMap((entry): [string, string][] => {
    if (entry.isFile() && entry.name.endsWith('.ts'))
      return [[entry.name.slice(0, -3), `examples/${entry.name}`]]
    if (entry.isDirectory() && existsSync(join(examplesDir, entry.name, 'main.ts')))
      return [[entry.name, `examples/${entry.name}/main.ts`]]
    return []
  })
  .sort(([a], [b]) => a.localeCompare(b))

/** Each example finishes in a few seconds; tsx's start-up on a loaded 2-core machine takes up to ~5 s of this. */
const EXAMPLE_TIMEOUT_MS = 20_000

const running = new Set<ChildProcess>()
afterEach(() => {
  for (const child of running) killGroup(child)
  running.clear()
})

function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

function run(
  file: string,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // detached: its own process group, so bash, node and anything the example starts die together.
    const child = spawn('bash', ['scripts/run-ts.sh', file], { cwd: root, detached: true, stdio: 'pipe' })
    running.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => killGroup(child), EXAMPLE_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      running.delete(child)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

describe('examples', () => {
  it('finds the examples of every package and the two showcases', () => {
    expect(examples.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'core-monitor',
        'tcp',
        'http',
        'mqtt',
        'ssh',
        'ws',
        'shared-config',
        'ping-client',
      ]),
    )
  })

  it.each(examples)(
    '%s runs and ends with its ok: line',
    { timeout: EXAMPLE_TIMEOUT_MS + 5_000 },
    async (name, file) => {
      const { code, signal, stdout, stderr } = await run(file)
      const lines = stdout.trimEnd().split('\n')
      expect({ code, signal, last: lines.at(-1), stderr }).toMatchObject({
        code: 0,
        signal: null,
        last: expect.stringMatching(new RegExp(`^ok: ${name}: \\S`)),
      })
    },
  )
})

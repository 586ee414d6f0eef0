/**
 * Runs the `keepalive` bin as a child process, through the sources (the `@keepalive/source` condition and tsx, as
 * scripts/run-ts.sh does), and captures stdout, stderr and the exit code. No colours (NO_COLOR), so tests read
 * plain text.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { REPO_ROOT } from '@keepalive/test-harness'
import { expect } from 'vitest'

export const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url))
const TSX = `${REPO_ROOT}node_modules/tsx/dist/esm/index.mjs`

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly cwd?: string
  readonly env?: Record<string, string | undefined>
  readonly timeoutMs?: number
}

export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined }
  // A stray KEEPALIVE_* variable in the developer's shell must not change what the tests see.
  for (const name of Object.keys(env)) if (name.startsWith('KEEPALIVE_')) delete env[name]
  Object.assign(env, options.env)
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@keepalive/source', '--import', TSX, BIN, ...args],
      { cwd: options.cwd ?? REPO_ROOT, env, timeout: options.timeoutMs ?? 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** A failed run: exactly one line on stderr, naming the problem, no stack trace, nothing on stdout. */
export function expectOneLineError(run: CliRun, code: number, pattern: RegExp): void {
  expect(run.code, `stderr: ${run.stderr}`).toBe(code)
  expect(run.stdout).toBe('')
  expect(run.stderr).toMatch(pattern)
  expect(run.stderr).not.toMatch(/\n\s+at /)
  expect(
    run.stderr
      .trimEnd()
      .split('\n')
      .filter((l) => !l.startsWith('Run `keepalive')).length,
  ).toBe(1)
}

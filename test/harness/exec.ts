import { execFile } from 'node:child_process'

export interface ExecResult {
  stdout: string
  stderr: string
}

/**
 * Runs a command without a shell and resolves with its output; rejects with the command line, exit status and
 * stderr in the message, so a failing `ip` or `nft` call explains itself in the test log.
 */
export function run(
  argv: readonly string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<ExecResult> {
  const [file, ...args] = argv
  if (!file) return Promise.reject(new Error('run: empty argv'))
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 15_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const status = (error as { code?: unknown }).code
          reject(
            new Error(`command failed (${String(status)}): ${argv.join(' ')}\n${stderr.trim()}`.trim(), {
              cause: error,
            }),
          )
        } else resolve({ stdout, stderr })
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

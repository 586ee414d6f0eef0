/**
 * The `keepalive` command: one commander program, a module per command (./commands/), and one place that turns
 * every failure into a one-line message and an exit code (errors.ts) — never a stack trace, unless
 * KEEPALIVE_DEBUG=1 asks for one.
 */
import { isKeepaliveError } from '@keepalive/core'
import { Command, CommanderError } from 'commander'
import { registerCheck } from './commands/check.js'
import { registerConfig } from './commands/config.js'
import { registerDemo } from './commands/demo.js'
import { registerExplain } from './commands/explain.js'
import { registerSysctl } from './commands/sysctl.js'
import { EXIT, EXIT_CODES_HELP } from './errors.js'
import { colour } from './output.js'

export { EXIT } from './errors.js'

const USAGE_CODES = new Set(['KA_ERR_CLI_USAGE', 'KA_ERR_INVALID_POLICY', 'KA_ERR_INVALID_ARGUMENT'])

export function createProgram(): Command {
  const program = new Command('keepalive')
    .description(
      'One keepalive policy for TCP, HTTP, MQTT and SSH: explain it, check a live connection, read the shared config, watch a dead peer be detected.',
    )
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_CODES_HELP)
    // Parse errors become exceptions handled below, not process.exit() or a message from inside commander;
    // subcommands inherit both settings when they are created.
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text), outputError: () => {} })
  registerExplain(program)
  registerConfig(program)
  registerSysctl(program)
  registerCheck(program)
  registerDemo(program)
  for (const command of program.commands) command.addHelpText('after', EXIT_CODES_HELP)
  return program
}

/** Runs the CLI and returns its exit code (bin.ts sets process.exitCode). */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = createProgram()
  try {
    await program.parseAsync(argv as string[])
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok
  } catch (error) {
    return report(error)
  }
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version "fail" with exit code 0.
    if (error.exitCode === 0) return EXIT.ok
    const message = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')
    process.stderr.write(`keepalive: ${message}\n`)
    process.stderr.write('Run `keepalive --help` (or `keepalive <command> --help`) for usage.\n')
    return EXIT.usage
  }
  if (isKeepaliveError(error)) {
    process.stderr.write(`${colour.red('keepalive:')} ${error.message}\n`)
    if (process.env.KEEPALIVE_DEBUG) process.stderr.write(`${error.stack}\n`)
    return USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.failed
  }
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(
    `${colour.red('keepalive: internal error:')} ${message.split('\n')[0]} (a bug; KEEPALIVE_DEBUG=1 shows where)\n`,
  )
  if (process.env.KEEPALIVE_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`)
  return EXIT.internal
}

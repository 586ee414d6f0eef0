/**
 * The CLI's own failures, each with a `KA_ERR_CLI_*` code and an exit code. Errors from core and the adapters
 * (KeepaliveError) map to exit codes in main.ts; anything else is a bug and exits 3.
 */
import { defineError } from '@keepalive/core/internal'

/** Bad arguments or options on the command line (exit 2). */
export const CliUsageError = defineError('KA_ERR_CLI_USAGE', 'CliUsageError')
export type CliUsageError = InstanceType<typeof CliUsageError>
/** `check` could not reach the peer, or the peer did not speak the protocol (exit 1). */
export const CliCheckFailedError = defineError('KA_ERR_CLI_CHECK_FAILED', 'CliCheckFailedError')
export type CliCheckFailedError = InstanceType<typeof CliCheckFailedError>
/** Something the command needs is missing on this host: /proc/sys, a peer that would not start (exit 1). */
export const CliUnavailableError = defineError('KA_ERR_CLI_UNAVAILABLE', 'CliUnavailableError')
export type CliUnavailableError = InstanceType<typeof CliUnavailableError>

/** The exit codes every command uses (README, `keepalive --help`). */
export const EXIT = {
  /** Done, every promise kept. */
  ok: 0,
  /** What was examined failed: an invalid config, an unreachable peer, a broken promise. */
  failed: 1,
  /** Bad arguments or options. */
  usage: 2,
  /** A bug in keepalive: the message says so; KEEPALIVE_DEBUG=1 prints the stack. */
  internal: 3,
} as const

export const EXIT_CODES_HELP = `
Exit codes:
  0  done; every promise kept
  1  what was examined failed: invalid config, unreachable peer, broken promise
  2  bad arguments or options
  3  a bug in keepalive (KEEPALIVE_DEBUG=1 prints the stack)`

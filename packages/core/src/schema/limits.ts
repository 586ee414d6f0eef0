/**
 * The bounds every policy and config value is checked against, in one place so the schema, the error
 * messages and the documentation quote the same numbers.
 */
import type { PresetName } from '../types.js'

export { MAX_DURATION_MS } from '../duration.js'

/**
 * The most unanswered probes a policy may wait for. Linux caps TCP_KEEPCNT at 127 and OpenSSH users
 * rarely go past 10; 1000 leaves room for odd uses while catching a mistyped 30000 (a duration in the wrong field).
 */
export const MAX_PROBES = 1000

/** The largest jitter: the first probe may come at most half of `idle` early. */
export const MAX_JITTER = 0.5

/** The built-in presets, in the order documentation lists them. */
export const PRESET_NAMES = [
  'fast',
  'balanced',
  'battery',
  'linux-default',
] as const satisfies readonly PresetName[]

/** The fields of a policy input, in documentation order. */
export const POLICY_FIELDS = ['preset', 'idle', 'interval', 'probes', 'jitter'] as const

/**
 * The largest config file (or config text) read, in bytes: 64 KiB. A full config with comments is under 4 KiB;
 * the bound keeps a wrong file (a log, a dump, /dev/zero) from costing seconds and gigabytes before it is refused.
 */
export const MAX_CONFIG_BYTES = 64 * 1024

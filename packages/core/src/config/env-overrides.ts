/**
 * Environment variables that override the file: KEEPALIVE_POLICY (a preset name) replaces the file's
 * `policy`; KEEPALIVE_IDLE, KEEPALIVE_INTERVAL and KEEPALIVE_PROBES then set that field in the
 * top-level policy and in every protocol section, so they have the last word everywhere.
 * An empty variable counts as unset (`KEEPALIVE_IDLE= node app.js` switches the override off).
 */
import { ConfigInvalidError, type KeepaliveError } from '../errors.js'
import { describeValue } from '../schema/describe-value.js'
import { PRESET_NAMES } from '../schema/limits.js'
import { durationSchema, PRESET_RULE, PROBES_RULE, probesSchema } from '../schema/policy-schema.js'
import { closestName, didYouMean } from '../schema/suggest.js'
import type { PresetName } from '../types.js'

export const ENV = {
  config: 'KEEPALIVE_CONFIG',
  policy: 'KEEPALIVE_POLICY',
  idle: 'KEEPALIVE_IDLE',
  interval: 'KEEPALIVE_INTERVAL',
  probes: 'KEEPALIVE_PROBES',
} as const

export type Env = Readonly<Record<string, string | undefined>>

export interface EnvOverrides {
  readonly preset?: PresetName
  readonly idle?: number
  readonly interval?: number
  readonly probes?: number
  /** The variables that applied, in a fixed order. */
  readonly applied: readonly string[]
}

/** A variable's value, or undefined when unset or blank. */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

/** Reads and validates the override variables. Throws ConfigInvalidError naming the variable and its value. */
export function readEnvOverrides(env: Env): EnvOverrides {
  checkNames(env)
  const applied: string[] = []
  const overrides: { preset?: PresetName; idle?: number; interval?: number; probes?: number } = {}

  const preset = envValue(env, ENV.policy)
  if (preset !== undefined) {
    if (!(PRESET_NAMES as readonly string[]).includes(preset)) {
      throw invalidEnv(ENV.policy, preset, PRESET_RULE, didYouMean(preset, PRESET_NAMES))
    }
    overrides.preset = preset as PresetName
    applied.push(ENV.policy)
  }
  for (const field of ['idle', 'interval'] as const) {
    const raw = envValue(env, ENV[field])
    if (raw === undefined) continue
    // A bare number in the environment is milliseconds, as in code and in the file; a signed or decimal one is
    // read as a number too, so `-5` is told it must be positive rather than that it needs a unit.
    const input = /^[-+]?\d+(?:\.\d+)?$/.test(raw) ? Number(raw) : raw
    const result = durationSchema.safeParse(input)
    if (!result.success) throw invalidEnv(ENV[field], raw, result.error.issues[0]?.message ?? 'is invalid')
    overrides[field] = result.data
    applied.push(ENV[field])
  }
  const probes = envValue(env, ENV.probes)
  if (probes !== undefined) {
    const result = probesSchema.safeParse(/^\d+$/.test(probes) ? Number(probes) : Number.NaN)
    if (!result.success) throw invalidEnv(ENV.probes, probes, PROBES_RULE)
    overrides.probes = result.data
    applied.push(ENV.probes)
  }
  return { ...overrides, applied }
}

const PREFIX = 'KEEPALIVE_'
const KNOWN = Object.values(ENV) as readonly string[]
const KNOWN_SUFFIXES = KNOWN.map((name) => name.slice(PREFIX.length))

/** Variables listed by name when several are unknown; the rest are counted. */
const MAX_UNKNOWN_LISTED = 3

/**
 * Every set KEEPALIVE_* variable must be one of ours: `KEEPALIVE_IDEL=5s` would otherwise be ignored
 * while the service runs on the default it was meant to override.
 */
function checkNames(env: Env): void {
  const unknown: string[] = []
  for (const name of Object.keys(env)) {
    if (name.startsWith(PREFIX) && !KNOWN.includes(name) && envValue(env, name) !== undefined) {
      unknown.push(name)
    }
  }
  if (unknown.length === 0) return
  const listed = unknown
    .slice(0, MAX_UNKNOWN_LISTED)
    .map((name) => {
      // Compared after the common prefix, which would otherwise make every name look close to every other.
      const match = closestName(name.slice(PREFIX.length), KNOWN_SUFFIXES)
      return match === undefined ? name : `${name} (did you mean "${PREFIX}${match}"?)`
    })
    .join(', ')
  const more = unknown.length > MAX_UNKNOWN_LISTED ? ` and ${unknown.length - MAX_UNKNOWN_LISTED} more` : ''
  throw new ConfigInvalidError(
    `Unknown environment ${unknown.length === 1 ? 'variable' : 'variables'} ${listed}${more}; known: ${KNOWN.join(', ')} (unset or rename it)`,
  )
}

function invalidEnv(name: string, value: string, rule: string, hint = ''): KeepaliveError {
  return new ConfigInvalidError(
    `Invalid environment variable ${name}: ${rule}, got ${describeValue(value)}${hint}`,
  )
}

/**
 * The shared config: one file for every service using the toolkit, overridable by environment
 * variables. See docs/policy-and-config.md for the format, the lookup order and the variables.
 */
import { readFile } from 'node:fs/promises'
import { channels } from '../diagnostics.js'
import { ConfigNotFoundError, InvalidArgumentError } from '../errors.js'
import { definePolicy, mergePolicy } from '../policy.js'
import { describeValue } from '../schema/describe-value.js'
import { problemsFrom } from '../schema/issues.js'
import { POLICY_FIELDS } from '../schema/limits.js'
import { type PolicyFields, policyInputSchema } from '../schema/policy-schema.js'
import type { Policy, Protocol } from '../types.js'
import type { KeepaliveConfig, LoadConfigOptions } from './config-types.js'
import { ENV, envValue } from './env-overrides.js'
import { type ConfigFileChoice, chooseConfigFile } from './find-config-file.js'
import { buildConfig, configFromText, PROTOCOLS } from './parse-config.js'

export type {
  HttpSection,
  KeepaliveConfig,
  LoadConfigOptions,
  MqttSection,
  PathConfig,
  PolicyOverrides,
  SshSection,
  TcpSection,
} from './config-types.js'

/**
 * Loads the config: the file named by `file`, else by KEEPALIVE_CONFIG, else the first
 * keepalive.config.{json,yaml,yml} from `cwd` upwards; environment variables on top. No file found
 * is not an error (the `balanced` defaults, `source.file` undefined); a named file that is missing is.
 * Throws ConfigNotFoundError, ConfigParseError or ConfigInvalidError.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<KeepaliveConfig> {
  checkOptions(options)
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const fromEnv = options.file === undefined ? envValue(env, ENV.config) : undefined
  const choice = await chooseConfigFile(
    options.file ?? fromEnv,
    options.file !== undefined ? 'option' : 'env',
    cwd,
  )
  const applied = choice?.origin === 'env' ? [ENV.config] : []

  const config =
    choice === undefined
      ? buildConfig(
          { value: {}, lineOf: () => undefined },
          { label: 'the defaults', file: undefined, env, applied },
        )
      : configFromText(await readConfigFile(choice), { file: choice.file, env, applied })

  if (channels.configLoad.hasSubscribers) {
    channels.configLoad.publish({ file: config.source.file, env: config.source.env })
  }
  return config
}

/** Options are programmer input: a wrong type is an InvalidArgumentError, not a TypeError from deep inside. */
function checkOptions(options: unknown): asserts options is LoadConfigOptions {
  const bad = (what: string, value: unknown) =>
    new InvalidArgumentError(`loadConfig: ${what}, got ${describeValue(value)}`)
  if (options === null || typeof options !== 'object') throw bad('options must be an object', options)
  const { file, cwd, env } = options as Record<string, unknown>
  if (file !== undefined && typeof file !== 'string') throw bad('options.file must be a string', file)
  if (cwd !== undefined && typeof cwd !== 'string') throw bad('options.cwd must be a string', cwd)
  if (env === undefined) return
  if (env === null || typeof env !== 'object') throw bad('options.env must be an object', env)
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && typeof value !== 'string')
      throw bad(`options.env.${name} must be a string`, value)
  }
}

async function readConfigFile(choice: ConfigFileChoice): Promise<string> {
  try {
    return await readFile(choice.file, 'utf8')
  } catch (cause) {
    const why =
      choice.origin === 'option'
        ? 'named by the `file` option'
        : choice.origin === 'env'
          ? `named by ${ENV.config}`
          : 'found in the upward search'
    const code = (cause as NodeJS.ErrnoException)?.code
    const problem = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(cause)})`
    throw new ConfigNotFoundError(`Config file ${choice.file} (${why}) ${problem}`, { cause })
  }
}

/**
 * The policy for one protocol: the protocol's overrides merged over `policy`. Frozen.
 * `config` is meant to come from loadConfig or parseConfig; a hand-built one is checked (cheaply):
 * anything else is an InvalidArgumentError naming what is wrong, never a TypeError from inside.
 */
export function policyFor(config: KeepaliveConfig, protocol: Protocol): Policy {
  if (!(PROTOCOLS as readonly unknown[]).includes(protocol)) {
    throw new InvalidArgumentError(
      `policyFor: protocol must be one of ${PROTOCOLS.join(', ')}, got ${describeValue(protocol)}`,
    )
  }
  if (config === null || typeof config !== 'object') {
    throw new InvalidArgumentError(
      `policyFor: config must be an object (what loadConfig or parseConfig returns), got ${describeValue(config)}`,
    )
  }
  let policy: unknown
  let section: unknown
  try {
    policy = config.policy
    section = config[protocol]
  } catch (cause) {
    throw new InvalidArgumentError(`policyFor: could not read config (${describeValue(config)})`, { cause })
  }
  if (policy === undefined) {
    throw new InvalidArgumentError(
      'policyFor: config.policy is missing (a config from loadConfig or parseConfig always has one)',
    )
  }
  let base: Policy
  try {
    base = definePolicy(policy as Policy)
  } catch (cause) {
    const why = cause instanceof Error ? cause.message.replace(/^Invalid policy: /, '') : String(cause)
    throw new InvalidArgumentError(`policyFor: config.policy is not a valid policy: ${why}`, { cause })
  }
  return mergePolicy(base, sectionFields(section, protocol))
}

/** The policy fields of a protocol's section, validated: undefined or an object whose policy fields are valid. */
function sectionFields(section: unknown, protocol: Protocol): PolicyFields {
  if (section === undefined) return {}
  const where = `config.${protocol}`
  if (section === null || typeof section !== 'object' || Array.isArray(section)) {
    throw new InvalidArgumentError(
      `policyFor: ${where} must be an object or undefined, got ${describeValue(section)}`,
    )
  }
  const fields: Record<string, unknown> = {}
  try {
    for (const key of POLICY_FIELDS) {
      const value = (section as Record<string, unknown>)[key]
      if (value !== undefined) fields[key] = value
    }
  } catch (cause) {
    throw new InvalidArgumentError(`policyFor: could not read ${where} (${describeValue(section)})`, {
      cause,
    })
  }
  const result = policyInputSchema.safeParse(fields)
  if (!result.success) {
    const problems = problemsFrom(result.error, fields, policyInputSchema, where).map((p) => p.message)
    throw new InvalidArgumentError(`policyFor: ${where}: ${problems.join('; ')}`, { cause: result.error })
  }
  return result.data
}

/**
 * The shared config: one file for every service using the toolkit, overridable by environment
 * variables. The format, the lookup order and the variables are described in this package's README
 * ("The shared config").
 */
import { channels } from '../diagnostics.js'
import { InvalidArgumentError } from '../errors.js'
import { policyOrProblem } from '../policy.js'
import { describeValue } from '../schema/describe-value.js'
import { readEnv, readOptions } from '../schema/read-options.js'
import type { Policy, Protocol } from '../types.js'
import type { KeepaliveConfig, LoadConfigOptions } from './config-types.js'
import { ENV, envValue } from './env-overrides.js'
import { checkWorkingDirectory, chooseConfigFile, readConfigFile } from './find-config-file.js'
import { buildConfig, configFromText, PROTOCOLS, sectionPolicy } from './parse-config.js'

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

const LOAD_OPTIONS = ['file', 'cwd', 'env'] as const

/**
 * Loads the config: the file named by `file`, else by KEEPALIVE_CONFIG, else the first
 * keepalive.config.{json,yaml,yml} from `cwd` upwards; environment variables on top. No file found
 * is not an error (the `balanced` defaults, `source.file` undefined); a named file that is missing is.
 * Throws InvalidArgumentError (bad options, a cwd that is not a directory), ConfigNotFoundError,
 * ConfigParseError or ConfigInvalidError.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<KeepaliveConfig> {
  const { file, cwd: cwdOption, env: envOption } = readOptions('loadConfig', options, LOAD_OPTIONS)
  if (file !== undefined && typeof file !== 'string') {
    throw new InvalidArgumentError(`loadConfig: options.file must be a string, got ${describeValue(file)}`)
  }
  if (cwdOption !== undefined && typeof cwdOption !== 'string') {
    throw new InvalidArgumentError(
      `loadConfig: options.cwd must be a string, got ${describeValue(cwdOption)}`,
    )
  }
  const env = readEnv('loadConfig', envOption === undefined ? process.env : envOption)
  const cwd = cwdOption ?? currentDirectory()
  await checkWorkingDirectory(cwd)
  const fromEnv = file === undefined ? envValue(env, ENV.config) : undefined
  const choice = await chooseConfigFile(file ?? fromEnv, file !== undefined ? 'option' : 'env', cwd)
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

/** process.cwd() throws a bare ENOENT when the directory was deleted under the process. */
function currentDirectory(): string {
  try {
    return process.cwd()
  } catch (cause) {
    throw new InvalidArgumentError('loadConfig: the working directory no longer exists; pass options.cwd', {
      cause,
    })
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
  const base = policyOrProblem(policy)
  if ('problem' in base) {
    throw new InvalidArgumentError(`policyFor: config.policy is not a valid policy: ${base.problem}`, {
      cause: base.cause,
    })
  }
  return sectionPolicy(base.policy, section, protocol)
}

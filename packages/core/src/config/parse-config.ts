/**
 * From config text to a validated, frozen KeepaliveConfig: parse (JSON or YAML), check against the
 * schema, lay the environment overrides on top, then enforce the path rule (every effective idle
 * below `path.idleTimeout`). Pure: no file system, so it is also what tests and tools call directly.
 */
import { extname } from 'node:path'
import { formatDuration } from '../duration.js'
import { ConfigInvalidError, InvalidArgumentError, KeepaliveError } from '../errors.js'
import { mergePolicy, presets } from '../policy.js'
import { type ConfigFile, configFileSchema, sectionSchemas } from '../schema/config-schema.js'
import { describeValue } from '../schema/describe-value.js'
import { type IssuePath, problemsFrom } from '../schema/issues.js'
import { MAX_CONFIG_BYTES } from '../schema/limits.js'
import type { PolicyFields } from '../schema/policy-schema.js'
import { readEnv, readOptions } from '../schema/read-options.js'
import type { Policy, Protocol } from '../types.js'
import type { KeepaliveConfig, PolicyOverrides } from './config-types.js'
import { ENV, type Env, type EnvOverrides, readEnvOverrides } from './env-overrides.js'
import { tooLarge } from './find-config-file.js'
import { type ConfigFormat, type ParsedConfigText, parseConfigText } from './parse-config-text.js'

export const PROTOCOLS = ['tcp', 'http', 'mqtt', 'ssh'] as const satisfies readonly Protocol[]

export interface ParseConfigOptions {
  /** Defaults to the file's extension (.json is JSON, anything else YAML), or YAML without a file. */
  format?: ConfigFormat
  /** The file the text came from: used in messages and recorded as `source.file`. */
  file?: string
  /** Environment overrides; none when omitted (loadConfig passes process.env). */
  env?: Env
}

/** Where the text came from, for messages when there is no file. */
const INLINE_LABEL = '<config text>'

/**
 * Parses and validates config text. Throws ConfigParseError (bad JSON/YAML, with line:column) or
 * ConfigInvalidError (schema, environment or path rule, with the path inside the file and its line).
 */
export function parseConfig(text: string, options: ParseConfigOptions = {}): KeepaliveConfig {
  if (typeof text !== 'string') {
    const hint = isBuffer(text) ? " (decode a Buffer first: buffer.toString('utf8'))" : ''
    throw new InvalidArgumentError(`parseConfig: text must be a string${hint}, got ${describeValue(text)}`)
  }
  const { format, file, env } = readOptions('parseConfig', options, PARSE_OPTIONS)
  if (format !== undefined && !(FORMATS as readonly unknown[]).includes(format)) {
    throw new InvalidArgumentError(
      `parseConfig: options.format must be "json" or "yaml", got ${describeValue(format)}`,
    )
  }
  if (file !== undefined && typeof file !== 'string') {
    throw new InvalidArgumentError(`parseConfig: options.file must be a string, got ${describeValue(file)}`)
  }
  return configFromText(text, {
    ...(format === undefined ? {} : { format: format as ConfigFormat }),
    ...(file === undefined ? {} : { file: file as string }),
    env: env === undefined ? {} : readEnv('parseConfig', env),
    applied: [],
  })
}

const PARSE_OPTIONS = ['format', 'file', 'env'] as const

/** Buffer.isBuffer asks for the prototype, which a revoked Proxy refuses with a TypeError. */
function isBuffer(value: unknown): boolean {
  try {
    return Buffer.isBuffer(value)
  } catch {
    return false
  }
}
const FORMATS = ['json', 'yaml'] as const satisfies readonly ConfigFormat[]

/** parseConfig plus the variables that already applied (KEEPALIVE_CONFIG, when it named the file). */
export function configFromText(
  text: string,
  options: ParseConfigOptions & { env: Env; applied: readonly string[] },
): KeepaliveConfig {
  const label = options.file ?? INLINE_LABEL
  // Counted in UTF-16 units first: a string that short cannot exceed the byte limit, and counting bytes is O(n).
  if (text.length > MAX_CONFIG_BYTES / 3 && Buffer.byteLength(text) > MAX_CONFIG_BYTES) throw tooLarge(label)
  const format = options.format ?? formatOfFile(options.file)
  const parsed = guard(label, () => parseConfigText(text, format, label))
  return buildConfig(parsed, { label, file: options.file, env: options.env, applied: options.applied })
}

export function formatOfFile(file: string | undefined): ConfigFormat {
  return file !== undefined && extname(file).toLowerCase() === '.json' ? 'json' : 'yaml'
}

interface BuildContext {
  readonly label: string
  readonly file: string | undefined
  readonly env: Env
  readonly applied?: readonly string[]
}

/** Validates a parsed document (or `{}` when there is no file) into a frozen config. */
export function buildConfig(parsed: ParsedConfigText, context: BuildContext): KeepaliveConfig {
  return guard(context.label, () => {
    // An empty YAML file is null: the same as a file that sets nothing.
    const value = parsed.value ?? {}
    const result = configFileSchema.safeParse(value)
    if (!result.success) {
      const problems = problemsFrom(result.error, value, configFileSchema, 'the config').map((problem) => ({
        line: parsed.lineOf(problem.path, problem.isKey),
        message: problem.message,
      }))
      throw invalidConfig(context.label, problems, result.error)
    }
    const env = readEnvOverrides(context.env)
    const config = assemble(result.data, env, context)
    checkPath(config, result.data, env, parsed, context.label)
    return config
  })
}

/** The file's values with the environment on top, frozen. */
function assemble(file: ConfigFile, env: EnvOverrides, context: BuildContext): KeepaliveConfig {
  const filePolicy = file.policy === undefined ? presets.balanced : policyFromFile(file.policy)
  const base = env.preset === undefined ? filePolicy : presets[env.preset]
  const envFields = fieldsSetBy(env)
  const policy = Object.keys(envFields).length === 0 ? base : mergePolicy(base, envFields)
  const section = <T extends PolicyOverrides>(fields: T | undefined): T => {
    const own = fields ?? ({} as T)
    // Env fields win in every section that would otherwise not inherit them from `policy`.
    const overridden = { ...own }
    for (const [key, value] of Object.entries(envFields)) {
      if (own.preset !== undefined || key in own) Object.assign(overridden, { [key]: value })
    }
    return Object.freeze(overridden)
  }
  return Object.freeze({
    policy,
    path: Object.freeze({ idleTimeout: file.path?.idleTimeout }),
    tcp: section(file.tcp),
    http: section(file.http),
    mqtt: section(file.mqtt),
    ssh: section(file.ssh),
    source: Object.freeze({
      file: context.file,
      env: Object.freeze([...(context.applied ?? []), ...env.applied]),
    }),
  })
}

function policyFromFile(policy: NonNullable<ConfigFile['policy']>): Policy {
  return typeof policy === 'string' ? presets[policy] : mergePolicy(presets.balanced, policy)
}

function fieldsSetBy(env: EnvOverrides): PolicyFields {
  const fields: { idle?: number; interval?: number; probes?: number } = {}
  if (env.idle !== undefined) fields.idle = env.idle
  if (env.interval !== undefined) fields.interval = env.interval
  if (env.probes !== undefined) fields.probes = env.probes
  return fields
}

/**
 * The policy for one protocol: the section's policy fields merged over `base` (the config's `policy`).
 * The one merge behind policyFor and the path rule. The section is checked against its schema first, so a
 * typo in a hand-built config (`tcp: { idel: 1 }`) is an error, not a silently ignored field.
 */
export function sectionPolicy(base: Policy, section: unknown, protocol: Protocol): Policy {
  if (section === undefined) return base
  const where = `config.${protocol}`
  if (section === null || typeof section !== 'object' || Array.isArray(section)) {
    throw new InvalidArgumentError(
      `policyFor: ${where} must be an object or undefined, got ${describeValue(section)}`,
    )
  }
  const schema = sectionSchemas[protocol]
  let result: ReturnType<typeof schema.safeParse>
  try {
    result = schema.safeParse(section)
  } catch (cause) {
    throw new InvalidArgumentError(`policyFor: could not read ${where} (${describeValue(section)})`, {
      cause,
    })
  }
  if (!result.success) {
    const problems = problemsFrom(result.error, section, schema, where).map((p) => p.message)
    throw new InvalidArgumentError(`policyFor: ${where}: ${problems.join('; ')}`, { cause: result.error })
  }
  const { preset, idle, interval, probes, jitter } = result.data
  return mergePolicy(base, { preset, idle, interval, probes, jitter })
}

/**
 * The path rule: a policy whose idle is at or above the path's idle timeout loses the connection to
 * the middlebox before the first probe is sent. That is an error, never a silent clamp. Each protocol
 * is checked only where its section chose its own idle (or preset); otherwise the top-level policy speaks for it.
 */
function checkPath(
  config: KeepaliveConfig,
  file: ConfigFile,
  env: EnvOverrides,
  parsed: ParsedConfigText,
  label: string,
): void {
  const limit = config.path.idleTimeout
  if (limit === undefined) return
  const problems: { line: number | undefined; message: string }[] = []
  const fromEnv = env.idle !== undefined ? ` (from ${ENV.idle})` : ''
  const breaks = (name: string, idle: number, line: number | undefined) => {
    if (idle < limit) return
    problems.push({
      line,
      message: `${name} idle ${formatDuration(idle)}${fromEnv} is at or above path.idleTimeout ${formatDuration(limit)}: the middlebox drops the connection before the first probe`,
    })
  }
  const limitLine = parsed.lineOf(['path', 'idleTimeout'])
  const policyLine = (prefix: IssuePath) =>
    parsed.lineOf([...prefix, 'idle']) ??
    parsed.lineOf([...prefix, 'preset']) ??
    parsed.lineOf(prefix) ??
    limitLine
  breaks('policy', config.policy.idle, policyLine(['policy']))
  for (const protocol of PROTOCOLS) {
    const own = file[protocol]
    if (own?.idle === undefined && own?.preset === undefined) continue
    breaks(protocol, sectionPolicy(config.policy, config[protocol], protocol).idle, policyLine([protocol]))
  }
  if (problems.length > 0) throw invalidConfig(label, problems)
}

function invalidConfig(
  label: string,
  problems: readonly { line: number | undefined; message: string }[],
  cause?: unknown,
): KeepaliveError {
  // In file order, so the message reads top to bottom like the file; problems without a line go last.
  const sorted = [...problems].sort(
    (a, b) => (a.line ?? Number.POSITIVE_INFINITY) - (b.line ?? Number.POSITIVE_INFINITY),
  )
  const lines = sorted.map(({ line, message }) => (line === undefined ? message : `line ${line}: ${message}`))
  const body = lines.length === 1 ? ` ${lines[0]}` : `\n  ${lines.join('\n  ')}`
  return new ConfigInvalidError(
    `Invalid config in ${label}:${body}`,
    cause === undefined ? undefined : { cause },
  )
}

/** Nothing but a KeepaliveError leaves config parsing, whatever the text holds. */
function guard<T>(label: string, run: () => T): T {
  try {
    return run()
  } catch (error) {
    if (error instanceof KeepaliveError) throw error
    throw new ConfigInvalidError(`Invalid config in ${label}: ${describeValue(String(error))}`, {
      cause: error,
    })
  }
}

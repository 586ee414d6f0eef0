/**
 * `keepalive config [FILE]`: loads the shared config exactly as a service does (the same search, the same
 * KEEPALIVE_* overrides, core's `loadConfig`/`policyFor`), validates it, and prints the effective policy per
 * protocol with where each value came from. Meant for a service's own CI: an invalid file exits 1 with the
 * line to fix. `--schema` prints the JSON Schema for editors.
 */
import { readFile } from 'node:fs/promises'
import {
  configJsonSchema,
  detectionTime,
  formatDuration,
  type KeepaliveConfig,
  loadConfig,
  type Policy,
  type Protocol,
  policyFor,
} from '@keepalive/core'
import type { Command } from 'commander'
import { parse as parseYaml } from 'yaml'
import { colour, line, printJson, table } from '../output.js'
import { PROTOCOLS } from '../policy-option.js'

interface ConfigFlags {
  json?: boolean
  schema?: boolean
}

const FIELDS = ['idle', 'interval', 'probes', 'jitter'] as const
type Field = (typeof FIELDS)[number]

const ENV_FOR: Partial<Record<Field, string>> = {
  idle: 'KEEPALIVE_IDLE',
  interval: 'KEEPALIVE_INTERVAL',
  probes: 'KEEPALIVE_PROBES',
}

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description(
      'find and validate the shared config as a service would; print the effective policy per protocol and where each value came from',
    )
    .argument(
      '[file]',
      'the config file (default: KEEPALIVE_CONFIG, else keepalive.config.{json,yaml,yml} from here upwards)',
    )
    .option('--json', 'print the effective config as JSON')
    .option('--schema', 'print the JSON Schema of the config file and exit')
    .addHelpText(
      'after',
      '\nEnvironment: KEEPALIVE_CONFIG names the file; KEEPALIVE_POLICY, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL and\nKEEPALIVE_PROBES override it, as in a service. An invalid or missing named file exits 1.',
    )
    .action(async (file: string | undefined, flags: ConfigFlags) => {
      if (flags.schema) {
        printJson(configJsonSchema())
        return
      }
      const config = await loadConfig(file === undefined ? {} : { file })
      const report = await configReport(config)
      if (flags.json) printJson(report)
      else printHuman(report)
    })
}

export interface FieldOrigin {
  readonly value: number
  /** e.g. `env KEEPALIVE_IDLE`, `file tcp.probes (line 4)`, `file policy: fast`, `default: balanced` */
  readonly from: string
}

export interface ConfigReport {
  readonly valid: true
  readonly file: string | null
  readonly env: readonly string[]
  readonly pathIdleTimeout: number | null
  readonly protocols: readonly {
    readonly protocol: Protocol
    readonly policy: Policy
    readonly detectionTime: number
    readonly origins: Readonly<Record<Field, FieldOrigin>>
    /** The section's own settings beyond the policy fields (userTimeout, maxSocketAge, …), in ms. */
    readonly settings: Readonly<Record<string, unknown>>
  }[]
}

async function configReport(config: KeepaliveConfig): Promise<ConfigReport> {
  const raw = config.source.file === undefined ? {} : await readRaw(config.source.file)
  return {
    valid: true,
    file: config.source.file ?? null,
    env: config.source.env,
    pathIdleTimeout: config.path.idleTimeout ?? null,
    protocols: PROTOCOLS.map((protocol) => {
      const policy = policyFor(config, protocol)
      const origins = Object.fromEntries(
        FIELDS.map((field) => [
          field,
          { value: policy[field], from: originOf(field, protocol, raw, config) },
        ]),
      ) as Record<Field, FieldOrigin>
      const settings = Object.fromEntries(
        Object.entries(config[protocol]).filter(
          ([key]) => !(FIELDS as readonly string[]).includes(key) && key !== 'preset',
        ),
      )
      return { protocol, policy, detectionTime: detectionTime(policy), origins, settings }
    }),
  }
}

/** The file as written (already validated by loadConfig), only to tell which level set a field. */
async function readRaw(file: string): Promise<Record<string, unknown>> {
  const text = await readFile(file, 'utf8')
  const value: unknown = file.endsWith('.json') ? JSON.parse(text.replace(/^\uFEFF/, '')) : parseYaml(text)
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {}
}

/** The same precedence as core's config assembly: env fields, then the section, then env preset, then `policy`. */
function originOf(
  field: Field,
  protocol: Protocol,
  raw: Record<string, unknown>,
  config: KeepaliveConfig,
): string {
  const env = ENV_FOR[field]
  if (env !== undefined && config.source.env.includes(env)) return `env ${env}`
  const section = asObject(raw[protocol])
  if (section[field] !== undefined) return `file ${protocol}.${field}`
  if (typeof section.preset === 'string') return `file ${protocol}.preset: ${section.preset}`
  if (config.source.env.includes('KEEPALIVE_POLICY')) return `env KEEPALIVE_POLICY: ${config.policy.preset}`
  const policy = raw.policy
  if (typeof policy === 'string') return `file policy: ${policy}`
  const object = asObject(policy)
  if (object[field] !== undefined) return `file policy.${field}`
  if (typeof object.preset === 'string') return `file policy.preset: ${object.preset}`
  return 'default: balanced'
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

function show(field: Field, value: number): string {
  return field === 'probes' || field === 'jitter' ? String(value) : formatDuration(value)
}

function printHuman(report: ConfigReport): void {
  line(`${colour.green('valid')}  ${report.file ?? 'no config file found: the defaults (balanced)'}`)
  if (report.env.length > 0) line(`environment: ${report.env.join(', ')}`)
  if (report.pathIdleTimeout !== null) line(`path idle timeout: ${formatDuration(report.pathIdleTimeout)}`)
  line()
  const rows = report.protocols.flatMap((p) =>
    FIELDS.map((field, i) => [
      i === 0 ? p.protocol : '',
      field,
      show(field, p.origins[field].value),
      p.origins[field].from,
    ]),
  )
  line(table(['protocol', 'field', 'value', 'from'], rows))
  line()
  for (const p of report.protocols) {
    const extra = Object.entries(p.settings)
      .map(
        ([k, v]) =>
          `${k} ${typeof v === 'number' && k !== 'maxRequestsPerSocket' ? formatDuration(v) : String(v)}`,
      )
      .join(', ')
    line(`${p.protocol.padEnd(5)} detects in ${formatDuration(p.detectionTime)}${extra ? `; ${extra}` : ''}`)
  }
}

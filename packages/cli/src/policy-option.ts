/**
 * Where a command's policy comes from: `--policy P` (a preset name, `idle/interval/probes` such as `5s/1s/3`,
 * or a JSON policy object), `--config FILE`, or else the shared config exactly as a service finds it
 * (KEEPALIVE_CONFIG, keepalive.config.* from the working directory upwards, KEEPALIVE_* overrides, `balanced`).
 */
import {
  definePolicy,
  isKeepaliveError,
  type KeepaliveConfig,
  loadConfig,
  type Policy,
  type PolicyInput,
  type Protocol,
  policyFor,
} from '@keepalive/core'
import { CliUsageError } from './errors.js'

export interface PolicyOptions {
  policy?: string
  config?: string
}

/** The policy for each protocol, the path's idle timeout, and a line saying where they came from. */
export interface PolicySource {
  readonly policyFor: (protocol: Protocol) => Policy
  readonly pathIdleTimeout: number | undefined
  /** e.g. `--policy fast`, `keepalive.config.yaml (+ KEEPALIVE_IDLE)`, `defaults (balanced)` */
  readonly describe: string
  readonly config: KeepaliveConfig | undefined
}

/** Reads `--policy`: a preset name, `idle/interval/probes`, or a JSON object. Throws CliUsageError. */
export function parsePolicyArgument(text: string): Policy {
  const trimmed = text.trim()
  let input: PolicyInput | string = trimmed
  if (trimmed.startsWith('{')) {
    try {
      input = JSON.parse(trimmed) as PolicyInput
    } catch (cause) {
      throw new CliUsageError(`--policy: not valid JSON: ${(cause as Error).message}`, { cause })
    }
  } else if (trimmed.includes('/')) {
    const parts = trimmed.split('/')
    if (parts.length !== 3) {
      throw new CliUsageError(
        `--policy: expected idle/interval/probes such as 5s/1s/3, got ${JSON.stringify(text)}`,
      )
    }
    const [idle, interval, probes] = parts as [string, string, string]
    input = { idle, interval, probes: /^\d+$/.test(probes) ? Number(probes) : (probes as unknown as number) }
  }
  try {
    return definePolicy(input as PolicyInput)
  } catch (cause) {
    if (isKeepaliveError(cause)) throw new CliUsageError(`--policy: ${cause.message}`, { cause })
    throw cause
  }
}

export async function resolvePolicy(options: PolicyOptions): Promise<PolicySource> {
  if (options.policy !== undefined && options.config !== undefined) {
    throw new CliUsageError('--policy and --config exclude each other: give one')
  }
  if (options.policy !== undefined) {
    const policy = parsePolicyArgument(options.policy)
    return {
      policyFor: () => policy,
      pathIdleTimeout: undefined,
      describe: `--policy ${options.policy}`,
      config: undefined,
    }
  }
  const config = await loadConfig(options.config === undefined ? {} : { file: options.config })
  const where = config.source.file ?? 'no config file found: defaults (balanced)'
  const env = config.source.env.length > 0 ? ` + ${config.source.env.join(', ')}` : ''
  return {
    policyFor: (protocol) => policyFor(config, protocol),
    pathIdleTimeout: config.path.idleTimeout,
    describe: `${where}${env}`,
    config,
  }
}

export const PROTOCOLS: readonly Protocol[] = ['tcp', 'http', 'mqtt', 'ssh']

/** Reads `--protocol`. Throws CliUsageError. */
export function parseProtocol(value: string): Protocol {
  if (!(PROTOCOLS as readonly string[]).includes(value)) {
    throw new CliUsageError(
      `--protocol: expected one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(value)}`,
    )
  }
  return value as Protocol
}

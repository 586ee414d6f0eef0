// CONTRACT STUB — owned by the policy/config helper.
import type { Policy, Protocol } from '../types.js'

export interface LoadConfigOptions {
  /** An explicit config file; otherwise KEEPALIVE_CONFIG, otherwise keepalive.config.{json,yaml,yml} from cwd upwards. */
  file?: string
  cwd?: string
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>
}

export interface PathConfig {
  /** The shortest idle timeout of any NAT, firewall or load balancer on the path, in ms. */
  readonly idleTimeout: number | undefined
}

export interface KeepaliveConfig {
  readonly policy: Policy
  readonly path: PathConfig
  /** Per-protocol sections as validated (durations in ms); policy fields merged by policyFor. */
  readonly tcp: Readonly<Record<string, unknown>>
  readonly http: Readonly<Record<string, unknown>>
  readonly mqtt: Readonly<Record<string, unknown>>
  readonly ssh: Readonly<Record<string, unknown>>
  /** Where it came from: the file (undefined when none was found) and the env variables that applied. */
  readonly source: { readonly file: string | undefined; readonly env: readonly string[] }
}

export async function loadConfig(_options?: LoadConfigOptions): Promise<KeepaliveConfig> {
  throw new Error('not implemented')
}

/** The policy for one protocol: the protocol's overrides merged over `policy`. */
export function policyFor(_config: KeepaliveConfig, _protocol: Protocol): Policy {
  throw new Error('not implemented')
}

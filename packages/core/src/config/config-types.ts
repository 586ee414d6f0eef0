/** The shapes of a loaded config. Durations in ms; every object frozen. */
import type { Policy, PresetName } from '../types.js'

export interface LoadConfigOptions {
  /** An explicit config file; otherwise KEEPALIVE_CONFIG, otherwise keepalive.config.{json,yaml,yml} from cwd upwards. */
  file?: string
  /** Where relative names resolve and the upward search starts. Defaults to process.cwd(). */
  cwd?: string
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>
}

export interface PathConfig {
  /** The shortest idle timeout of any NAT, firewall or load balancer on the path, in ms. */
  readonly idleTimeout: number | undefined
}

/** Policy fields a protocol section may override (validated, durations in ms). */
export type PolicyOverrides = {
  readonly preset?: PresetName
  readonly idle?: number
  readonly interval?: number
  readonly probes?: number
  readonly jitter?: number
}

export type TcpSection = PolicyOverrides & {
  /** TCP_USER_TIMEOUT in ms; `false` leaves it unset. Undefined: the adapter's default (the detection time). */
  readonly userTimeout?: number | false
}

export type HttpSection = PolicyOverrides & {
  readonly maxSocketAge?: number
  readonly maxRequestsPerSocket?: number
  readonly serverKeepAliveTimeout?: number
}

export type MqttSection = PolicyOverrides & {
  readonly pingrespTimeout?: number
}

export type SshSection = PolicyOverrides

export interface KeepaliveConfig {
  readonly policy: Policy
  readonly path: PathConfig
  /** Per-protocol sections as validated (durations in ms); policy fields merged by policyFor. */
  readonly tcp: TcpSection
  readonly http: HttpSection
  readonly mqtt: MqttSection
  readonly ssh: SshSection
  /** Where it came from: the file (undefined when none was found) and the env variables that applied. */
  readonly source: { readonly file: string | undefined; readonly env: readonly string[] }
}

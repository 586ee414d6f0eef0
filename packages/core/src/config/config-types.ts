/**
 * The shapes of a loaded config. Durations in ms; every object frozen. The section types are the zod
 * schema's output (config-schema.ts), made read-only, so the types and the validation cannot drift apart.
 */
import type * as z from 'zod'
import type {
  httpSectionSchema,
  mqttSectionSchema,
  pathSchema,
  sshSectionSchema,
  tcpSectionSchema,
} from '../schema/config-schema.js'
import type { PolicyFields } from '../schema/policy-schema.js'
import type { Policy } from '../types.js'

export interface LoadConfigOptions {
  /** An explicit config file; otherwise KEEPALIVE_CONFIG, otherwise keepalive.config.{json,yaml,yml} from cwd upwards. */
  file?: string
  /** Where relative names resolve and the upward search starts. Defaults to process.cwd(). */
  cwd?: string
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>
}

type PathFields = z.output<typeof pathSchema>

/** What the network path does to idle connections; every key present (undefined when the file sets none). */
export type PathConfig = { readonly [Key in keyof Required<PathFields>]: PathFields[Key] }

/** Policy fields a protocol section may override (validated, durations in ms). */
export type PolicyOverrides = Readonly<PolicyFields>

/** TCP: policy overrides plus `userTimeout` (TCP_USER_TIMEOUT in ms; `false` leaves it unset). */
export type TcpSection = Readonly<z.output<typeof tcpSectionSchema>>
/** HTTP: policy overrides plus the pool's `maxSocketAge`, `maxRequestsPerSocket`, `serverKeepAliveTimeout`. */
export type HttpSection = Readonly<z.output<typeof httpSectionSchema>>
/** MQTT: policy overrides plus `pingrespTimeout`. */
export type MqttSection = Readonly<z.output<typeof mqttSectionSchema>>
/** SSH: policy overrides only. */
export type SshSection = Readonly<z.output<typeof sshSectionSchema>>

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

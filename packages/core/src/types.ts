/**
 * The policy model shared by every package. A policy answers one question:
 * how long may a peer stay silent before we call it dead?
 */

/** Names of the built-in presets (see `presets`). */
export type PresetName = 'fast' | 'balanced' | 'battery' | 'linux-default'

/** A duration: milliseconds as a number, or a human string such as `"250ms"`, `"30s"`, `"5m"`, `"1h30m"`. */
export type DurationInput = number | string

/** What users write: any field may be omitted; omitted fields come from `preset` (default `balanced`). */
export interface PolicyInput {
  preset?: PresetName
  /** Silence before the first probe. */
  idle?: DurationInput
  /** Time between unanswered probes. */
  interval?: DurationInput
  /** Unanswered probes before the peer is dead (a positive integer). */
  probes?: number
  /**
   * Fraction (0 to 0.5) by which the first probe of a silent period may come *earlier* than `idle`,
   * chosen at random per period so that many connections do not probe in lock-step.
   * Jitter never moves the death deadline: a peer is still dead exactly `detectionTime` after its last sign of life.
   */
  jitter?: number
}

/** A validated, normalised, frozen policy. All durations in milliseconds. */
export interface Policy {
  readonly idle: number
  readonly interval: number
  readonly probes: number
  readonly jitter: number
  /** The preset this policy started from, if any. */
  readonly preset: PresetName | undefined
}

/** Anything a function taking a policy accepts. `undefined` means the `balanced` preset. */
export type PolicyLike = Policy | PresetName | PolicyInput | undefined

/** The protocols the toolkit knows. */
export type Protocol = 'tcp' | 'http' | 'mqtt' | 'ssh'

/** What every `check` reports, whatever the protocol; printed as a table or as JSON (`--json`). */
import type { Policy, Protocol } from '@keepalive/core'

export interface RoundTrips {
  /** What was timed, e.g. "TCP handshake", "PINGREQ → PINGRESP". */
  readonly what: string
  /** Each sample, ms. */
  readonly samples: readonly number[]
  readonly min: number
  readonly median: number
  readonly max: number
}

export interface CheckResult {
  /** The URL checked, without credentials. */
  readonly url: string
  readonly protocol: Protocol
  readonly policy: Policy
  /** What the policy asked for, by native names. */
  readonly asked: Readonly<Record<string, number | string | boolean | null>>
  /** What was negotiated or applied, read back where the protocol lets us (the kernel for TCP). */
  readonly applied: Readonly<Record<string, number | string | boolean | null>>
  readonly roundTrips: RoundTrips
  readonly warnings: readonly string[]
}

export interface CheckOptions {
  readonly policy: Policy
  /** Connect/answer timeout, ms. */
  readonly timeout: number
  /** Round trips to time. */
  readonly samples: number
}

export function roundTrips(what: string, samples: readonly number[]): RoundTrips {
  const sorted = [...samples].sort((a, b) => a - b)
  const r = (n: number) => Math.round(n * 1000) / 1000
  return {
    what,
    samples: samples.map(r),
    min: r(sorted[0] ?? Number.NaN),
    median: r(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN),
    max: r(sorted[sorted.length - 1] ?? Number.NaN),
  }
}

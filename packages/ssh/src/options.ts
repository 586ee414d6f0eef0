/**
 * ssh2 configs for a policy: `sshClientOptions` for `new Client().connect(…)`, `sshServerOptions` for
 * `new Server(…)`. The arithmetic is core's `sshSettings` (one interval I = min(idle, detectionTime / (probes + 1)),
 * CountMax filling the detection time: never later than the policy asks); these only merge it into a copy of the
 * caller's config.
 */
import { definePolicy, InvalidArgumentError, type PolicyLike, sshSettings } from '@keepalive/core'

/** The two ssh2 keepalive fields (the same names on Client and Server). */
export interface Ssh2KeepaliveConfig {
  /** ms between keepalive requests while nothing is received. */
  keepaliveInterval: number
  /** Unanswered requests before ssh2 ends the connection: (count + 1) × interval after the last sign of life. */
  keepaliveCountMax: number
}

export type WithSsh2Keepalive<T> = Omit<T, keyof Ssh2KeepaliveConfig> & Ssh2KeepaliveConfig

/**
 * ssh2 `Client` connect options: `base` (not modified) with `keepaliveInterval` and `keepaliveCountMax` for the
 * policy. ssh2's client counts only replies as life (a connection busy streaming can be cut: ssh2 #474); pair
 * it with `watchSsh`, which makes any received byte count.
 */
export function sshClientOptions<T extends object = Record<never, never>>(
  policy?: PolicyLike,
  base?: T,
): WithSsh2Keepalive<T> {
  return merge('sshClientOptions', policy, base, 'client')
}

/**
 * ssh2 `Server` config: `base` (not modified) with `keepaliveInterval` and `keepaliveCountMax` for the policy.
 * ssh2's server keepalive is on by default (15 s × 3, undocumented); these replace the default. Unlike
 * OpenSSH's `ClientAliveCountMax 0`, ssh2 reads a count of 0 as "give up after one silent interval", so a count
 * of 0 is never produced.
 */
export function sshServerOptions<T extends object = Record<never, never>>(
  policy?: PolicyLike,
  base?: T,
): WithSsh2Keepalive<T> {
  return merge('sshServerOptions', policy, base, 'server')
}

function merge<T extends object>(
  caller: string,
  policy: PolicyLike | undefined,
  base: T | undefined,
  side: 'client' | 'server',
): WithSsh2Keepalive<T> {
  const settings = sshSettings(definePolicy(policy))[side]
  if (base === undefined) return { ...settings } as WithSsh2Keepalive<T>
  if (base === null || typeof base !== 'object' || Array.isArray(base)) {
    throw new InvalidArgumentError(
      `${caller}: base must be an ssh2 config object, got ${base === null ? 'null' : Array.isArray(base) ? 'an array' : typeof base}`,
    )
  }
  let copy: Record<string, unknown>
  try {
    copy = { ...(base as Record<string, unknown>) }
  } catch (error) {
    throw new InvalidArgumentError(
      `${caller}: base could not be copied: ${(error as Error)?.message ?? error}`,
      {
        cause: error,
      },
    )
  }
  copy.keepaliveInterval = settings.keepaliveInterval
  copy.keepaliveCountMax = settings.keepaliveCountMax
  return copy as WithSsh2Keepalive<T>
}

/**
 * `socketIoOptions(policy?, base?)`: socket.io / engine.io server options (`pingInterval`, `pingTimeout`) that
 * never detect a dead client later than the policy. The arithmetic, and what engine.io cannot express (`warnings`),
 * is core's `socketIoSettings`; this merges it into a copy of the caller's options.
 */
import { definePolicy, InvalidArgumentError, type PolicyLike, socketIoSettings } from '@keepalive/core'
import { describeValue } from '@keepalive/core/internal'

export interface SocketIoPingOptions {
  /** ms from the last pong to the server's next ping. */
  pingInterval: number
  /** ms the server waits for the pong before it closes the connection. */
  pingTimeout: number
}

export type WithSocketIoPing<T> = Omit<T, keyof SocketIoPingOptions> & SocketIoPingOptions

/**
 * `new Server(httpServer, socketIoOptions(policy, { cors: … }))`: `base` (not modified) with `pingInterval` and
 * `pingTimeout` for the policy. Read `socketIoSettings(policy).warnings` (core) for what differs from the policy.
 */
export function socketIoOptions<T extends object = Record<never, never>>(
  policy?: PolicyLike,
  base?: T,
): WithSocketIoPing<T> {
  const { pingInterval, pingTimeout } = socketIoSettings(definePolicy(policy))
  if (base === undefined) return { pingInterval, pingTimeout } as WithSocketIoPing<T>
  if (base === null || typeof base !== 'object' || Array.isArray(base)) {
    throw new InvalidArgumentError(
      `socketIoOptions: base must be a socket.io / engine.io options object, got ${describeValue(base)}`,
    )
  }
  let copy: Record<string, unknown>
  try {
    copy = { ...(base as Record<string, unknown>) }
  } catch (error) {
    throw new InvalidArgumentError(
      `socketIoOptions: base could not be copied: ${(error as Error)?.message ?? String(error)}`,
      { cause: error },
    )
  }
  copy.pingInterval = pingInterval
  copy.pingTimeout = pingTimeout
  return copy as WithSocketIoPing<T>
}

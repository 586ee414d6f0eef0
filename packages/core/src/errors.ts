/**
 * Errors. One base class and one class per failure, each with a stable `code` that users match on (the undici
 * habit). A failure class is one line, `defineError(code, name)` (the @fastify/error habit), so an adapter defines
 * its own in its own package. `instanceof` keeps working when two copies of a package are loaded: instances carry
 * a `Symbol.for` brand, and classes are told apart by code, not by identity. Every code is listed in the README of
 * the package that defines it.
 */

import { describeValue } from './schema/describe-value.js'

/** Every code starts with `KA_ERR_`; core's are below, each adapter's are in its own `errors.ts`. */
export type KeepaliveErrorCode = `KA_ERR_${string}`

const BRAND = Symbol.for('keepalive.error')

export interface KeepaliveErrorOptions {
  cause?: unknown
}

/**
 * The base of every error the toolkit throws or emits. `err instanceof InvalidPolicyError` is true for any object
 * branded as a keepalive error with that class's code, whichever copy of the package created it.
 */
export class KeepaliveError extends Error {
  /** Set on the classes `defineError` makes: the one code their instances carry. */
  static readonly code: KeepaliveErrorCode | undefined = undefined
  readonly code: KeepaliveErrorCode

  constructor(code: KeepaliveErrorCode, message: string, options?: KeepaliveErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
  }

  static override [Symbol.hasInstance](instance: unknown): boolean {
    if (instance === null || typeof instance !== 'object') return false
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of `instanceof`.
    const code = (this as typeof KeepaliveError).code
    try {
      if ((instance as Record<symbol, unknown>)[BRAND] !== true) return false
      return code === undefined || (instance as KeepaliveError).code === code
    } catch {
      // A Proxy whose traps throw is not one of ours; `instanceof` answers, it does not throw.
      return false
    }
  }
}

// The brand and the name live on the prototypes, not on each instance: a monitor builds one error per death, and
// thousands of peers can die in one tick (an own symbol property and name per instance cost ~0.6 µs of each death).
Object.defineProperty(KeepaliveError.prototype, BRAND, { value: true })
Object.defineProperty(KeepaliveError.prototype, 'name', {
  value: 'KeepaliveError',
  writable: true,
  configurable: true,
})

/** A class `defineError` made: `new Class(message, { cause })`, with `Class.code` and `instance.code`. */
export interface KeepaliveErrorClass<Code extends KeepaliveErrorCode> {
  new (message: string, options?: KeepaliveErrorOptions): KeepaliveError & { readonly code: Code }
  readonly code: Code
}

/**
 * Defines the error class for one failure:
 * `export const MqttPingrespTimeoutError = defineError('KA_ERR_MQTT_PINGRESP_TIMEOUT', 'MqttPingrespTimeoutError')
export type MqttPingrespTimeoutError = InstanceType<typeof MqttPingrespTimeoutError>`.
 */
export function defineError<const Code extends KeepaliveErrorCode>(
  code: Code,
  name: string,
): KeepaliveErrorClass<Code> {
  if (typeof code !== 'string' || !/^KA_ERR_[A-Z0-9_]+$/.test(code)) {
    throw new InvalidArgumentError(
      `defineError: code must look like "KA_ERR_SOME_FAILURE", got ${describeValue(code)}`,
    )
  }
  if (typeof name !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new InvalidArgumentError(`defineError: name must be a class name, got ${describeValue(name)}`)
  }
  const ErrorClass = class extends KeepaliveError {
    static override readonly code: Code = code
    constructor(message: string, options?: KeepaliveErrorOptions) {
      super(code, message, options)
    }
  }
  Object.defineProperty(ErrorClass, 'name', { value: name })
  Object.defineProperty(ErrorClass.prototype, 'name', { value: name, writable: true, configurable: true })
  return ErrorClass as unknown as KeepaliveErrorClass<Code>
}

/** A policy (or a policy inside a config file) is invalid. */
export const InvalidPolicyError = defineError('KA_ERR_INVALID_POLICY', 'InvalidPolicyError')
export type InvalidPolicyError = InstanceType<typeof InvalidPolicyError>
/** An argument other than a policy is invalid (wrong type, unknown key, out of range). */
export const InvalidArgumentError = defineError('KA_ERR_INVALID_ARGUMENT', 'InvalidArgumentError')
export type InvalidArgumentError = InstanceType<typeof InvalidArgumentError>
/** A config file named by `file` or `KEEPALIVE_CONFIG` does not exist or cannot be read. */
export const ConfigNotFoundError = defineError('KA_ERR_CONFIG_NOT_FOUND', 'ConfigNotFoundError')
export type ConfigNotFoundError = InstanceType<typeof ConfigNotFoundError>
/** A config file is not valid JSON or YAML. */
export const ConfigParseError = defineError('KA_ERR_CONFIG_PARSE', 'ConfigParseError')
export type ConfigParseError = InstanceType<typeof ConfigParseError>
/** A config file (or an environment variable) parses but breaks the schema or a rule of the path. */
export const ConfigInvalidError = defineError('KA_ERR_CONFIG_INVALID', 'ConfigInvalidError')
export type ConfigInvalidError = InstanceType<typeof ConfigInvalidError>
/** A probe was not answered in time (carried by a monitor's `dead` event). */
export const ProbeTimeoutError = defineError('KA_ERR_PROBE_TIMEOUT', 'ProbeTimeoutError')
export type ProbeTimeoutError = InstanceType<typeof ProbeTimeoutError>
/** A probe function threw or rejected. */
export const ProbeFailedError = defineError('KA_ERR_PROBE_FAILED', 'ProbeFailedError')
export type ProbeFailedError = InstanceType<typeof ProbeFailedError>

/** True for any `KeepaliveError` (from any copy of the package), optionally of one code. */
export function isKeepaliveError(value: unknown, code?: KeepaliveErrorCode): value is KeepaliveError {
  return value instanceof KeepaliveError && (code === undefined || value.code === code)
}

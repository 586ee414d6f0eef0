/**
 * Errors. One base class, one subclass per failure, each with a stable `code` that users match on
 * (the undici habit). `instanceof` keeps working when two copies of the package are loaded, because
 * instances carry a `Symbol.for` brand and subclasses are told apart by code, not by identity. Every code is listed in the core README.
 */

export const errorCodes = {
  /** A policy (or a policy inside a config file) is invalid. */
  INVALID_POLICY: 'KA_ERR_INVALID_POLICY',
  /** An argument other than a policy is invalid (wrong type, out of range). */
  INVALID_ARGUMENT: 'KA_ERR_INVALID_ARGUMENT',
  /** A config file named by `file` or `KEEPALIVE_CONFIG` does not exist or cannot be read. */
  CONFIG_NOT_FOUND: 'KA_ERR_CONFIG_NOT_FOUND',
  /** A config file is not valid JSON or YAML. */
  CONFIG_PARSE: 'KA_ERR_CONFIG_PARSE',
  /** A config file (or an environment variable) parses but breaks the schema or a rule of the path. */
  CONFIG_INVALID: 'KA_ERR_CONFIG_INVALID',
  /** A probe was not answered in time (carried by a monitor's `dead` event). */
  PROBE_TIMEOUT: 'KA_ERR_PROBE_TIMEOUT',
  /** A probe function threw or rejected. */
  PROBE_FAILED: 'KA_ERR_PROBE_FAILED',
  /** The platform or Node version cannot set a TCP keepalive option. */
  TCP_UNSUPPORTED: 'KA_ERR_TCP_UNSUPPORTED',
  /** The socket is closed or destroyed. */
  TCP_SOCKET_CLOSED: 'KA_ERR_TCP_SOCKET_CLOSED',
  /** The stream is not a TCP socket (a pipe, a Unix socket, a plain stream). */
  TCP_NOT_TCP: 'KA_ERR_TCP_NOT_TCP',
  /** setsockopt/getsockopt failed (errno in the message and in `errno`). */
  TCP_SOCKOPT_FAILED: 'KA_ERR_TCP_SOCKOPT_FAILED',
} as const

export type KeepaliveErrorCode = (typeof errorCodes)[keyof typeof errorCodes]

const BRAND = Symbol.for('keepalive.error')

export interface KeepaliveErrorOptions {
  cause?: unknown
}

/**
 * The base of every error the toolkit throws or emits. Subclasses differ only in `code`;
 * `err instanceof InvalidPolicyError` is true for any object branded as a keepalive error with that code,
 * whichever copy of the package created it.
 */
export class KeepaliveError extends Error {
  /** Set on subclasses: the one code their instances carry. */
  static readonly code: KeepaliveErrorCode | undefined = undefined
  readonly code: KeepaliveErrorCode

  constructor(code: KeepaliveErrorCode, message: string, options?: KeepaliveErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.name = 'KeepaliveError'
    Object.defineProperty(this, BRAND, { value: true })
  }

  static override [Symbol.hasInstance](instance: unknown): boolean {
    if (instance === null || typeof instance !== 'object') return false
    if ((instance as Record<symbol, unknown>)[BRAND] !== true) return false
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of `instanceof`.
    const code = (this as typeof KeepaliveError).code
    return code === undefined || (instance as KeepaliveError).code === code
  }
}

export class InvalidPolicyError extends KeepaliveError {
  static override readonly code = errorCodes.INVALID_POLICY
  constructor(message: string, options?: KeepaliveErrorOptions) {
    super(errorCodes.INVALID_POLICY, message, options)
    this.name = 'InvalidPolicyError'
  }
}

export class InvalidArgumentError extends KeepaliveError {
  static override readonly code = errorCodes.INVALID_ARGUMENT
  constructor(message: string, options?: KeepaliveErrorOptions) {
    super(errorCodes.INVALID_ARGUMENT, message, options)
    this.name = 'InvalidArgumentError'
  }
}

export class ConfigNotFoundError extends KeepaliveError {
  static override readonly code = errorCodes.CONFIG_NOT_FOUND
  constructor(message: string, options?: KeepaliveErrorOptions) {
    super(errorCodes.CONFIG_NOT_FOUND, message, options)
    this.name = 'ConfigNotFoundError'
  }
}

export class ConfigParseError extends KeepaliveError {
  static override readonly code = errorCodes.CONFIG_PARSE
  constructor(message: string, options?: KeepaliveErrorOptions) {
    super(errorCodes.CONFIG_PARSE, message, options)
    this.name = 'ConfigParseError'
  }
}

export class ConfigInvalidError extends KeepaliveError {
  static override readonly code = errorCodes.CONFIG_INVALID
  constructor(message: string, options?: KeepaliveErrorOptions) {
    super(errorCodes.CONFIG_INVALID, message, options)
    this.name = 'ConfigInvalidError'
  }
}

export class ProbeTimeoutError extends KeepaliveError {
  static override readonly code = errorCodes.PROBE_TIMEOUT
  constructor(message: string, options?: KeepaliveErrorOptions) {
    super(errorCodes.PROBE_TIMEOUT, message, options)
    this.name = 'ProbeTimeoutError'
  }
}

export class ProbeFailedError extends KeepaliveError {
  static override readonly code = errorCodes.PROBE_FAILED
  constructor(message: string, options?: KeepaliveErrorOptions) {
    super(errorCodes.PROBE_FAILED, message, options)
    this.name = 'ProbeFailedError'
  }
}

export class TcpUnsupportedError extends KeepaliveError {
  static override readonly code = errorCodes.TCP_UNSUPPORTED
  constructor(message: string, options?: KeepaliveErrorOptions) {
    super(errorCodes.TCP_UNSUPPORTED, message, options)
    this.name = 'TcpUnsupportedError'
  }
}

export class TcpSocketClosedError extends KeepaliveError {
  static override readonly code = errorCodes.TCP_SOCKET_CLOSED
  constructor(message: string, options?: KeepaliveErrorOptions) {
    super(errorCodes.TCP_SOCKET_CLOSED, message, options)
    this.name = 'TcpSocketClosedError'
  }
}

export class TcpNotTcpError extends KeepaliveError {
  static override readonly code = errorCodes.TCP_NOT_TCP
  constructor(message: string, options?: KeepaliveErrorOptions) {
    super(errorCodes.TCP_NOT_TCP, message, options)
    this.name = 'TcpNotTcpError'
  }
}

/** setsockopt/getsockopt failed; `errno` is the C errno. */
export class TcpSockoptError extends KeepaliveError {
  static override readonly code = errorCodes.TCP_SOCKOPT_FAILED
  readonly errno: number
  constructor(message: string, errno: number, options?: KeepaliveErrorOptions) {
    super(errorCodes.TCP_SOCKOPT_FAILED, message, options)
    this.name = 'TcpSockoptError'
    this.errno = errno
  }
}

/** True for any `KeepaliveError` (from any copy of the package), optionally of one code. */
export function isKeepaliveError(value: unknown, code?: KeepaliveErrorCode): value is KeepaliveError {
  return value instanceof KeepaliveError && (code === undefined || value.code === code)
}

/**
 * Options objects are programmer input: each is read once, here, into a plain snapshot, so that a typo
 * (`{ pathIdleTimout }`), a value of the wrong type, or a hostile object (a throwing getter, a Proxy whose
 * traps throw) is an InvalidArgumentError naming the function and the field, never a TypeError from inside
 * and never silently ignored. Later code reads only the snapshot.
 */
import { InvalidArgumentError } from '../errors.js'
import { describeValue } from './describe-value.js'
import { didYouMean } from './suggest.js'

/** The fields of `options` (undefined: none): its own, checked against `allowed`, and allowed ones it inherits. */
export function readOptions<Key extends string>(
  fn: string,
  options: unknown,
  allowed: readonly Key[],
): Partial<Record<Key, unknown>> {
  if (options === undefined) return {}
  const snapshot: Partial<Record<Key, unknown>> = Object.create(null)
  try {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new InvalidArgumentError(`${fn}: options must be an object, got ${describeValue(options)}`)
    }
    for (const key of Object.keys(options)) {
      if (!(allowed as readonly string[]).includes(key)) {
        throw new InvalidArgumentError(
          `${fn}: unknown option ${JSON.stringify(key)}${didYouMean(key, allowed)}; allowed: ${allowed.join(', ')}`,
        )
      }
      snapshot[key as Key] = (options as Record<string, unknown>)[key]
    }
    // Allowed fields an options object inherits (a class instance's getters) count too, read the same way.
    for (const key of allowed) {
      if (Object.hasOwn(snapshot, key)) continue
      const value = (options as Record<string, unknown>)[key]
      if (value !== undefined) snapshot[key] = value
    }
  } catch (cause) {
    if (cause instanceof InvalidArgumentError) throw cause
    throw new InvalidArgumentError(`${fn}: could not read the options (${describeValue(options)})`, { cause })
  }
  return snapshot
}

/** An environment (process.env or a stand-in): an object whose values are strings or undefined, copied once. */
export function readEnv(fn: string, env: unknown): Readonly<Record<string, string | undefined>> {
  const snapshot: Record<string, string | undefined> = Object.create(null)
  try {
    if (env === null || typeof env !== 'object' || Array.isArray(env)) {
      throw new InvalidArgumentError(`${fn}: options.env must be an object, got ${describeValue(env)}`)
    }
    for (const name of Object.keys(env)) {
      const value = (env as Record<string, unknown>)[name]
      if (value !== undefined && typeof value !== 'string') {
        throw new InvalidArgumentError(
          `${fn}: options.env.${name} must be a string (environment values are text), got ${describeValue(value)}`,
        )
      }
      snapshot[name] = value
    }
  } catch (cause) {
    if (cause instanceof InvalidArgumentError) throw cause
    throw new InvalidArgumentError(`${fn}: could not read options.env (${describeValue(env)})`, { cause })
  }
  return snapshot
}

/**
 * A plain copy of the own enumerable fields of `options` (undefined: none), made once, for functions whose options
 * other packages extend (so no key list here to fall behind). A hostile object is still an InvalidArgumentError.
 */
export function copyOptions<T extends object>(fn: string, options: T | undefined): T {
  if (options === undefined) return {} as T
  try {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError(`${fn}: options must be an object, got ${describeValue(options)}`)
    }
    return Object.assign({}, options)
  } catch (cause) {
    if (cause instanceof InvalidArgumentError) throw cause
    throw new InvalidArgumentError(`${fn}: could not read the options (${describeValue(options)})`, { cause })
  }
}

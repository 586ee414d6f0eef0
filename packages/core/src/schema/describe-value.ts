/**
 * Renders any received value for an error message ("got …"): strings quoted, numbers as JavaScript
 * prints them (NaN, Infinity, -0 stay visible), containers as short JSON. Never throws, whatever it is
 * given, because it runs while reporting another error.
 */
const MAX_LENGTH = 60

export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return truncate(JSON.stringify(value))
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return `${value}n`
    case 'boolean':
    case 'undefined':
      return String(value)
    case 'symbol':
      return 'a symbol'
    case 'function':
      return 'a function'
  }
  return describeObject(value as object | null)
}

function describeObject(value: object | null): string {
  if (value === null) return 'null'
  const kind = instanceKind(value)
  if (kind !== undefined) return kind
  try {
    const json = JSON.stringify(value)
    if (typeof json === 'string') return truncate(json)
    return Array.isArray(value) ? 'an array' : 'an object'
  } catch {
    // Circular or hostile (a throwing toJSON or getter, a revoked Proxy that even Array.isArray refuses).
    return 'an object'
  }
}

/** "a Date", "a Map": JSON would print a Date as a plain string and a Map as {}, hiding what it was. */
function instanceKind(value: object): string | undefined {
  try {
    const prototype = Object.getPrototypeOf(value)
    if (prototype === null || Array.isArray(value) || Object.getPrototypeOf(prototype) === null)
      return undefined
    const name = typeof prototype.constructor === 'function' ? prototype.constructor.name : ''
    return name === '' ? 'an object' : `a ${name}`
  } catch {
    return 'an object'
  }
}

function truncate(text: string): string {
  return text.length <= MAX_LENGTH ? text : `${text.slice(0, MAX_LENGTH - 1)}…`
}

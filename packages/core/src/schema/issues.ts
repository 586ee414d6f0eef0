/**
 * Turns zod issues into problems a person can act on: the field's path, what the field allows, the
 * value received, and for a typo the closest allowed name. Zod's own messages ("Invalid input") say
 * none of that, so each schema leaf states its rule (see policy-schema.ts) and this module adds the rest.
 */
import * as z from 'zod'
import { describeValue } from './describe-value.js'
import { didYouMean } from './suggest.js'

export type IssuePath = readonly (string | number)[]

/** Unknown fields listed per object; the rest are counted ("and 39995 more unknown fields"). */
export const MAX_UNKNOWN_LISTED = 5

export interface Problem {
  /** Where in the input: `['tcp', 'probes']`. For an unknown field, the path of that field. */
  readonly path: IssuePath
  /** True when the problem is the key itself (an unknown field), not its value. */
  readonly isKey: boolean
  /** One sentence: `"tcp.probes" must be a whole number from 1 to 1000, got 0`. */
  readonly message: string
}

/**
 * One problem per offending path (zod may report several broken rules for one value; the first says enough).
 * `rootLabel` names the whole input when the problem is at its root ("policy", "config").
 */
export function problemsFrom(
  error: z.ZodError,
  input: unknown,
  schema: z.ZodType,
  rootLabel: string,
): Problem[] {
  const problems: Problem[] = []
  const seen = new Set<string>()
  for (const issue of error.issues) {
    for (const problem of problemsOfIssue(issue, input, schema, rootLabel)) {
      const key = JSON.stringify(problem.path)
      if (seen.has(key)) continue
      seen.add(key)
      problems.push(problem)
    }
  }
  return problems
}

function problemsOfIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  schema: z.ZodType,
  rootLabel: string,
): Problem[] {
  const path = issue.path.filter((part) => typeof part !== 'symbol') as (string | number)[]
  if (issue.code === 'unrecognized_keys') {
    const allowed = objectKeysAt(schema, path)
    const allowedText = allowed.length > 0 ? `; allowed: ${allowed.join(', ')}` : ''
    // A few are enough to act on; listing (and locating) 40k of them made a hostile file cost seconds.
    const listed = issue.keys.slice(0, MAX_UNKNOWN_LISTED).map((key) => ({
      path: [...path, key],
      isKey: true,
      message: `unknown field ${quote(labelOf([...path, key], rootLabel))}${didYouMean(key, allowed)}${allowedText}`,
    }))
    const more = issue.keys.length - listed.length
    if (more === 0) return listed
    const where = path.length === 0 ? rootLabel : quote(labelOf(path, rootLabel))
    return [...listed, { path, isKey: false, message: `and ${more} more unknown fields in ${where}` }]
  }
  if (issue.code === 'invalid_union') {
    const matched = branchOfMatchingType(issue, valueAt(input, path))
    if (matched !== undefined) {
      return matched.flatMap((inner) =>
        problemsOfIssue({ ...inner, path: [...path, ...inner.path] }, input, schema, rootLabel),
      )
    }
  }
  const value = valueAt(input, path)
  const hint = typeof value === 'string' ? didYouMean(value, allowedValues(issue)) : ''
  const label = path.length === 0 ? rootLabel : quote(labelOf(path, rootLabel))
  return [{ path, isKey: false, message: `${label} ${issue.message}, got ${describeValue(value)}${hint}` }]
}

/**
 * When exactly one option of a union accepted the value's type (an object given where a preset name
 * or an object is allowed), its issues say what is wrong far better than "must be one of the options".
 */
function branchOfMatchingType(
  issue: z.core.$ZodIssueInvalidUnion,
  value: unknown,
): z.core.$ZodIssue[] | undefined {
  if (!('errors' in issue) || issue.errors.length === 0) return undefined
  // First choice: the option that accepted the value itself and only objects to something inside it.
  const insideOnly = issue.errors.filter((branch) => branch.every((inner) => inner.path.length > 0))
  if (insideOnly.length === 1) return insideOnly[0]
  const typeMatched = issue.errors.filter(
    (branch) => !branch.some((inner) => inner.path.length === 0 && rejectsType(inner, value)),
  )
  return typeMatched.length === 1 ? typeMatched[0] : undefined
}

/** True when the issue is about the kind of value (an object where a string was expected), not its content. */
function rejectsType(issue: z.core.$ZodIssue, value: unknown): boolean {
  if (issue.code === 'invalid_type') return true
  return issue.code === 'invalid_value' && !issue.values.some((allowed) => typeof allowed === typeof value)
}

/** The literal values an issue lists as allowed (an enum's, also inside a union): candidates for "did you mean". */
function allowedValues(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'invalid_value') return issue.values.filter((v): v is string => typeof v === 'string')
  if (issue.code === 'invalid_union') return issue.errors.flat().flatMap(allowedValues)
  return []
}

function labelOf(path: IssuePath, rootLabel: string): string {
  return path.length === 0 ? rootLabel : path.join('.')
}

function quote(label: string): string {
  return `"${label}"`
}

/** The value at `path` inside the raw input (own properties only, so a hostile prototype is not consulted). */
export function valueAt(input: unknown, path: IssuePath): unknown {
  let current = input
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined
    if (!Object.hasOwn(current, part)) return undefined
    current = (current as Record<string | number, unknown>)[part]
  }
  return current
}

/** The field names an object schema at `path` allows, for "did you mean" and "allowed: …". */
export function objectKeysAt(schema: z.ZodType, path: IssuePath): string[] {
  let current: z.ZodType | undefined = schema
  for (const part of path) {
    const object = findObject(current)
    current = object?.shape[String(part)] as z.ZodType | undefined
  }
  const object = findObject(current)
  return object === undefined ? [] : Object.keys(object.shape)
}

/** Looks through optional, pipe and union wrappers for the object schema inside. */
function findObject(schema: z.ZodType | undefined): z.ZodObject | undefined {
  if (schema === undefined) return undefined
  if (schema instanceof z.ZodObject) return schema
  if (schema instanceof z.ZodOptional) return findObject(schema.unwrap() as z.ZodType)
  if (schema instanceof z.ZodPipe) return findObject(schema.in as z.ZodType)
  if (schema instanceof z.ZodUnion) {
    for (const option of schema.options) {
      const found = findObject(option as z.ZodType)
      if (found !== undefined) return found
    }
  }
  return undefined
}

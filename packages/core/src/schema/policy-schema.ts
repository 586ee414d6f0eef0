/**
 * The zod schemas of a policy. Each leaf carries an error function that states the rule for that
 * field ("must be a whole number from 1 to 1000"); `issues.ts` adds the field's name and the value
 * received. The same schemas build the config file schema and, through it, the published JSON Schema.
 */
import * as z from 'zod'
import { checkDuration, DURATION_PATTERN, DURATION_RULE, MAX_DURATION_MS } from '../duration.js'
import { MAX_JITTER, MAX_PROBES, PRESET_NAMES } from './limits.js'

const PRESET_LIST = PRESET_NAMES.map((name) => `"${name}"`).join(', ')

export const PRESET_RULE = `must be one of ${PRESET_LIST}`
export const PROBES_RULE = `must be a whole number from 1 to ${MAX_PROBES}`
export const JITTER_RULE = `must be a number from 0 to ${MAX_JITTER}`
export const POLICY_OBJECT_RULE = 'must be an object { preset?, idle?, interval?, probes?, jitter? }'
export const POLICY_RULE = `must be a preset name (${PRESET_LIST}) or an object { preset?, idle?, interval?, probes?, jitter? }`

export const presetSchema = z.enum(PRESET_NAMES, { error: PRESET_RULE }).meta({
  description:
    'A built-in preset: fast (5s/1s/3), balanced (30s/10s/3), battery (210s/30s/3), linux-default (7200s/75s/9).',
})

const durationError = (issue: { input?: unknown }) => durationRule(issue.input, '')

/**
 * A duration: positive whole milliseconds up to MAX_DURATION_MS, or a string such as "30s" or "1h30m".
 * Output: milliseconds. Registered as `Duration` so the JSON Schema defines it once and refers to it.
 */
export const durationSchema = z
  .union(
    [
      z
        .number({ error: durationError })
        .int({ error: durationError })
        .positive({ error: durationError })
        .max(MAX_DURATION_MS, { error: durationError }),
      z.string({ error: durationError }).regex(new RegExp(DURATION_PATTERN), { error: durationError }),
    ],
    { error: durationError },
  )
  .transform((value, ctx): number => {
    const check = checkDuration(value)
    if (check.ok) return check.ms
    ctx.issues.push({ code: 'custom', message: check.rule, input: value })
    return z.NEVER
  })
  .meta({
    id: 'Duration',
    description: `Milliseconds (a positive integer up to ${MAX_DURATION_MS}), or a string of numbers with units, largest first: "250ms", "30s", "5m", "1h30m", "2d".`,
  })

/** The duration schema with a field's own description (the JSON Schema refers to `Duration`). */
export function describedDuration(description: string) {
  return durationSchema.meta({ description })
}

/** A duration that may also be `false` (the setting switched off). */
export function durationOrFalseSchema(description: string) {
  const error = (issue: { input?: unknown }) => durationRule(issue.input, ' or false to switch it off')
  return z.union([z.literal(false), durationSchema], { error }).meta({ description })
}

function durationRule(value: unknown, suffix: string): string {
  const check = checkDuration(value)
  return `${check.ok ? DURATION_RULE : check.rule}${suffix}`
}

export const probesSchema = z
  .number({ error: PROBES_RULE })
  .int({ error: PROBES_RULE })
  .min(1, { error: PROBES_RULE })
  .max(MAX_PROBES, { error: PROBES_RULE })
  .meta({ id: 'Probes', description: 'Unanswered probes before the peer is declared dead.' })

export const jitterSchema = z
  .number({ error: JITTER_RULE })
  .min(0, { error: JITTER_RULE })
  .max(MAX_JITTER, { error: JITTER_RULE })
  .meta({
    id: 'Jitter',
    description: 'Fraction (0 to 0.5) by which the first probe of a silent period may come early.',
  })

/** The policy fields, reused by the per-protocol sections of the config file (as overrides). */
export const policyFields = {
  preset: presetSchema.optional(),
  idle: describedDuration('Silence before the first probe: ms, or a string like "30s".').optional(),
  interval: describedDuration('Time between unanswered probes: ms, or a string like "10s".').optional(),
  probes: probesSchema.optional(),
  jitter: jitterSchema.optional(),
}

/** A policy input object. Unknown fields are errors, so a typo (`idel`) never falls back to a default. */
export const policyInputSchema = z
  .strictObject(policyFields, { error: POLICY_OBJECT_RULE })
  .meta({ id: 'PolicyInput', description: 'A policy: omitted fields come from `preset` (default balanced).' })

/** A preset name or a policy input object: what the config file's `policy` takes. */
export const policyLikeSchema = z.union([presetSchema, policyInputSchema], { error: POLICY_RULE }).meta({
  description: 'The policy for every protocol: a preset name or { preset?, idle, interval, probes, jitter }.',
})

/** A policy input after validation: durations in ms. */
export type PolicyFields = z.output<typeof policyInputSchema>

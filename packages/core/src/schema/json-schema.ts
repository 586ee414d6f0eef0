/**
 * The JSON Schema of the config file, for editors (`"$schema"` in JSON, a yaml-language-server
 * comment in YAML). Generated from the zod schema that validates the file, so the two cannot disagree;
 * a test compares the committed keepalive.schema.json with a fresh generation.
 */
import * as z from 'zod'
import { MAX_DURATION_MS, UNIT_WORDS, unitSize } from '../duration.js'
import { configFileSchema } from './config-schema.js'

/** Where the schema is published: the package's `./schema.json` export. */
export const CONFIG_SCHEMA_ID = 'https://unpkg.com/@keepalive/core/keepalive.schema.json'

/** The JSON Schema (draft 2020-12) of keepalive.config.{json,yaml,yml}, as the user writes it (input side). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configFileSchema, { io: 'input', target: 'draft-2020-12' })
  const duration = (schema.$defs as Record<string, DurationDef> | undefined)?.Duration
  const text = duration?.anyOf.find((branch) => branch.type === 'string')
  if (!duration || !text)
    throw new Error('json-schema: the zod schema no longer has a Duration string branch')
  // zod publishes the parser's lexical grammar; the parser then also rejects zero, fractions of a millisecond and
  // units out of order, which a validator must know too, so the published pattern says all of it.
  text.pattern = STRICT_DURATION_PATTERN
  duration.description = `${duration.description} ${DURATION_SCHEMA_NOTE}`
  return { ...schema, $id: CONFIG_SCHEMA_ID }
}

interface DurationDef {
  description: string
  anyOf: { type: string; pattern?: string }[]
}

/**
 * For each unit size, the fraction digits that always give whole milliseconds: a fraction with n digits of a unit of
 * U ms is whole iff 10^n divides digits × U. ms: none but zeros; s (10^3): 3 digits; m (2^5·3·5^4): 4, a 5th of 0
 * or 5; h (2^7·3^2·5^5): 5, then 5 | 25 | 75 | 250 | 750 (with zeros); d and w (2^10·…·5^5): 5 (more digits that
 * still give whole ms, such as "0.000005d" = 432 ms, are left to the parser: see DURATION_SCHEMA_NOTE).
 */
const FRACTION_DIGITS: Record<number, string> = {
  1: '0+',
  1000: String.raw`\d{1,3}0*`,
  60000: String.raw`\d{1,4}(?:[05]0*)?`,
  3600000: String.raw`\d{1,5}(?:[05]0*|[27]50*)?`,
  86400000: String.raw`\d{1,5}0*`,
  604800000: String.raw`\d{1,5}0*`,
}

/** Unit words by size, largest unit first (the order the parser requires); words the parser cannot size are left out. */
function unitGroups(): [number, string[]][] {
  const groups = new Map<number, string[]>()
  for (const word of UNIT_WORDS) {
    const size = unitSize(word)
    if (!Number.isFinite(size) || FRACTION_DIGITS[size] === undefined) continue
    groups.set(size, [...(groups.get(size) ?? []), word])
  }
  return [...groups].sort(([a], [b]) => b - a)
}

/**
 * What the parser accepts as a duration string, as one regular expression: at least one non-zero digit, then each
 * unit at most once, largest first, each with a number whose fraction gives whole milliseconds.
 */
const STRICT_DURATION_PATTERN = (() => {
  const parts = unitGroups().map(([size, words]) => {
    const fraction = FRACTION_DIGITS[size]
    const number = String.raw`(?:\d+(?:\.${fraction})?|\.${fraction})`
    const alternation = [...words].sort((a, b) => b.length - a.length).join('|')
    return String.raw`(?:${number}\s*(?:${alternation})\s*)?`
  })
  return String.raw`^(?=[^1-9]*[1-9])\s*${parts.join('')}$`
})()

/** What only the parser checks, for the schema's description. */
const DURATION_SCHEMA_NOTE =
  `Zero, fractions of a millisecond and units out of order are invalid. Checked by the parser only: a total above ${MAX_DURATION_MS} ms ` +
  '(about 24.8 days), and two spellings this pattern leaves out although they give whole milliseconds: more than 5 decimals of a day or week, and parts whose fractions of a millisecond add up to whole ones ("1.0005s 0.5ms").'

/** The file's exact text: two-space JSON and a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`
}

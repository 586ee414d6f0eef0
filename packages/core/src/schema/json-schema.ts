/**
 * The JSON Schema of the config file, for editors (`"$schema"` in JSON, a yaml-language-server
 * comment in YAML). Generated from the zod schema that validates the file, so the two cannot disagree;
 * a test compares the committed keepalive.schema.json with a fresh generation.
 */
import * as z from 'zod'
import { configFileSchema } from './config-schema.js'

/** Where the schema is published: the package's `./schema.json` export. */
export const CONFIG_SCHEMA_ID = 'https://unpkg.com/@keepalive/core/keepalive.schema.json'

/** The JSON Schema (draft 2020-12) of keepalive.config.{json,yaml,yml}, as the user writes it (input side). */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configFileSchema, { io: 'input', target: 'draft-2020-12' })
  return { ...schema, $id: CONFIG_SCHEMA_ID }
}

/** The file's exact text: two-space JSON and a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`
}

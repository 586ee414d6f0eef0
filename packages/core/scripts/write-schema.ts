/**
 * Writes packages/core/keepalive.schema.json from the zod schema of the config file.
 * Run after changing the schema: `bash scripts/run-ts.sh packages/core/scripts/write-schema.ts`
 * (test/config-schema-file.test.ts fails while the committed file differs from a fresh one).
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { configJsonSchemaText } from '../src/schema/json-schema.js'

const target = fileURLToPath(new URL('../keepalive.schema.json', import.meta.url))
writeFileSync(target, configJsonSchemaText())
console.log(`wrote ${target}`)

import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { configJsonSchema, configJsonSchemaText } from '../src/schema/json-schema.js'

const committed = new URL('../keepalive.schema.json', import.meta.url)

describe('keepalive.schema.json', () => {
  it('is what the zod schema generates (run scripts/write-schema.ts after changing the schema)', async () => {
    expect(await readFile(committed, 'utf8')).toBe(configJsonSchemaText())
  })

  it('describes durations as a number or a string pattern, and forbids unknown keys', () => {
    const schema = configJsonSchema() as {
      additionalProperties: boolean
      properties: Record<string, unknown>
      $defs: { Duration: { anyOf: { type: string; pattern?: string; maximum?: number }[] } }
    }
    expect(schema.additionalProperties).toBe(false)
    expect(Object.keys(schema.properties)).toEqual([
      '$schema',
      'policy',
      'path',
      'tcp',
      'http',
      'mqtt',
      'ssh',
    ])
    const [number, string] = schema.$defs.Duration.anyOf
    expect(number).toMatchObject({ type: 'integer', exclusiveMinimum: 0, maximum: 2 ** 31 - 1 })
    const pattern = new RegExp(string!.pattern!)
    for (const ok of ['30s', '1h30m', '250ms', '1.5s', '5 minutes']) expect(pattern.test(ok)).toBe(true)
    for (const bad of ['ten seconds', '5', '-1s', '1,5s', '5s abc']) expect(pattern.test(bad)).toBe(false)
  })
})

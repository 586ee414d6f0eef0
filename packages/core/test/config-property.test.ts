import { detectionTime, KeepaliveError, policyFor } from '@keepalive/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { parseConfig } from '../src/config/parse-config.js'

const RUNS = 150
const PROTOCOLS = ['tcp', 'http', 'mqtt', 'ssh'] as const

/** Either a frozen config whose every protocol policy is sound, or a KeepaliveError: nothing else escapes. */
function checkOutcome(text: string, format: 'json' | 'yaml', env: Record<string, string> = {}): void {
  let config: ReturnType<typeof parseConfig>
  try {
    config = parseConfig(text, { format, env })
  } catch (error) {
    expect(error).toBeInstanceOf(KeepaliveError)
    expect(['KA_ERR_CONFIG_PARSE', 'KA_ERR_CONFIG_INVALID']).toContain((error as KeepaliveError).code)
    return
  }
  expect(Object.isFrozen(config)).toBe(true)
  for (const protocol of PROTOCOLS) {
    const policy = policyFor(config, protocol)
    expect(Object.isFrozen(policy)).toBe(true)
    const time = detectionTime(policy)
    expect(Number.isFinite(time) && time > 0).toBe(true)
    if (
      config.path.idleTimeout !== undefined &&
      (config[protocol].idle !== undefined || config[protocol].preset)
    ) {
      expect(policy.idle).toBeLessThan(config.path.idleTimeout)
    }
  }
}

/** Small arbitrary JSON for the slots of a document (deep values cost time and find nothing new there). */
const junk = fc.jsonValue({ maxDepth: 2 })

const duration = fc.oneof(
  fc.integer({ min: -5, max: 2 ** 32 }),
  fc.constantFrom('30s', '45s', '1m', '5m', '250ms', '1h30m', 'ten seconds', '-1s', '', '5'),
  junk,
)

const policyFields = {
  preset: fc.oneof(fc.constantFrom('fast', 'balanced', 'battery', 'linux-default', 'fsat'), junk),
  idle: duration,
  interval: duration,
  probes: fc.oneof(fc.integer({ min: -2, max: 1_200 }), junk),
  jitter: fc.oneof(fc.double({ min: -0.5, max: 1, noNaN: true }), junk),
}
const section = (own: Record<string, fc.Arbitrary<unknown>>) =>
  fc.oneof(fc.record({ ...policyFields, ...own }, { requiredKeys: [] }), junk)

/** Documents shaped like a config file, with arbitrary values in the real places. */
const configShaped = fc.record(
  {
    policy: fc.oneof(fc.constantFrom('fast', 'balanced', 'battery'), section({})),
    path: fc.oneof(fc.record({ idleTimeout: duration }, { requiredKeys: [] }), junk),
    tcp: section({ userTimeout: fc.oneof(fc.constant(false), duration) }),
    http: section({
      maxSocketAge: duration,
      maxRequestsPerSocket: fc.integer(),
      serverKeepAliveTimeout: duration,
    }),
    mqtt: section({ pingrespTimeout: duration }),
    ssh: section({}),
    tpc: junk,
  },
  { requiredKeys: [] },
)

const env = fc.record(
  {
    KEEPALIVE_POLICY: fc.oneof(fc.constantFrom('fast', 'battery', 'nope', ''), fc.string()),
    KEEPALIVE_IDLE: fc.oneof(fc.constantFrom('20s', '1500', '0', 'x'), fc.string()),
    KEEPALIVE_INTERVAL: fc.oneof(fc.constantFrom('5s', '-1s'), fc.string()),
    KEEPALIVE_PROBES: fc.oneof(fc.constantFrom('4', '0', '1e3', '2.5'), fc.string()),
  },
  { requiredKeys: [] },
)

/** Text made mostly of the characters JSON and YAML give meaning to, so the parsers' edges get exercised. */
const syntaxSoup = fc.string({
  unit: fc.constantFrom(...'{}[]:,"\'-?#&*!|>%@`\n\t \\0123456789.eEsmhd_abcpolicytcp\uFEFF'),
  maxLength: 200,
})

describe('parseConfig over arbitrary input', () => {
  it('arbitrary text, read as YAML and as JSON', () => {
    fc.assert(
      fc.property(fc.oneof(syntaxSoup, fc.string({ unit: 'grapheme', maxLength: 200 })), (text) => {
        checkOutcome(text, 'yaml')
        checkOutcome(text, 'json')
      }),
      { numRuns: RUNS },
    )
  })

  it('arbitrary JSON documents, in both formats', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        checkOutcome(JSON.stringify(value), 'json')
        checkOutcome(stringify(value), 'yaml')
      }),
      { numRuns: RUNS },
    )
  })

  it('config-shaped documents with arbitrary values and environments', () => {
    fc.assert(
      fc.property(configShaped, env, (document, variables) => {
        checkOutcome(JSON.stringify(document, null, 2), 'json', variables)
        checkOutcome(stringify(document), 'yaml', variables)
      }),
      { numRuns: RUNS },
    )
  })
})

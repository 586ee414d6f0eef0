/**
 * What core's tests share: temporary directories (removed after each test, also when it fails), awaiting a
 * rejection, and the hostile values and junk text the property tests feed every function. The monitor tests'
 * fake-timer setup is theirs, not here.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { onTestFinished } from 'vitest'

/** A fresh directory under the OS temp dir, removed when the test ends whatever happened. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keepalive-core-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A temp directory holding `files` (relative name → content), parents created as needed. */
export async function dirWith(files: Record<string, string>): Promise<string> {
  const dir = await tempDir()
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true })
    await writeFile(join(dir, name), text)
  }
  return dir
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

/** The error `run` throws; fails the test when it returns. */
export function thrown(run: () => unknown): Error {
  try {
    run()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a throw')
}

const boom = () => {
  throw new Error('hostile')
}

/** A Proxy every one of whose traps throws. */
export function throwingProxy<T extends object>(target: T): T {
  const traps: ProxyHandler<T> = {}
  for (const trap of [
    'get',
    'set',
    'has',
    'ownKeys',
    'getOwnPropertyDescriptor',
    'getPrototypeOf',
    'setPrototypeOf',
    'isExtensible',
    'preventExtensions',
    'defineProperty',
    'deleteProperty',
    'apply',
    'construct',
  ] as const) {
    traps[trap] = boom
  }
  return new Proxy(target, traps)
}

/** An object whose `key` getter throws (enumerable, so copying and JSON.stringify reach it). */
export function throwingGetter(key: string | symbol, base: object = {}): object {
  return Object.defineProperty({ ...base }, key, { get: boom, enumerable: true })
}

/** A revoked Proxy: even Array.isArray throws on it. */
export function revokedProxy(target: object = {}): object {
  const { proxy, revoke } = Proxy.revocable(target, {})
  revoke()
  return proxy
}

/** Field names the functions read, so a throwing getter sits where it will be touched. */
const KNOWN_KEYS = [
  'preset',
  'idle',
  'interval',
  'probes',
  'jitter',
  'file',
  'cwd',
  'env',
  'format',
  'protocols',
  'pathIdleTimeout',
  'policy',
  'tcp',
  'http',
  'mqtt',
  'ssh',
  'path',
  'keepAliveHint',
  'serverKeepAliveTimeout',
  'then',
  'toJSON',
  'toString',
  'valueOf',
  'constructor',
  'KEEPALIVE_IDLE',
] as const

/**
 * A hostile value, made only when the test calls: fast-check inspects the values it generates (for a clone
 * method), which a Proxy with throwing traps would fail inside fast-check rather than inside core.
 */
export class Hostile {
  constructor(
    readonly label: string,
    readonly make: () => unknown,
  ) {}
  [fc.toStringMethod](): string {
    return this.label
  }
}

/** The value itself, or the hostile value a Hostile makes. */
export function materialize(value: unknown): unknown {
  return value instanceof Hostile ? value.make() : value
}

/** Throwing getters, Proxies with throwing traps (of objects, arrays and functions), revoked and null-prototype objects. */
export const hostileValue: fc.Arbitrary<Hostile> = fc.oneof(
  fc
    .constantFrom<string | symbol>(...KNOWN_KEYS, Symbol.toPrimitive, Symbol.iterator)
    .map((key) => new Hostile(`getter ${String(key)} throws`, () => throwingGetter(key))),
  fc
    .constantFrom(...KNOWN_KEYS)
    .map(
      (key) =>
        new Hostile(`a valid-looking object whose ${key} throws`, () =>
          throwingGetter(key, { idle: 1000, protocols: ['tcp'], policy: 'fast' }),
        ),
    ),
  fc
    .constantFrom<[string, () => object]>(
      ['{}', () => ({})],
      ['[]', () => []],
      ["['tcp']", () => ['tcp']],
      ['a function', () => () => undefined],
      ['{ idle: 1000 }', () => ({ idle: 1000 })],
    )
    .map(
      ([label, make]) => new Hostile(`a Proxy of ${label} whose traps throw`, () => throwingProxy(make())),
    ),
  fc.constant(new Hostile('a revoked Proxy', () => revokedProxy())),
  fc.constant(new Hostile('a revoked Proxy of an array', () => revokedProxy([]))),
  fc
    .dictionary(fc.constantFrom(...KNOWN_KEYS), fc.jsonValue(), { maxKeys: 4 })
    .map(
      (fields) =>
        new Hostile(`a null-prototype ${JSON.stringify(fields)}`, () =>
          Object.assign(Object.create(null) as object, fields),
        ),
    ),
)

/** Pieces of durations, YAML, JSON and environment names: joined at random they reach deep into the parsers. */
const FRAGMENTS = [
  '1',
  '30',
  '.5',
  's',
  'ms',
  'm',
  'h',
  'd',
  ' ',
  '\t',
  '\n',
  '-',
  '+',
  'e',
  ':',
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  '? ',
  '!foo ',
  '!!omap ',
  '&a ',
  '*a',
  '<<: ',
  'policy',
  'tcp',
  'idle',
  'probes',
  'fast',
  'KEEPALIVE_',
  '\uFEFF',
  '\u0000',
  '\uD800',
  'é',
]

/** Arbitrary strings of every kind: unicode, lone surrogates, and random joins of meaningful fragments. */
export const junkText: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }).map((parts) => parts.join('')),
)

// The `[deadline]` line of every real-time bound (issue #7): the one dependency-free file the harness exports too,
// imported by path so core's tests do not depend on the harness package.
export type { DeadlineRecord } from '../../../test/harness/deadline.js'
export { recordDeadline } from '../../../test/harness/deadline.js'

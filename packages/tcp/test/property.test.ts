/**
 * Every exported function of @keepalive/tcp driven with arbitrary values, hostile objects (throwing getters, Proxies
 * whose traps throw, null-prototype objects) and arbitrary strings (issue #9's property test). Asserted: nothing but a
 * KeepaliveError is thrown, the predicate returns a boolean, no call is slow, and nothing crashes the process
 * afterwards (no uncaught error, no unhandled rejection) — with real sockets, all closed at the end.
 */
import net from 'node:net'
import { isKeepaliveError } from '@keepalive/core'
import * as tcp from '@keepalive/tcp'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const RUNS = 300

/** A loopback port nothing listens on (taken and released in beforeAll). */
let closed = 1

/**
 * Per-call bound. The work is a few property reads and at most a dozen syscalls (well under 1 ms when warm); the
 * rest is slack for this shared 2-core machine's scheduling and a GC pause. A quadratic path takes seconds.
 */
const MAX_CALL_MS = 25

const trap = (): never => {
  throw new Error('trap')
}
const allTraps: ProxyHandler<object> = {
  get: trap,
  has: trap,
  ownKeys: trap,
  getOwnPropertyDescriptor: trap,
  getPrototypeOf: trap,
  isExtensible: trap,
  defineProperty: trap,
  set: trap,
  deleteProperty: trap,
}

// Arbitraries give thunks: fast-check inspects the values it generates (a clone method), which a hostile Proxy
// would answer with a throw inside fast-check itself. The value is made inside the property.
type Thunk = () => unknown
const value = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<Thunk> => arbitrary.map((v) => () => v)

/** Values no caller should pass, but some will. */
const hostile: fc.Arbitrary<Thunk> = fc.oneof(
  fc.constant(() => new Proxy({}, allTraps)),
  fc
    .constantFrom(...(Object.keys(allTraps) as (keyof ProxyHandler<object>)[]))
    .map((name) => () => new Proxy({ idle: 1000, mechanism: 'ffi', port: 1 }, { [name]: trap })),
  fc
    .constantFrom(
      'idle',
      'interval',
      'probes',
      'preset',
      'mechanism',
      'userTimeout',
      'ffi',
      'code',
      'cause',
      'keepalive',
      'keepaliveOptions',
      'constructor',
      '_handle',
      'destroyed',
    )
    .map((key) => () => Object.defineProperty({}, key, { get: trap, enumerable: true })),
  fc.dictionary(fc.string(), fc.anything()).map((fields) => () => Object.assign(Object.create(null), fields)),
  fc.constant(() => Object.create(net.Socket.prototype)),
)

/** Anything: JSON-like values, odd numbers, strings of any code point, and the hostile ones. */
const anyValue: fc.Arbitrary<Thunk> = fc.oneof(
  value(
    fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, withSet: true, withDate: true }),
  ),
  value(fc.string({ unit: 'binary' })),
  value(
    fc.constantFrom('fast', 'balanced', 'auto', 'ffi', 'native', 'partial', '', 'ETIMEDOUT', '__proto__'),
  ),
  value(fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 53, -1)),
  hostile,
)

/** A record whose fields are made when the thunk is called (absent fields stay absent). */
function record(fields: Record<string, fc.Arbitrary<Thunk>>): fc.Arbitrary<Thunk> {
  return fc.record(fields, { requiredKeys: [] }).map((thunks) => () => {
    const out: Record<string, unknown> = {}
    for (const [key, thunk] of Object.entries(thunks)) out[key] = (thunk as Thunk)()
    return out
  })
}

/** The `options` of applyTcpKeepalive: near-valid records (so deeper checks are reached) or anything. */
const anyOptions: fc.Arbitrary<Thunk> = fc.oneof(
  record({
    mechanism: fc.oneof(value(fc.constantFrom('auto', 'native', 'ffi', 'partial')), anyValue),
    userTimeout: fc.oneof(value(fc.boolean()), anyValue),
    ffi: fc.oneof(value(fc.boolean()), anyValue),
  }),
  anyValue,
)

/** connect's options: never a `host` or a `lookup` (no name resolution: loopback only), a port on loopback. */
const connectOptions: fc.Arbitrary<Thunk> = fc.oneof(
  record({
    port: fc.oneof(
      fc.constant(() => closed),
      anyValue,
    ),
    keepalive: anyValue,
    keepaliveOptions: anyOptions,
  }),
  anyValue.filter((thunk) => {
    const v = thunk()
    return !hasOwn(v, 'host') && !hasOwn(v, 'lookup') && !hasOwn(v, 'localAddress')
  }),
)

function hasOwn(value: unknown, key: string): boolean {
  try {
    return value !== null && typeof value === 'object' && Object.hasOwn(value, key)
  } catch {
    return false // a Proxy whose traps throw: connect throws before net sees it
  }
}

const problems: unknown[] = []
const onProblem = (error: unknown): void => {
  problems.push(error)
}
const sockets: net.Socket[] = []
const servers: net.Server[] = []
let pairs: { client: net.Socket; server: net.Socket }[] = []
let listener: net.Server

beforeAll(async () => {
  process.on('uncaughtException', onProblem)
  process.on('unhandledRejection', onProblem)
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  closed = (probe.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  listener = net.createServer()
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  const { port } = listener.address() as net.AddressInfo
  const accepted: net.Socket[] = []
  listener.on('connection', (socket) => accepted.push(socket))
  for (let i = 0; i < 4; i++) {
    const client = net.connect(port, '127.0.0.1')
    await new Promise((resolve) => client.once('connect', resolve))
    while (accepted.length <= i) await new Promise((resolve) => setImmediate(resolve))
    pairs.push({ client, server: accepted[i]! })
  }
  // Load koffi, decide the mechanism and let net set itself up once, so the first timed call does not pay for it.
  tcp.applyTcpKeepalive(pairs[0]!.client, 'fast')
  const warm = tcp.connect({ port: closed, host: '127.0.0.1' })
  warm.on('error', () => {})
  sockets.push(warm)
})

afterAll(async () => {
  for (const { client, server } of pairs) {
    client.destroy()
    server.destroy()
  }
  pairs = []
  for (const socket of sockets) socket.destroy()
  for (const server of servers) server.close()
  await new Promise<void>((resolve) => listener.close(() => resolve()))
  process.off('uncaughtException', onProblem)
  process.off('unhandledRejection', onProblem)
})

/** Calls `fn`, asserts it returned or threw a KeepaliveError in time, and gives back what it returned. */
function call(name: string, fn: () => unknown): unknown {
  const started = performance.now()
  let result: unknown
  try {
    result = fn()
  } catch (error) {
    if (!isKeepaliveError(error)) {
      throw new Error(`${name} threw something other than a KeepaliveError: ${String(error)}`, {
        cause: error,
      })
    }
  }
  const ms = performance.now() - started
  if (result instanceof net.Socket) {
    // Listened to and closed at the end even when this call fails the property: a refused connect emits 'error'.
    result.on('error', () => {})
    sockets.push(result)
  }
  if (ms > MAX_CALL_MS) throw new Error(`${name} took ${ms.toFixed(1)} ms`)
  return result
}

/** A socket to apply to: a connected one (client or accepted), a fresh one, or anything. */
const anySocket: fc.Arbitrary<() => unknown> = fc.oneof(
  fc.nat(3).map((i) => () => pairs[i]!.client),
  fc.nat(3).map((i) => () => pairs[i]!.server),
  fc.constant(() => {
    const socket = new net.Socket()
    sockets.push(socket)
    return socket
  }),
  anyValue,
)

describe('every export of @keepalive/tcp, with arbitrary and hostile input', () => {
  it('applyTcpKeepalive: a report or a KeepaliveError', () => {
    fc.assert(
      fc.property(anySocket, anyValue, anyOptions, (socket, policy, options) => {
        const report = call('applyTcpKeepalive', () =>
          tcp.applyTcpKeepalive(socket() as net.Socket, policy() as never, options() as never),
        ) as tcp.TcpKeepaliveReport | undefined
        if (report !== undefined) expect(typeof report.idle).toBe('number')
      }),
      { numRuns: RUNS },
    )
  })

  it('readTcpKeepalive and getTcpKeepaliveReport: values, null/undefined, or a KeepaliveError', () => {
    fc.assert(
      fc.property(anySocket, (socket) => {
        const values = call('readTcpKeepalive', () => tcp.readTcpKeepalive(socket()))
        expect(values === null || values === undefined || typeof values === 'object').toBe(true)
        call('getTcpKeepaliveReport', () => tcp.getTcpKeepaliveReport(socket() as net.Socket))
      }),
      { numRuns: RUNS },
    )
  })

  it('isKeepaliveTimeout: always a boolean, never a throw', () => {
    const chained = anyValue.map(
      (cause) => () => Object.assign(new Error('x'), { code: 'ECONNRESET', cause: cause() }),
    )
    fc.assert(
      fc.property(fc.oneof(anyValue, chained), (error) => {
        const started = performance.now()
        expect(typeof tcp.isKeepaliveTimeout(error())).toBe('boolean')
        expect(performance.now() - started).toBeLessThanOrEqual(MAX_CALL_MS)
      }),
      { numRuns: RUNS },
    )
  })

  it('connect: a socket (to a loopback port) or a KeepaliveError', () => {
    fc.assert(
      fc.property(connectOptions, fc.oneof(value(fc.constant(undefined)), anyValue), (options, listener) => {
        const socket = call('connect', () => tcp.connect(options() as never, listener() as never))
        if (socket instanceof net.Socket) {
          // A refused connection emits 'error': listened to, as a caller would.
          socket.on('error', () => {})
          sockets.push(socket)
        } else expect(socket).toBeUndefined()
      }),
      { numRuns: RUNS },
    )
  })

  it('createServer: a server or a KeepaliveError', () => {
    const options = fc.oneof(
      value(fc.constant(undefined)),
      anyOptions.map((keepaliveOptions) => () => ({ keepaliveOptions: keepaliveOptions() })),
      anyValue,
    )
    const listener = fc.oneof(value(fc.constant(undefined)), value(fc.constant(() => {})), anyValue)
    fc.assert(
      fc.property(options, listener, (makeOptions, makeListener) => {
        const server = call('createServer', () =>
          tcp.createServer(makeOptions() as never, makeListener() as never),
        )
        if (server instanceof net.Server) servers.push(server)
        else expect(server).toBeUndefined()
      }),
      { numRuns: RUNS },
    )
  })

  it('nothing crashes the process afterwards: no uncaught error, no unhandled rejection', async () => {
    // Let pending connects fail and pending reports settle.
    await new Promise((resolve) => setTimeout(resolve, 200))
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(problems.map((problem) => String(problem))).toEqual([])
    expect(sockets.length).toBeGreaterThan(0)
  })
})

/**
 * Careless and hostile callers (issue #9, tcp's items 11, 12 and 15): every mistake is a KeepaliveError naming the
 * field and value, before any socket exists; nothing is silently ignored; a predicate answers false, never throws.
 */
import net from 'node:net'
import { InvalidArgumentError, isKeepaliveError, type KeepaliveError } from '@keepalive/core'
import {
  applyTcpKeepalive,
  connect,
  createServer,
  isKeepaliveTimeout,
  readTcpKeepalive,
  TcpNotTcpError,
} from '@keepalive/tcp'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { listen, once, own, pair } from './helpers.js'

function caught(fn: () => unknown): KeepaliveError {
  try {
    fn()
  } catch (error) {
    expect(isKeepaliveError(error)).toBe(true)
    return error as KeepaliveError
  }
  throw new Error('expected a throw')
}

/** Counts the sockets net.connect creates during the test, so a throw can be shown to leave none behind. */
function watchNetConnect(): net.Socket[] {
  const created: net.Socket[] = []
  const realConnect = net.connect
  const spy = vi.spyOn(net, 'connect').mockImplementation(((...args: Parameters<typeof net.connect>) => {
    const socket = realConnect(...args)
    created.push(socket)
    return socket
  }) as typeof net.connect)
  onTestFinished(() => {
    spy.mockRestore()
    for (const socket of created) socket.destroy()
  })
  return created
}

const throwing = (): never => {
  throw new Error('trap')
}

describe('#9 item 11: the options of applyTcpKeepalive, connect and createServer are checked', () => {
  it.each([
    [
      { mechanism: 'bogus' },
      'applyTcpKeepalive: options.mechanism must be one of "auto", "native", "ffi", "partial", got "bogus"',
    ],
    [{ mechanism: 'natve' }, /got "natve" \(did you mean "native"\?\)/],
    [{ userTimeout: 'false' }, 'applyTcpKeepalive: options.userTimeout must be true or false, got "false"'],
    [{ ffi: 0 }, 'applyTcpKeepalive: options.ffi must be true or false, got 0'],
    [
      { mechansim: 'ffi' },
      'applyTcpKeepalive: options has an unknown field "mechansim" (did you mean "mechanism"?); allowed: mechanism, userTimeout, ffi',
    ],
    [5, 'applyTcpKeepalive: options must be an object like { mechanism, userTimeout, ffi }, got 5'],
    ['ffi', /options must be an object .*, got "ffi"/],
    [[], /options must be an object .*, got \[\]/],
  ])(
    'applyTcpKeepalive(socket, policy, %j): KA_ERR_INVALID_ARGUMENT naming field and value',
    async (options, message) => {
      const { client } = await pair()
      const error = caught(() => applyTcpKeepalive(client, 'fast', options as never))
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect(error.code).toBe('KA_ERR_INVALID_ARGUMENT')
      if (typeof message === 'string') expect(error.message).toBe(message)
      else expect(error.message).toMatch(message)
      // Nothing was applied: Node's defaults are untouched.
      expect(readTcpKeepalive(client)?.enabled).toBe(false)
    },
  )

  it('options whose getter or Proxy trap throws: KA_ERR_INVALID_ARGUMENT, with the thrown error as cause', async () => {
    const { client } = await pair()
    for (const options of [
      {
        get mechanism(): string {
          return throwing()
        },
      },
      new Proxy({}, { ownKeys: throwing }),
      new Proxy({ mechanism: 'ffi' }, { get: throwing }),
    ]) {
      const error = caught(() => applyTcpKeepalive(client, 'fast', options as never))
      expect(error.code).toBe('KA_ERR_INVALID_ARGUMENT')
      expect(error.message).toMatch(/^applyTcpKeepalive: options cannot be read/)
      expect((error.cause as Error).message).toBe('trap')
    }
  })

  it('a null-prototype options object is read like a plain one', async () => {
    const { client } = await pair()
    const options = Object.assign(Object.create(null), { mechanism: 'partial', userTimeout: false })
    expect(applyTcpKeepalive(client, 'fast', options).mechanism).toBe('partial')
  })

  it("connect's keepaliveOptions: thrown before any socket exists", () => {
    const created = watchNetConnect()
    const error = caught(() =>
      connect({ port: 1, host: '127.0.0.1', keepaliveOptions: { mechanism: 'bogus' as never } }),
    )
    expect(error.message).toBe(
      'connect: keepaliveOptions.mechanism must be one of "auto", "native", "ffi", "partial", got "bogus"',
    )
    expect(() =>
      connect({ port: 1, host: '127.0.0.1', keepaliveOptions: { mechansim: 'ffi' } as never }),
    ).toThrow(/connect: keepaliveOptions has an unknown field "mechansim"/)
    expect(created).toHaveLength(0)
  })

  it("createServer's keepaliveOptions: thrown at creation", () => {
    const error = caught(() => createServer({ keepaliveOptions: { userTimeout: 'false' as never } }))
    expect(error.message).toBe(
      'createServer: keepaliveOptions.userTimeout must be true or false, got "false"',
    )
    expect(() => createServer({ keepaliveOptions: 5 as never })).toThrow(
      /createServer: keepaliveOptions must be an object .*, got 5/,
    )
  })
})

describe('#9 item 12: createServer(listener), the one-argument form of net.createServer', () => {
  it('keeps the listener, and applies the default policy before it runs', async () => {
    const seen: (ReturnType<typeof readTcpKeepalive> | undefined)[] = []
    const server = createServer((socket) => {
      seen.push(readTcpKeepalive(socket) ?? undefined)
    })
    const { port, accepted } = await listen(server)
    const client = own(net.connect(port, '127.0.0.1'))
    await once(client, 'connect')
    await accepted()
    // balanced: 30 s / 10 s / 3, user timeout 60 s.
    expect(seen).toEqual([{ enabled: true, idle: 30_000, interval: 10_000, probes: 3, userTimeout: 60_000 }])
  })

  it('a listener first and another second is a mistake, not a silent choice', () => {
    expect(() => createServer((() => {}) as never, (() => {}) as never)).toThrow(
      /createServer: the first argument is a listener, so the second must be omitted/,
    )
    expect(() => createServer({}, 5 as never)).toThrow(
      'createServer: connectionListener must be a function, got 5',
    )
  })
})

describe('#9 item 15: no raw TypeError, and messages that say what was wrong', () => {
  it.each([
    [undefined, 'undefined'],
    [8080, '8080'],
    [null, 'null'],
    ['127.0.0.1:80', '"127.0.0.1:80"'],
  ])('connect(%j): KA_ERR_INVALID_ARGUMENT saying options must be an object', (options, got) => {
    const created = watchNetConnect()
    const error = caught(() => connect(options as never))
    expect(error.code).toBe('KA_ERR_INVALID_ARGUMENT')
    expect(error.message).toBe(
      `connect: options must be an object like net.connect's ({ host, port, keepalive, … }), got ${got}`,
    )
    expect(created).toHaveLength(0)
  })

  it('options net.connect refuses (a bad port, no port): KA_ERR_INVALID_ARGUMENT with the cause', () => {
    const error = caught(() => connect({ port: 'http' as never, host: '127.0.0.1' }))
    expect(error.code).toBe('KA_ERR_INVALID_ARGUMENT')
    expect(error.message).toMatch(/^connect: net refused the options: .*Port/)
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ERR_SOCKET_BAD_PORT')
    expect(caught(() => connect({ keepalive: 'fast' } as never)).message).toMatch(
      /^connect: net refused the options/,
    )
  })

  it('connect options whose getters throw: KA_ERR_INVALID_ARGUMENT', () => {
    const options = {
      port: 1,
      get keepalive(): string {
        return throwing()
      },
    }
    expect(caught(() => connect(options as never)).message).toMatch(/^connect: options cannot be read/)
  })

  it('applyTcpKeepalive(undefined) says "got undefined", not "got a undefined"', () => {
    const error = caught(() => applyTcpKeepalive(undefined as never))
    expect(error).toBeInstanceOf(TcpNotTcpError)
    expect(error.message).toBe('applyTcpKeepalive: expected a net.Socket or tls.TLSSocket, got undefined')
  })

  it('readTcpKeepalive of hostile objects: TcpNotTcpError, never a raw error', async () => {
    const { client } = await pair()
    const hostile: [string, unknown, RegExp][] = [
      ['a null-prototype object', Object.create(null), /got an object$/],
      ['a Proxy whose getPrototypeOf throws', new Proxy({}, { getPrototypeOf: throwing }), /got an object$/],
      ['a Proxy around a socket whose get throws', new Proxy(client, { get: throwing }), /cannot be read/],
      [
        'an object whose constructor getter throws',
        {
          get constructor(): never {
            return throwing()
          },
        },
        /got an object$/,
      ],
    ]
    for (const [name, value, message] of hostile) {
      const error = caught(() => readTcpKeepalive(value))
      expect(error, name).toBeInstanceOf(TcpNotTcpError)
      expect(error.message, name).toMatch(message)
      expect(caught(() => applyTcpKeepalive(value as never)).code, name).toBe('KA_ERR_TCP_NOT_TCP')
    }
  })

  it('isKeepaliveTimeout of hostile objects: false, never a throw', () => {
    const timeout = Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT', syscall: 'read' })
    const hostile = [
      new Proxy({}, { get: throwing }),
      new Proxy(timeout, { get: throwing }),
      {
        get code(): never {
          return throwing()
        },
      },
      {
        code: 'ECONNRESET',
        get cause(): never {
          return throwing()
        },
      },
      Object.create(null),
      Object.assign(Object.create(null), { code: 'ECONNRESET', cause: Object.create(null) }),
    ]
    for (const value of hostile) expect(isKeepaliveTimeout(value)).toBe(false)
    // Still true for the real thing, also behind a null-prototype wrapper.
    expect(isKeepaliveTimeout(Object.assign(Object.create(null), { cause: timeout }))).toBe(true)
  })
})

/** connect/createServer with a keepalive option, isKeepaliveTimeout, diagnostics, the data path, and leaks. */
import diagnosticsChannel from 'node:diagnostics_channel'
import net from 'node:net'
import { InvalidPolicyError } from '@keepalive/core'
import {
  applyTcpKeepalive,
  connect,
  createServer,
  getTcpKeepaliveReport,
  isKeepaliveTimeout,
  readTcpKeepalive,
  type TcpKeepaliveReport,
  TcpNotTcpError,
  TcpUnsupportedError,
} from '@keepalive/tcp'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { expectedMechanism, listen, once, own, pair } from './helpers.js'

const fast = { idle: 5000, interval: 1000, probes: 3, userTimeout: 8000 }

describe('connect()', () => {
  it('applies the policy at connect, before the connect listener, and emits keepalive', async () => {
    const { port } = await listen()
    let seenInListener: ReturnType<typeof readTcpKeepalive> = null
    const emitted = new Promise<TcpKeepaliveReport | null>((resolve) => {
      const socket = own(
        connect({ port, host: '127.0.0.1', keepalive: 'fast' }, () => {
          seenInListener = readTcpKeepalive(socket)
        }),
      )
      socket.once('keepalive', resolve)
    })
    const report = await emitted
    expect(report).toMatchObject({ ...fast, mechanism: expectedMechanism(), verified: true })
    expect(seenInListener).toEqual({ enabled: true, ...fast })
  })

  it('an invalid policy throws before connecting', () => {
    expect(() => connect({ port: 1, host: '127.0.0.1', keepalive: { idle: -5 } })).toThrow(InvalidPolicyError)
  })

  it('a forced mechanism that is not available, or a path (not TCP), throws and leaves no socket behind', async () => {
    const created: net.Socket[] = []
    const realConnect = net.connect
    const spy = vi.spyOn(net, 'connect').mockImplementation(((...args: Parameters<typeof net.connect>) => {
      const socket = realConnect(...args)
      created.push(socket)
      return socket
    }) as typeof net.connect)
    onTestFinished(() => spy.mockRestore())
    const { port, server } = await listen()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    // Unavailable forced mechanism: thrown before connecting, like an invalid policy.
    expect(() =>
      connect({ port, host: '127.0.0.1', keepaliveOptions: { mechanism: 'ffi', ffi: false } }),
    ).toThrow(TcpUnsupportedError)
    expect(created).toHaveLength(0)
    // Not TCP, found only once connecting: the socket is destroyed before the throw (no leak, no unhandled 'error').
    expect(() => connect({ path: '/nonexistent/ka.sock' } as never)).toThrow(TcpNotTcpError)
    expect(created.map((socket) => socket.destroyed)).toEqual([true])
  })

  it('a connection that fails emits keepalive null, and nothing throws', async () => {
    const { port, server } = await listen()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const socket = own(connect({ port, host: '127.0.0.1', keepalive: 'fast' }))
    const error = once<Error>(socket, 'error')
    const report = await once<TcpKeepaliveReport | null>(socket, 'keepalive')
    expect(report).toBeNull()
    expect(((await error) as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
  })
})

describe('createServer()', () => {
  it('applies the policy to every accepted socket before connection listeners run', async () => {
    const seen: (ReturnType<typeof readTcpKeepalive> | undefined)[] = []
    const reports: (TcpKeepaliveReport | null)[] = []
    const server = createServer({ keepalive: { idle: '2s', interval: '1s', probes: 4 } }, (socket) => {
      seen.push(readTcpKeepalive(socket) ?? undefined)
      expect(getTcpKeepaliveReport(socket)?.idle).toBe(2000)
    })
    server.on('keepalive', (report: TcpKeepaliveReport | null) => reports.push(report))
    const { port, accepted } = await listen(server)
    for (let i = 0; i < 3; i++) {
      const client = own(net.connect(port, '127.0.0.1'))
      await once(client, 'connect')
      await accepted()
    }
    const expected = { enabled: true, idle: 2000, interval: 1000, probes: 4, userTimeout: 6000 }
    expect(seen).toEqual([expected, expected, expected])
    expect(reports.map((r) => r?.mechanism)).toEqual(Array(3).fill(expectedMechanism()))
  })
})

describe('createServer() with an unavailable forced mechanism', () => {
  it('throws at creation, not silently at each connection', () => {
    expect(() => createServer({ keepaliveOptions: { mechanism: 'ffi', ffi: false } })).toThrow(
      TcpUnsupportedError,
    )
  })
})

describe('isKeepaliveTimeout', () => {
  const errno = (code: string, syscall: string): NodeJS.ErrnoException =>
    Object.assign(new Error(`${syscall} ${code}`), { code, syscall })

  it.each([
    [errno('ETIMEDOUT', 'read'), true],
    [errno('ETIMEDOUT', 'write'), true],
    [new TypeError('fetch failed', { cause: errno('ETIMEDOUT', 'read') }), true],
    [errno('EHOSTUNREACH', 'read'), true],
    [errno('ETIMEDOUT', 'connect'), false],
    [errno('EHOSTUNREACH', 'connect'), false],
    [errno('ECONNRESET', 'read'), false],
    [errno('EPIPE', 'write'), false],
    [errno('ECONNREFUSED', 'connect'), false],
    [Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' }), false],
    [new Error('ETIMEDOUT'), false],
    [undefined, false],
    ['ETIMEDOUT', false],
  ])('%s → %s', (error, expected) => {
    expect(isKeepaliveTimeout(error)).toBe(expected)
  })
})

describe('diagnostics', () => {
  it('publishes the report on keepalive:tcp:applied and each warning on keepalive:tcp:warning', async () => {
    const applied: unknown[] = []
    const warnings: unknown[] = []
    const onApplied = (message: unknown): void => {
      applied.push(message)
    }
    const onWarning = (message: unknown): void => {
      warnings.push(message)
    }
    diagnosticsChannel.subscribe('keepalive:tcp:applied', onApplied)
    diagnosticsChannel.subscribe('keepalive:tcp:warning', onWarning)
    onTestFinished(() => {
      diagnosticsChannel.unsubscribe('keepalive:tcp:applied', onApplied)
      diagnosticsChannel.unsubscribe('keepalive:tcp:warning', onWarning)
    })
    const { client } = await pair()
    const report = applyTcpKeepalive(
      client,
      { idle: 1500, interval: '1s', probes: 2 },
      { mechanism: 'partial' },
    )
    expect(applied).toEqual([{ socket: client, report }])
    expect(warnings).toEqual(report.warnings.map((warning) => ({ socket: client, warning })))
    expect(warnings.length).toBeGreaterThanOrEqual(4)
  })
})

describe('the data path', () => {
  it('nothing is added: no listeners on data/end/error/close, write and read untouched', async () => {
    const { client, server } = await pair()
    const events = ['data', 'end', 'error', 'close', 'timeout', 'readable', 'drain', 'connect']
    const before = events.map((e) => client.listenerCount(e))
    const write = client.write
    const push = client.push
    // Node's own setKeepAlive records its arguments on the socket (kSetKeepAlive* symbols): that is Node's state.
    const keys = (): string[] =>
      Reflect.ownKeys(client)
        .map(String)
        .filter((k) => !k.startsWith('Symbol(kSetKeepAlive'))
    const ownKeys = keys()
    applyTcpKeepalive(client, 'fast')
    expect(events.map((e) => client.listenerCount(e))).toEqual(before)
    expect(client.write).toBe(write)
    expect(client.push).toBe(push)
    expect(keys()).toEqual(ownKeys)
    // Data still flows as before.
    client.write('ping')
    expect(String(await once(server, 'data'))).toBe('ping')
  })

  it('before connect: the one connect/close listener pair is gone once applied', async () => {
    const { port } = await listen()
    const client = own(net.connect(port, '127.0.0.1'))
    const before = ['connect', 'close', 'data'].map((e) => client.listenerCount(e))
    const report = applyTcpKeepalive(client, 'fast')
    expect(client.listenerCount('data')).toBe(before[2])
    await report.ready
    expect(['connect', 'close', 'data'].map((e) => client.listenerCount(e))).toEqual(before)
  })
})

describe('handles', () => {
  it('applying to many sockets leaks nothing: handle count back to where it was after close', async () => {
    const count = (): number =>
      process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP') || r === 'Timeout').length
    // Sockets of earlier tests may still be closing: the baseline is taken once they are gone.
    await new Promise((r) => setTimeout(r, 100))
    const baseline = count()
    {
      const { port, server } = await listen()
      const clients: net.Socket[] = []
      const reports: Promise<unknown>[] = []
      for (let i = 0; i < 20; i++) {
        const client = net.connect(port, '127.0.0.1')
        reports.push(applyTcpKeepalive(client, 'fast').ready)
        clients.push(client)
      }
      expect((await Promise.all(reports)).every((r) => r !== null)).toBe(true)
      for (const c of clients) c.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    const deadline = performance.now() + 2000
    while (count() > baseline && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(count()).toBeLessThanOrEqual(baseline)
  })
})

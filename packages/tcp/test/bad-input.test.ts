/** Bad input raises a KeepaliveError with a clear code and a message naming what was wrong. */
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import tls from 'node:tls'
import {
  createMonitor,
  definePolicy,
  InvalidPolicyError,
  isKeepaliveError,
  type KeepaliveError,
} from '@keepalive/core'
import { applyTcpKeepalive, readTcpKeepalive, TcpNotTcpError, TcpSocketClosedError } from '@keepalive/tcp'
import { describe, expect, it, onTestFinished } from 'vitest'
import { applySettings } from '../src/apply.js'
import { listen, once, own, pair, settings } from './helpers.js'

function caught(fn: () => unknown): KeepaliveError {
  try {
    fn()
  } catch (error) {
    expect(isKeepaliveError(error)).toBe(true)
    return error as KeepaliveError
  }
  throw new Error('expected a throw')
}

describe('closed sockets', () => {
  it('a destroyed socket: TcpSocketClosedError', async () => {
    const { client } = await pair()
    client.destroy()
    const error = caught(() => applySettings(client, settings(5, 1, 3), {}))
    expect(error).toBeInstanceOf(TcpSocketClosedError)
    expect(error.code).toBe('KA_ERR_TCP_SOCKET_CLOSED')
    expect(error.message).toBe('applyTcpKeepalive: the socket is already destroyed')
    expect(() => readTcpKeepalive(client)).toThrow(TcpSocketClosedError)
  })

  it('a socket closed by its peer and then destroyed', async () => {
    const { client, server } = await pair()
    server.destroy()
    await once(client, 'close')
    expect(() => applySettings(client, settings(5, 1, 3), {})).toThrow(TcpSocketClosedError)
  })

  it('a socket that closes before it connects resolves `ready` with null, never rejects', async () => {
    const { port, server } = await listen()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    const client = own(net.connect(port, '127.0.0.1'))
    client.on('error', () => {})
    const report = applySettings(client, settings(5, 1, 3), {})
    expect(report.pending).toBe(true)
    await expect(report.ready).resolves.toBeNull()
    expect(client.listenerCount('connect')).toBe(0)
    expect(client.listenerCount('close')).toBe(0)
  })
})

describe('not TCP', () => {
  it.each([
    ['a PassThrough', () => new PassThrough(), /got a PassThrough/],
    ['a plain object', () => ({ setKeepAlive() {} }), /got an object|got a Object/],
    ['null', () => null, /got null/],
    ['a number', () => 42, /got a number/],
  ])('%s: TcpNotTcpError', (_name, make, message) => {
    const error = caught(() => applyTcpKeepalive(make() as net.Socket, 'fast'))
    expect(error).toBeInstanceOf(TcpNotTcpError)
    expect(error.code).toBe('KA_ERR_TCP_NOT_TCP')
    expect(error.message).toMatch(message)
  })

  it('a Unix domain socket: TcpNotTcpError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ka-tcp-unix-'))
    const path = join(dir, 's.sock')
    const server = net.createServer((s) => s.destroy())
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          rmSync(dir, { recursive: true, force: true })
        }),
    )
    await new Promise<void>((resolve) => server.listen(path, resolve))
    const client = own(net.connect(path))
    client.on('error', () => {})
    await once(client, 'connect')
    const error = caught(() => applySettings(client, settings(5, 1, 3), {}))
    expect(error).toBeInstanceOf(TcpNotTcpError)
    expect(error.message).toBe('applyTcpKeepalive: the socket is a Unix domain socket or named pipe, not TCP')
    expect(() => readTcpKeepalive(client)).toThrow(TcpNotTcpError)
  })

  it('TLS over a non-TCP stream: TcpNotTcpError', () => {
    const duplex = new PassThrough()
    const socket = new tls.TLSSocket(duplex)
    onTestFinished(() => {
      socket.destroy()
    })
    const error = caught(() => applySettings(socket, settings(5, 1, 3), {}))
    expect(error).toBeInstanceOf(TcpNotTcpError)
    expect(error.message).toMatch(/not TCP/)
  })

  it('a fresh net.Socket that connects to a Unix socket: a warning at connect, ready resolves null', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ka-tcp-unix-'))
    const path = join(dir, 's.sock')
    const server = net.createServer((s) => s.destroy())
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          rmSync(dir, { recursive: true, force: true })
        }),
    )
    await new Promise<void>((resolve) => server.listen(path, resolve))
    const socket = own(new net.Socket())
    socket.on('error', () => {})
    const report = applySettings(socket, settings(5, 1, 3), {})
    expect(report.pending).toBe(true)
    socket.connect(path)
    await expect(report.ready).resolves.toBeNull()
  })
})

describe('invalid policies', () => {
  it.each([
    [{ idle: -1 }, /idle/],
    [{ probes: 0 }, /probes/],
    [{ interval: 'soon' }, /interval/],
    ['no-such-preset', /no-such-preset/],
  ])('%j: InvalidPolicyError naming the field', async (policy, message) => {
    const { client } = await pair()
    const error = caught(() => applyTcpKeepalive(client, policy as never))
    expect(error).toBeInstanceOf(InvalidPolicyError)
    expect(error.code).toBe('KA_ERR_INVALID_POLICY')
    expect(error.message).toMatch(message)
  })

  // Issue #8's case, word for word: applyTcpKeepalive used to throw the trap's raw Error from its cache. A policy is
  // plain data, so core rejects an object whose isExtensible trap throws, and every entry point agrees.
  it('the policy Proxy of #8 (isExtensible trap throws): KA_ERR_INVALID_POLICY, as from definePolicy and createMonitor', () => {
    const policy = () =>
      new Proxy(
        { idle: 1000 },
        {
          isExtensible() {
            throw new Error('trap')
          },
        },
      )
    const socket = own(new net.Socket())
    const errors = [
      caught(() => applyTcpKeepalive(socket, policy() as never)),
      caught(() => definePolicy(policy())),
      caught(() => createMonitor({ policy: policy() as never, probe: () => {} })),
    ]
    for (const error of errors) {
      expect(error).toBeInstanceOf(InvalidPolicyError)
      expect(error.code).toBe('KA_ERR_INVALID_POLICY')
      expect(error.message).toMatch(/^Invalid policy: could not read the input/)
      expect(error.cause).toEqual(new Error('trap'))
    }
  })

  it.each([
    [
      'get',
      {
        get: () => {
          throw new Error('trap')
        },
      },
    ],
    [
      'ownKeys',
      {
        ownKeys: () => {
          throw new Error('trap')
        },
      },
    ],
    [
      'getOwnPropertyDescriptor',
      {
        getOwnPropertyDescriptor: () => {
          throw new Error('trap')
        },
      },
    ],
  ])(
    'a policy Proxy whose %s trap throws: KA_ERR_INVALID_POLICY, as definePolicy gives',
    (_trap, handler) => {
      const policy = new Proxy({ idle: 1000 }, handler as ProxyHandler<object>)
      expect(() => definePolicy(policy as never)).toThrow(InvalidPolicyError)
      const error = caught(() => applyTcpKeepalive(new net.Socket(), policy as never))
      expect(error).toBeInstanceOf(InvalidPolicyError)
      expect(error.code).toBe('KA_ERR_INVALID_POLICY')
    },
  )

  it("one policy is computed once: every socket's report shares its settings (core's memoizeByPolicy)", async () => {
    const policy = definePolicy({ idle: '7s', interval: '2s', probes: 3 })
    const { client, server } = await pair()
    const first = applyTcpKeepalive(client, policy)
    const second = applyTcpKeepalive(server, policy)
    expect(second.requested).toBe(first.requested)
    expect(first).toMatchObject({ idle: 7000, interval: 2000, probes: 3 })
  })
})

/**
 * Bad input gets typed errors and leaves nothing behind: an invalid policy, something that is not a connection, a
 * client never connected, a connection already closed, a connection closed while watched, a server that answers
 * keepalives with garbage on the wire, and one that never answers them.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { InvalidPolicyError, isKeepaliveError } from '@keepalive/core'
import { expectNoLeaks, recordDeadline, startSsh2Server } from '@keepalive/test-harness'
import ssh2, { type Connection } from 'ssh2'
import { describe, expect, it } from 'vitest'
import {
  type SshCloseEvent,
  SshConnectionClosedError,
  type SshDeadEvent,
  SshKeepaliveTimeoutError,
  SshUnsupportedError,
  watchSsh,
} from '../src/index.js'
import { connectSsh, nextEvent } from './helpers.js'

const SERVER_QUIET = { keepaliveInterval: 2 ** 31 - 1 }
const POLICY = { idle: '300ms', interval: '300ms', probes: 2 } // detection 900 ms

/** Makes the server handle keepalive@openssh.com with `handle` instead of answering (test-only fault, via ssh2 internals). */
function onKeepalive(connection: Connection, handle: (socket: { write(b: Buffer): void }) => void): void {
  const c = connection as unknown as {
    _sock: { write(b: Buffer): void }
    _protocol: { _handlers: Record<string, (...args: unknown[]) => void> }
  }
  const handlers = c._protocol._handlers
  const original = handlers.GLOBAL_REQUEST!
  handlers.GLOBAL_REQUEST = (p, name, ...rest) => {
    if (name === 'keepalive@openssh.com') handle(c._sock)
    else original(p, name, ...rest)
  }
}

function listeners(emitter: EventEmitter): number {
  return emitter.eventNames().reduce((n, e) => n + emitter.listenerCount(e), 0)
}

describe('watchSsh bad input', () => {
  it('an invalid policy: InvalidPolicyError, no listener added', async () => {
    expectNoLeaks()
    const server = await startSsh2Server({ serverConfig: SERVER_QUIET })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
    })
    const before = listeners(client)
    for (const bad of [{ idle: -5 }, 'sometimes', { probes: 1.5 }, 42]) {
      expect(() => watchSsh(client, bad as never)).toThrow(InvalidPolicyError)
    }
    expect(listeners(client)).toBe(before)
  })

  it('not a connection, or an ssh2 Client never connected: typed errors', () => {
    for (const bad of [null, undefined, 42, 'conn', {}]) {
      expect(() => watchSsh(bad as never)).toThrow(
        expect.objectContaining({ code: 'KA_ERR_INVALID_ARGUMENT' }),
      )
    }
    expect(() => watchSsh(new EventEmitter())).toThrow(SshUnsupportedError)
    expect(() => watchSsh(new ssh2.Client())).toThrow(SshConnectionClosedError)
  })

  it('a connection already closed: SshConnectionClosedError, no listener added', async () => {
    expectNoLeaks()
    const server = await startSsh2Server({ serverConfig: SERVER_QUIET })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
    })
    const closed = nextEvent(client, 'close')
    client.end()
    await closed
    const before = listeners(client)
    expect(() => watchSsh(client, POLICY)).toThrow(SshConnectionClosedError)
    expect(listeners(client)).toBe(before)
  })

  it('a connection closed while watched: close with SshConnectionClosedError, then disconnected, no timer left', async () => {
    expectNoLeaks()
    const server = await startSsh2Server({ serverConfig: SERVER_QUIET })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
    })
    const before = listeners(client)
    const watcher = watchSsh(client, POLICY)
    const closed = nextEvent<SshCloseEvent>(watcher as never, 'close')
    client.end()
    const { reason } = await closed
    expect(reason).toBeInstanceOf(SshConnectionClosedError)
    expect(watcher.state).toBe('disconnected')
    expect(listeners(client)).toBe(before)
    watcher.stop() // idempotent
    expect(watcher.state).toBe('stopped')
  })

  it('a server answering keepalives with garbage on the wire: ssh2 fails the connection, the watcher reports it typed', async () => {
    expectNoLeaks()
    const server = await startSsh2Server({
      serverConfig: SERVER_QUIET,
      onClient: (connection) => onKeepalive(connection, (socket) => socket.write(randomBytes(64))),
    })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
    })
    const errors: Error[] = []
    client.on('error', (e) => errors.push(e))
    const watcher = watchSsh(client, POLICY)
    const dead: SshDeadEvent[] = []
    watcher.on('dead', (e) => dead.push(e))
    const { reason } = await nextEvent<SshCloseEvent>(watcher as never, 'close', 5000)
    expect(reason).toBeInstanceOf(SshConnectionClosedError)
    // ssh2's own protocol error (bad packet length / MAC) is the cause; the garbage was not taken for silence.
    expect(reason.cause).toBe(errors[0])
    expect(dead).toEqual([])
    expect(watcher.state).toBe('disconnected')
  })

  it('a server that never answers keepalives: dead on time, the connection destroyed with SshKeepaliveTimeoutError', async () => {
    expectNoLeaks()
    const server = await startSsh2Server({
      serverConfig: SERVER_QUIET,
      onClient: (connection) => onKeepalive(connection, () => {}),
    })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
    })
    const errors: Error[] = []
    client.on('error', (e) => errors.push(e))
    const watcher = watchSsh(client, POLICY)
    const dead = await nextEvent<SshDeadEvent>(watcher as never, 'dead', 5000)
    const closed = await nextEvent<SshCloseEvent>(watcher as never, 'close', 2000)
    recordDeadline({
      test: 'ssh/bad-input: server never answering keepalives, dead after the last byte',
      measured: dead.silenceMs,
      min: 900 - 1,
      max: 900 + 1000,
      slack: 'the 10 ms tick and scheduling (+ 1 s like the fault tests)',
    })
    expect(dead.by).toBe('watchSsh')
    expect(dead.reason).toBeInstanceOf(SshKeepaliveTimeoutError)
    expect(isKeepaliveError(dead.reason, 'KA_ERR_PROBE_TIMEOUT' as never)).toBe(false)
    expect(isKeepaliveError(dead.reason.cause, 'KA_ERR_PROBE_TIMEOUT')).toBe(true)
    // Never early; late by at most the 10 ms tick and scheduling (bounded at + 1 s like the fault tests).
    expect(dead.silenceMs).toBeGreaterThanOrEqual(900 - 1)
    expect(dead.silenceMs).toBeLessThanOrEqual(900 + 1000)
    expect(dead.probesSent).toBe(2)
    expect(errors).toEqual([dead.reason]) // the connection was destroyed with it, and emitted it once
    expect(closed.reason).toBe(dead.reason)
    expect(watcher.state).toBe('dead')
  })
})

/**
 * Bad input gets a typed KeepaliveError naming the field and the value; `base` is never written to; nothing leaks.
 * No server needed: these fail before any connection.
 */
import net from 'node:net'
import { isKeepaliveError, tcpSettings } from '@keepalive/core'
import { expectNoLeaks } from '@keepalive/test-harness'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { pgOptions, watchPgPool } from '../src/index.js'
import { isSupportedPgVersion } from '../src/options.js'

const code = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('pgOptions', () => {
  it('returns pg options with the stream factory, pg keepAlive off, the idle rule; base untouched', () => {
    const base = Object.freeze({
      connectionString: 'postgres://u@h/db',
      max: 5,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      idleTimeoutMillis: 600_000,
    })
    const options = pgOptions('balanced', base, { pathIdleTimeout: 350_000 })
    expect(options).toMatchObject({ connectionString: 'postgres://u@h/db', max: 5, keepAlive: false })
    expect(options.idleTimeoutMillis).toBe(315_000)
    expect('keepAliveInitialDelayMillis' in options).toBe(false)
    expect(typeof options.stream).toBe('function')
    expect(base).toEqual({
      connectionString: 'postgres://u@h/db',
      max: 5,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      idleTimeoutMillis: 600_000,
    })
    // No path known: the caller's (or pg-pool's default) idle timeout.
    expect(pgOptions().idleTimeoutMillis).toBe(10_000)
    expect(pgOptions('fast', { idleTimeoutMillis: 3000 }).idleTimeoutMillis).toBe(3000)
  })

  it("the factory makes a fresh TCP socket per connection, or keeps the caller's factory", () => {
    expectNoLeaks()
    const options = pgOptions('fast')
    const a = options.stream({})
    const b = options.stream({})
    expect(a).toBeInstanceOf(net.Socket)
    expect(a).not.toBe(b)
    const made: net.Socket[] = []
    const wrapped = pgOptions('fast', {
      stream: () => {
        const socket = new net.Socket()
        made.push(socket)
        return socket
      },
    })
    expect(wrapped.stream({})).toBe(made[0])
    for (const socket of [a, b, ...made]) (socket as net.Socket).destroy()
  })

  it('bad input: typed errors naming the field and the value', () => {
    expect(code(() => pgOptions({ idle: 'soon' }))).toBe('KA_ERR_INVALID_POLICY')
    expect(code(() => pgOptions('balanced', 'postgres://x' as never))).toBe('KA_ERR_INVALID_ARGUMENT')
    expect(() => pgOptions('balanced', [] as never)).toThrow(
      /base must be a pg Client or Pool options object, got \[\]/,
    )
    expect(code(() => pgOptions('balanced', { keepAlive: false }))).toBe('KA_ERR_PG_KEEPALIVE_OFF')
    expect(() => pgOptions('balanced', { keepAlive: 'yes' as never })).toThrow(
      /base.keepAlive must be a boolean .* got "yes"/,
    )
    // One stream instance cannot serve a pool's many connections.
    const socket = new net.Socket()
    expect(() => pgOptions('balanced', { stream: socket })).toThrow(/base.stream must be a factory function/)
    socket.destroy()
    expect(() => pgOptions('balanced', { idleTimeoutMillis: -5 })).toThrow(/base.idleTimeoutMillis .* got -5/)
    expect(() => pgOptions('balanced', {}, { pathIdleTimeout: 'NaN' as never })).toThrow(
      /pathIdleTimeout .* got "NaN"/,
    )
    expect(() => pgOptions('balanced', {}, { pathIdleTimeout: 1000 })).toThrow(/leaves no room/)
    expect(() => pgOptions('balanced', {}, { connectionString: 'x' } as never)).toThrow(
      /options.connectionString is not an option .* pg's options go in the second argument/,
    )
  })

  it('supported pg versions: 8.9 (the stream factory) up to 9', () => {
    expect(isSupportedPgVersion('8.9.0')).toBe(true)
    expect(isSupportedPgVersion('8.23.1')).toBe(true)
    expect(isSupportedPgVersion('8.8.0')).toBe(false)
    expect(isSupportedPgVersion('7.18.2')).toBe(false)
    expect(isSupportedPgVersion('9.0.0')).toBe(false)
    expect(isSupportedPgVersion('garbage')).toBe(false)
  })

  it("the policy arithmetic is core's (tcpSettings)", () => {
    expect(tcpSettings('fast').userTimeoutMs).toBe(8000)
  })
})

describe('watchPgPool', () => {
  it('wrong driver objects: KA_ERR_PG_UNSUPPORTED, a pg.Client named as such', () => {
    expect(code(() => watchPgPool({} as never))).toBe('KA_ERR_PG_UNSUPPORTED')
    expect(code(() => watchPgPool(null as never))).toBe('KA_ERR_PG_UNSUPPORTED')
    const client = new pg.Client({ connectionString: 'postgres://u@127.0.0.1:1/db' })
    expect(() => watchPgPool(client as never)).toThrow(/a pg.Client\? watch the pool it came from/)
  })

  it('bad options and listeners: typed errors; stop() unhooks from the pool', () => {
    expectNoLeaks()
    const pool = new pg.Pool({ connectionString: 'postgres://u@127.0.0.1:1/db' })
    const listeners = () => ['release', 'acquire', 'remove'].map((e) => pool.listenerCount(e))
    expect(code(() => watchPgPool(pool, { probes: 0 }))).toBe('KA_ERR_INVALID_POLICY')
    expect(() => watchPgPool(pool, 'fast', { query: '' })).toThrow(
      /options.query must be a non-empty SQL string, got ""/,
    )
    expect(() => watchPgPool(pool, 'fast', { sql: 'SELECT 1' } as never)).toThrow(
      /options.sql is not an option/,
    )
    expect(listeners()).toEqual([0, 0, 0])
    const watcher = watchPgPool(pool, 'fast')
    expect(listeners()).toEqual([1, 1, 1])
    expect(() => watcher.on('bogus' as never, () => {})).toThrow(/unknown event "bogus"/)
    expect(() => watcher.on('dead', 'x' as never)).toThrow(/the dead listener must be a function/)
    expect(
      isKeepaliveError(
        catchError(() => watcher.on('dead', 1 as never)),
        'KA_ERR_INVALID_ARGUMENT',
      ),
    ).toBe(true)
    watcher.stop()
    watcher.stop()
    expect(listeners()).toEqual([0, 0, 0])
    expect(watcher.watched).toBe(0)
  })
})

function catchError(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

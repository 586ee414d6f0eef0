/**
 * The private ssh2 fields watchSsh relies on (src/ssh2-internals.ts), pinned against the installed ssh2. When an
 * ssh2 upgrade moves any of them, this file fails, naming the field — before a user's watcher silently stops
 * probing. Also: which one runs when ssh2's own keepalive is on too, and that `dead` fires for whichever noticed.
 */
import { createRequire } from 'node:module'
import { expectNoLeaks, recordDeadline, registerCleanup, startSsh2Server } from '@keepalive/test-harness'
import ssh2 from 'ssh2'
import { describe, expect, it } from 'vitest'
import { type SshDeadEvent, SshKeepaliveTimeoutError, SshUnsupportedError, watchSsh } from '../src/index.js'
import { SSH2_MAJOR, ssh2Access } from '../src/ssh2-internals.js'
import { connectSsh, nextEvent, sleep } from './helpers.js'

const SERVER_QUIET = { keepaliveInterval: 2 ** 31 - 1 }
const version = (createRequire(import.meta.url)('ssh2/package.json') as { version: string }).version

describe(`ssh2 ${version} internals`, () => {
  it(`is ssh2 ${SSH2_MAJOR}.x, whose fields are the ones ssh2-internals.ts reads`, async () => {
    expect(Number.parseInt(version, 10)).toBe(SSH2_MAJOR)
    const idle = new ssh2.Client() as unknown as Record<string, unknown>
    expect('_resetKA' in idle && 'config' in idle && '_callbacks' in idle).toBe(true)
    expect(ssh2.Server.KEEPALIVE_CLIENT_INTERVAL).toBe(15_000) // the undocumented server default the README names
    expect(ssh2.Server.KEEPALIVE_CLIENT_COUNT_MAX).toBe(3)

    let serverSide: Record<string, unknown> | undefined
    const seen: string[] = []
    const server = await startSsh2Server({
      serverConfig: {
        ...SERVER_QUIET,
        debug: (line: string) => {
          if (line.includes('GLOBAL_REQUEST')) seen.push(line.replace(/^\[[^\]]*\] /, ''))
        },
      },
      onClient: (c) => {
        serverSide = c as unknown as Record<string, unknown>
      },
    })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
    })
    // biome-ignore lint/suspicious/noExplicitAny: reading ssh2's private fields is this test's purpose
    const c = client as unknown as Record<string, any>
    expect(typeof c._protocol.ping).toBe('function')
    expect(c._protocol._authenticated).toBe(true)
    expect(c._protocol._server).toBe(false)
    expect(Array.isArray(c._callbacks)).toBe(true)
    expect(typeof c._resetKA).toBe('function')
    expect(typeof c._sock.on).toBe('function')
    expect(c.config.keepaliveInterval).toBe(0)
    // biome-ignore lint/suspicious/noExplicitAny: as above
    const s = serverSide as Record<string, any>
    expect(s._protocol._server).toBe(true)
    expect(s._protocol._authenticated).toBe(true)
    expect(typeof s._sock.on).toBe('function')

    // ping() sends keepalive@openssh.com with want-reply, and its placeholder takes the reply from ssh2's queue,
    // so a forwardIn() right behind it still gets its own answer.
    const access = ssh2Access(client)
    expect(access.side).toBe('client')
    access.ping()
    expect(c._callbacks.length).toBe(1)
    const forward = new Promise<Error | undefined>((resolve) =>
      client.forwardIn('127.0.0.1', 0, (e) => resolve(e)),
    )
    expect(c._callbacks.length).toBe(2)
    const forwardError = await forward
    expect(forwardError?.message).toMatch(/Unable to bind/) // the harness server refuses forwarding: the FAILURE was its own
    expect(c._callbacks.length).toBe(0)
    await sleep(50)
    expect(seen).toContain('Inbound: GLOBAL_REQUEST (keepalive@openssh.com)')
    expect(ssh2Access(serverSide as object).side).toBe('server')
  })

  it('fails loudly, with SshUnsupportedError naming the field, when a field is missing', async () => {
    const server = await startSsh2Server({ serverConfig: SERVER_QUIET })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
    })
    const c = client as unknown as Record<string, unknown>
    const saved = c._callbacks
    c._callbacks = undefined
    expect(() => watchSsh(client)).toThrow(SshUnsupportedError)
    expect(() => watchSsh(client)).toThrow(/_callbacks/)
    c._callbacks = saved
    const protocol = c._protocol as Record<string, unknown>
    const ping = protocol.ping
    protocol.ping = undefined
    expect(() => watchSsh(client)).toThrow(/_protocol\.ping/)
    protocol.ping = ping
    watchSsh(client).stop()
  })
})

describe('with ssh2’s own keepalive on too', () => {
  /** A fault made through ssh2's internals (test only): the server ignores keepalive requests. */
  const ignoreKeepalives = (connection: object) => {
    const handlers = (connection as { _protocol: { _handlers: Record<string, unknown> } })._protocol._handlers
    const original = handlers.GLOBAL_REQUEST as (...a: unknown[]) => void
    handlers.GLOBAL_REQUEST = (p: unknown, name: string, ...rest: unknown[]) => {
      if (name !== 'keepalive@openssh.com') original(p, name, ...rest)
    }
  }

  it('client: ssh2’s 300 ms × 1 notices before the watcher’s fast policy; dead fires once, by ssh2', async () => {
    expectNoLeaks()
    const server = await startSsh2Server({ serverConfig: SERVER_QUIET, onClient: ignoreKeepalives })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
      keepaliveInterval: 300,
      keepaliveCountMax: 1,
    })
    const errors: Error[] = []
    client.on('error', (e) => errors.push(e))
    const watcher = watchSsh(client, 'fast')
    expect(watcher.ssh2Keepalive).toEqual({ intervalMs: 300, countMax: 1 })
    const dead = await nextEvent<SshDeadEvent>(watcher as never, 'dead', 3000)
    await nextEvent(watcher as never, 'close', 2000)
    expect(dead.by).toBe('ssh2')
    expect(dead.reason).toBeInstanceOf(SshKeepaliveTimeoutError)
    expect((dead.reason.cause as Error).message).toBe('Keepalive timeout')
    expect(errors.map((e) => e.message)).toEqual(['Keepalive timeout'])
    expect(watcher.state).toBe('dead')
  })

  it('server: ssh2’s server keepalive notices first; the watcher destroys the socket instead of a graceful end', async () => {
    expectNoLeaks()
    let watcherOf: ((w: ReturnType<typeof watchSsh>) => void) | undefined
    const watched = new Promise<ReturnType<typeof watchSsh>>((resolve) => {
      watcherOf = resolve
    })
    const server = await startSsh2Server({
      serverConfig: { keepaliveInterval: 300, keepaliveCountMax: 1 },
      onClient: (connection) => watcherOf!(watchSsh(connection, 'fast')),
    })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
    })
    ignoreKeepalives(client)
    client.on('error', () => {})
    const clientClosed = nextEvent(client, 'close', 3000)
    const watcher = await watched
    const dead = await nextEvent<SshDeadEvent>(watcher as never, 'dead', 3000)
    await clientClosed
    recordDeadline({
      test: "ssh/ssh2-internals: server, ssh2's keepalive notices first",
      measured: dead.silenceMs,
      max: 5000 + 3 * 1000,
      slack: "far sooner than 'fast' (8 s); ssh2's own 600 ms (strict <)",
    })
    expect(dead.by).toBe('ssh2')
    expect(dead.silenceMs).toBeLessThan(5000 + 3 * 1000) // far sooner than 'fast' (8 s): ssh2's 600 ms
  })

  it('a transport error ETIMEDOUT (how the kernel reports a TCP keepalive or user timeout) is a death by tcp', async () => {
    expectNoLeaks()
    const server = await startSsh2Server({ serverConfig: SERVER_QUIET })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
    })
    const errors: Error[] = []
    client.on('error', (e) => errors.push(e))
    const watcher = watchSsh(client, 'fast')
    const dead = nextEvent<SshDeadEvent>(watcher as never, 'dead', 2000)
    // The error the kernel's keepalive produces on a real socket (measured in @keepalive/tcp's namespace tests),
    // delivered the way Node delivers it: as the socket's destroy error.
    const timeout = Object.assign(new Error('read ETIMEDOUT'), {
      code: 'ETIMEDOUT',
      errno: -110,
      syscall: 'read',
    })
    ;(client as unknown as { _sock: { destroy(e: Error): void } })._sock.destroy(timeout)
    const event = await dead
    expect(event.by).toBe('tcp')
    expect(event.reason).toBeInstanceOf(SshKeepaliveTimeoutError)
    expect(event.reason.cause).toBe(timeout)
    expect(errors).toEqual([timeout])
    expect(watcher.state).toBe('dead')
  })

  it('client: streaming keeps ssh2’s count reset, so its keepalive does not cut a busy connection (ssh2 #474)', async () => {
    expectNoLeaks()
    // The server streams 1 KiB every 50 ms and ignores keepalive requests: only received data shows life.
    const timers = new Set<NodeJS.Timeout>()
    registerCleanup('streaming timers', () => {
      for (const timer of timers) clearInterval(timer)
    })
    const server = await startSsh2Server({
      serverConfig: SERVER_QUIET,
      onClient: ignoreKeepalives,
      exec: (_command, stream) => {
        const timer = setInterval(() => stream.write(Buffer.alloc(1024)), 50)
        timers.add(timer)
      },
    })
    const config = { host: server.host, port: server.port, username: 'u', privateKey: server.privateKey }
    const plain = await connectSsh({ ...config, keepaliveInterval: 300, keepaliveCountMax: 1 })
    const watched = await connectSsh({ ...config, keepaliveInterval: 300, keepaliveCountMax: 1 })
    const plainErrors: Error[] = []
    const watchedErrors: Error[] = []
    plain.on('error', (e) => plainErrors.push(e))
    watched.on('error', (e) => watchedErrors.push(e))
    const watcher = watchSsh(watched, { idle: '300ms', interval: '300ms', probes: 1 })
    const dead: SshDeadEvent[] = []
    watcher.on('dead', (e) => dead.push(e))
    for (const client of [plain, watched]) client.exec('stream', (_error, s) => s?.resume())
    await sleep(2000)
    console.log(
      `streaming 20 KiB/s for 2 s with ssh2 keepalive 300 ms × 1: plain ssh2 ${plainErrors.map((e) => e.message).join(', ') || 'alive'}; watched ${watchedErrors.length === 0 ? 'alive' : watchedErrors.map((e) => e.message).join(', ')}`,
    )
    expect(plainErrors.map((e) => e.message)).toEqual(['Keepalive timeout']) // #474, reproduced
    expect(watchedErrors).toEqual([])
    expect(dead).toEqual([])
    watcher.stop()
  })
})

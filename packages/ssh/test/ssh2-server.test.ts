/**
 * Against ssh2's in-process server: a session runs a command; the keepalive requests the server sees are the
 * ones the watcher sent, spaced by the policy's idle; the server-side watcher against an ssh2 client.
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { performance } from 'node:perf_hooks'
import { expectNoLeaks, recordDeadline, startSsh2Server } from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import { type SshWatcher, watchSsh } from '../src/index.js'
import { connectSsh, EARLIEST_GAP_MS, execSsh, nextEvent, sleep } from './helpers.js'

/** A probe may be in flight when the test stops counting: wait for its answer, so every probe can be matched. */
async function settle(watcher: SshWatcher): Promise<void> {
  if (watcher.state === 'probing') await nextEvent(watcher as never, 'alive', 1000)
}

/** ssh2's server keepalive would ping our client, and replies to it are life: keep it out of the count. */
const SERVER_QUIET = { keepaliveInterval: 2 ** 31 - 1 }
describe('watchSsh client against an ssh2 server', () => {
  it('runs a command, and the server sees one keepalive@openssh.com per idle period', async () => {
    expectNoLeaks()
    const seen: number[] = []
    const server = await startSsh2Server({
      serverConfig: {
        ...SERVER_QUIET,
        debug: (line: string) => {
          if (line.includes('Inbound: GLOBAL_REQUEST (keepalive@openssh.com)')) seen.push(performance.now())
        },
      },
    })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
    })
    expect(await execSsh(client, 'echo hello')).toEqual({ stdout: 'hello\n', code: 0 })
    const policy = { idle: '400ms', interval: '400ms', probes: 2 }
    // Small packets both ways: without TCP_NODELAY a reply can wait for a delayed ACK (40 ms; seen on Node 24).
    client.setNoDelay(true)
    for (const c of server.clients) (c as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true)
    const watcher = watchSsh(client, policy)
    let probes = 0
    let alive = 0
    watcher.on('probe', () => probes++)
    watcher.on('alive', () => alive++)
    await sleep(2500)
    await settle(watcher)
    watcher.stop()
    const gaps = seen.slice(1).map((t, i) => t - seen[i]!)
    for (const gap of gaps) {
      recordDeadline({
        test: 'ssh/ssh2-server: probe gap against an ssh2 server',
        measured: gap,
        min: EARLIEST_GAP_MS,
        max: 400 + 60,
        slack:
          'low: the scheduler counts a reply read in a run up to 2.5 ms late from its planned tick, whole-ms timers; high: round trip, the 10 ms tick, timer lateness (strict < max)',
      })
    }
    // Each answered probe restarts the idle period: one probe per 400 ms + round trip + up to one 10 ms tick.
    expect(seen.length).toBe(probes)
    expect(alive).toBe(probes)
    expect(probes).toBeGreaterThanOrEqual(5)
    expect(probes).toBeLessThanOrEqual(6)
    console.log(
      `ssh2 server saw ${seen.length} keepalive requests, gaps ${gaps.map((g) => g.toFixed(0)).join(' ')} ms`,
    )
    for (const gap of gaps) {
      // Not earlier than idle less the grid noise above; later by the round trip, the 10 ms tick and timer lateness.
      expect(gap).toBeGreaterThanOrEqual(EARLIEST_GAP_MS)
      expect(gap).toBeLessThan(400 + 60)
    }
  })
})

describe('replies and diagnostics', () => {
  /** The server answers keepalive@openssh.com as `mode` says (test-only fault through ssh2's internals). */
  function answering(connection: object, mode: () => 'success' | 'failure' | 'never'): void {
    const protocol = (
      connection as {
        _protocol: {
          _handlers: Record<string, (...args: unknown[]) => void>
          requestSuccess(): void
          requestFailure(): void
        }
      }
    )._protocol
    const handlers = protocol._handlers
    const original = handlers.GLOBAL_REQUEST!
    handlers.GLOBAL_REQUEST = (p, name, ...rest) => {
      if (name !== 'keepalive@openssh.com') return original(p, name, ...rest)
      const m = mode()
      if (m === 'success') protocol.requestSuccess()
      else if (m === 'failure') protocol.requestFailure()
    }
  }

  for (const reply of ['success', 'failure'] as const) {
    it(`REQUEST_${reply.toUpperCase()} answers a probe`, async () => {
      expectNoLeaks()
      const server = await startSsh2Server({
        serverConfig: SERVER_QUIET,
        onClient: (c) => answering(c, () => reply),
      })
      const client = await connectSsh({
        host: server.host,
        port: server.port,
        username: 'u',
        privateKey: server.privateKey,
      })
      const watcher = watchSsh(client, { idle: '200ms', interval: '200ms', probes: 1 }) // detection 400 ms
      let probes = 0
      let alive = 0
      const dead: unknown[] = []
      watcher.on('probe', () => probes++)
      watcher.on('alive', () => alive++)
      watcher.on('dead', (e) => dead.push(e))
      await sleep(1500)
      await settle(watcher)
      expect(dead).toEqual([])
      expect(probes).toBeGreaterThanOrEqual(5) // one per 200 ms + round trip
      expect(alive).toBe(probes)
      watcher.stop()
    })
  }

  it('publishes keepalive:ssh:watch, probe, alive, dead and close', async () => {
    expectNoLeaks()
    let mode: 'success' | 'never' = 'success'
    const server = await startSsh2Server({
      serverConfig: SERVER_QUIET,
      onClient: (c) => answering(c, () => mode),
    })
    const client = await connectSsh({
      host: server.host,
      port: server.port,
      username: 'u',
      privateKey: server.privateKey,
    })
    client.on('error', () => {})
    const messages: Array<[string, Record<string, unknown>]> = []
    const names = ['watch', 'probe', 'alive', 'dead', 'close']
    const subscribers = names.map((name) => {
      const fn = (m: unknown) => messages.push([name, m as Record<string, unknown>])
      diagnosticsChannel.subscribe(`keepalive:ssh:${name}`, fn)
      return () => diagnosticsChannel.unsubscribe(`keepalive:ssh:${name}`, fn)
    })
    try {
      const watcher = watchSsh(client, { idle: '200ms', interval: '200ms', probes: 2 })
      await sleep(500)
      mode = 'never'
      await nextEvent(watcher as never, 'close', 3000)
      const kinds = messages.map(([name]) => name)
      expect(kinds[0]).toBe('watch')
      expect(kinds).toContain('probe')
      expect(kinds).toContain('alive')
      expect(kinds.slice(-2)).toEqual(['dead', 'close'])
      const [, watch] = messages[0]!
      expect(watch).toMatchObject({ connection: client, watcher, side: 'client', ssh2Keepalive: undefined })
      const dead = messages.find(([n]) => n === 'dead')![1]
      expect(dead).toMatchObject({ connection: client, watcher, by: 'watchSsh', probesSent: 2 })
      expect((dead.reason as Error & { code: string }).code).toBe('KA_ERR_SSH_KEEPALIVE_TIMEOUT')
      expect(messages.at(-1)![1].reason).toBe(dead.reason)
      const probe = messages.find(([n]) => n === 'probe')![1]
      recordDeadline({
        test: 'ssh/ssh2-server: diagnostics probe silenceMs',
        measured: probe.silenceMs as number,
        min: 199,
        slack: 'whole-ms timers (tick)',
      })
      expect(probe).toMatchObject({ connection: client, watcher, attempt: 1 })
      expect(probe.silenceMs as number).toBeGreaterThanOrEqual(199)
    } finally {
      for (const unsubscribe of subscribers) unsubscribe()
    }
  })
})

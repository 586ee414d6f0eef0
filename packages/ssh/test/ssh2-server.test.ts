/**
 * Against ssh2's in-process server: a session runs a command; the keepalive requests the server sees are the
 * ones the watcher sent, spaced by the policy's idle; the server-side watcher against an ssh2 client.
 */
import { performance } from 'node:perf_hooks'
import { expectNoLeaks, startSsh2Server } from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import { watchSsh } from '../src/index.js'
import { connectSsh, execSsh, sleep } from './helpers.js'

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
    const watcher = watchSsh(client, policy)
    let probes = 0
    let alive = 0
    watcher.on('probe', () => probes++)
    watcher.on('alive', () => alive++)
    await sleep(2500)
    watcher.stop()
    // Each answered probe restarts the idle period: one probe per 400 ms + round trip + up to one 10 ms tick.
    expect(seen.length).toBe(probes)
    expect(alive).toBe(probes)
    expect(probes).toBeGreaterThanOrEqual(5)
    expect(probes).toBeLessThanOrEqual(6)
    const gaps = seen.slice(1).map((t, i) => t - seen[i]!)
    for (const gap of gaps) {
      // Never earlier than idle; later by the round trip, the 10 ms tick and timer lateness.
      expect(gap).toBeGreaterThanOrEqual(400 - 1)
      expect(gap).toBeLessThan(400 + 60)
    }
    console.log(
      `ssh2 server saw ${seen.length} keepalive requests, gaps ${gaps.map((g) => g.toFixed(0)).join(' ')} ms`,
    )
  })
})

/**
 * Streaming with a 1 s interval never reads as death: 200 MiB down from sshd as fast as it sends, and 200 MiB up
 * to an sshd session that reads in bursts (40 MiB, then 1.3 s asleep: the channel window is full and nothing at
 * all is received most of the time, so the watcher probes and sshd answers). Down, the client also runs ssh2's
 * own keepalive for the same policy (sshClientOptions): the two must not fight, and neither may cut the stream
 * (ssh2 alone counts only replies as life, ssh2 #474). Up, the watcher runs alone, so the probes during the
 * full-window silences are its own.
 */

import { expectNoLeaks, missingPrerequisites, startSshd } from '@keepalive/test-harness'
import type { ClientChannel } from 'ssh2'
import { describe, expect, it } from 'vitest'
import { sshClientOptions, watchSsh } from '../src/index.js'
import { connectSsh, type Ssh2Client } from './helpers.js'

const MiB = 1024 * 1024
const TOTAL = 200 * MiB
const POLICY = { idle: '1s', interval: '1s', probes: 2 }

function exec(client: Ssh2Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) =>
    client.exec(command, (error, stream) => (error ? reject(error) : resolve(stream))),
  )
}

async function watchedClient(withSsh2Keepalive: boolean) {
  const sshd = await startSshd()
  const config = { host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey }
  const client = await connectSsh(withSsh2Keepalive ? sshClientOptions(POLICY, config) : config)
  const watcher = watchSsh(client, POLICY)
  const events = { probes: 0, alive: 0, dead: [] as unknown[], errors: [] as unknown[] }
  watcher.on('probe', () => events.probes++)
  watcher.on('alive', () => events.alive++)
  watcher.on('dead', (e) => events.dead.push(e))
  client.on('error', (e) => events.errors.push(e))
  return { client, watcher, events }
}

describe.skipIf(missingPrerequisites('sshd', 'ssh-keygen'))('streaming with interval 1 s', () => {
  it('200 MiB down from sshd, watcher and ssh2 keepalive both on: never declared dead', async () => {
    expectNoLeaks()
    const { client, watcher, events } = await watchedClient(true)
    expect(watcher.ssh2Keepalive).toEqual({ intervalMs: 1000, countMax: 2 })
    const stream = await exec(client, `head -c ${TOTAL} /dev/zero`)
    const started = performance.now()
    let received = 0
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length
    })
    stream.stderr.resume()
    await new Promise((resolve) => stream.on('close', resolve))
    const seconds = (performance.now() - started) / 1000
    console.log(
      `down: ${(received / MiB).toFixed(0)} MiB in ${seconds.toFixed(1)} s (${(received / MiB / seconds).toFixed(0)} MiB/s); probes ${events.probes}, dead ${events.dead.length}`,
    )
    expect(received).toBe(TOTAL)
    expect(events.dead).toEqual([])
    expect(events.errors).toEqual([])
    expect(watcher.state).not.toBe('dead')
    watcher.stop()
  })

  it('200 MiB up to an sshd session that reads slowly (window full most of the time): never declared dead', async () => {
    expectNoLeaks()
    const { client, watcher, events } = await watchedClient(false)
    const burst = 40 * MiB
    // Reads 40 MiB, sleeps 1.3 s (longer than idle: nothing is received, so the watcher probes), repeats; prints the total.
    const reader = `total=0; while :; do n=$(head -c ${burst} | wc -c); total=$((total+n)); [ "$n" -lt ${burst} ] && break; sleep 1.3; done; echo $total`
    const stream = await exec(client, `sh -c '${reader}'`)
    let output = ''
    stream.on('data', (d: Buffer) => {
      output += d.toString()
    })
    stream.stderr.resume()
    const closed = new Promise((resolve) => stream.on('close', resolve))
    const chunk = Buffer.alloc(MiB)
    const started = performance.now()
    let blockedMs = 0
    for (let sent = 0; sent < TOTAL; sent += MiB) {
      if (!stream.write(chunk)) {
        const t = performance.now()
        await new Promise((resolve) => stream.once('drain', resolve))
        blockedMs += performance.now() - t
      }
    }
    stream.end()
    await closed
    const seconds = (performance.now() - started) / 1000
    console.log(
      `up: ${output.trim()} bytes read by the slow reader in ${seconds.toFixed(1)} s, writer blocked (window full) ${((blockedMs / 1000 / seconds) * 100).toFixed(0)}% of the time; probes ${events.probes}, answered ${events.alive}, dead ${events.dead.length}`,
    )
    expect(Number(output.trim())).toBe(TOTAL)
    expect(blockedMs / 1000 / seconds).toBeGreaterThan(0.5)
    // The sleeps were silences longer than idle: probes went out and every one was answered.
    expect(events.probes).toBeGreaterThan(0)
    expect(events.alive).toBe(events.probes)
    expect(events.dead).toEqual([])
    expect(events.errors).toEqual([])
    watcher.stop()
  })
})

/** Test helpers: connect an ssh2 client and wait for 'ready', run a command, wait for events with a deadline. */
import { type ChildProcess, spawn } from 'node:child_process'
import type { EventEmitter } from 'node:events'
import { registerCleanup, requireBinary } from '@keepalive/test-harness'
import ssh2, { type ConnectConfig } from 'ssh2'

const { Client } = ssh2
export type Ssh2Client = InstanceType<typeof Client>

/** Connects and resolves at 'ready'; the client is ended at the test's cleanup. */
export function connectSsh(config: ConnectConfig): Promise<Ssh2Client> {
  const client = new Client()
  registerCleanup('ssh2 client', () => {
    client.removeAllListeners('ready')
    client.on('error', () => {})
    client.destroy()
  })
  return new Promise((resolve, reject) => {
    client.once('ready', () => {
      client.removeListener('error', reject)
      resolve(client)
    })
    client.once('error', reject)
    client.connect({ readyTimeout: 10_000, ...config })
  })
}

/** Runs `command` and resolves with its stdout and exit code. */
export function execSsh(
  client: Ssh2Client,
  command: string,
): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) return reject(error)
      let stdout = ''
      let code: number | null = null
      stream.on('data', (d: Buffer) => {
        stdout += d.toString()
      })
      stream.stderr.resume()
      stream.on('exit', (c: number | null) => {
        code = c
      })
      stream.on('close', () => resolve({ stdout, code }))
    })
  })
}

/** The first `event` of `emitter`, or a rejection after `timeoutMs`. */
export function nextEvent<T = unknown>(emitter: EventEmitter, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, on)
      reject(new Error(`no ${event} within ${timeoutMs} ms`))
    }, timeoutMs)
    const on = (value: T) => {
      clearTimeout(timer)
      resolve(value)
    }
    emitter.once(event, on)
  })
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Runs OpenSSH's `ssh` client; killed (and waited for) at the test's cleanup. */
export function spawnOpenSsh(args: readonly string[]): ChildProcess & { exited: Promise<number | null> } {
  const child = spawn(requireBinary('ssh'), args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  child.stdout?.resume()
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  registerCleanup('ssh client', async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT')
      child.kill('SIGKILL')
    }
    await exited
  })
  return Object.assign(child, { exited, stderrText: () => stderr })
}

/** `ssh` options for a throwaway test server: key file, no host key check, no config, no agent, no tty. */
export function openSshArgs(
  host: string,
  port: number,
  keyPath: string,
  extra: readonly string[] = [],
): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    keyPath,
    '-p',
    String(port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'LogLevel=ERROR',
    ...extra.flatMap((o) => ['-o', o]),
    '-N',
    `root@${host}`,
  ]
}

/**
 * The earliest gap between two probes of a 400 ms idle. After a reply to a probe the next probe comes exactly 400 ms
 * after the reply was read (core's monitor.ts, exactProbeAtMs). After other data (a plain touch) probes stay on the
 * 10 ms tick grid: data read while a scheduler run was up to lateNoiseMs (2.5 ms at a 10 ms tick) late counts from
 * that run's planned tick (seenTick), so the next probe may come up to 2.5 ms early; Node's whole-millisecond timers
 * add 1 ms. Measured once at 398.995 ms (ssh2 server, Node 26) before replies counted exactly, within this.
 */
export const EARLIEST_GAP_MS = 400 - 2.5 - 1

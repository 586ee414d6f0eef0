/**
 * `check ssh://user@host[:port]`: connects with ssh2, `sshClientOptions(policy)` and `watchSsh`, authenticating with
 * the SSH agent (SSH_AUTH_SOCK) or a private key file (`--identity`, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa);
 * never a password on the command line, and nothing secret is printed. Reports the keepalive settings ssh2 runs
 * with, what OpenSSH would be given, the negotiated algorithms and the server's host key fingerprint, and times a
 * few keepalive@openssh.com requests (watchSsh's probe) to their replies. The host key is not checked against
 * known_hosts: a warning says so and prints the fingerprint to compare.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { definePolicy, sshSettings } from '@keepalive/core'
import { sshClientOptions, watchSsh } from '@keepalive/ssh'
import ssh2, { type ConnectConfig, type NegotiatedAlgorithms } from 'ssh2'
import { CliCheckFailedError, CliUsageError } from '../errors.js'
import { type CheckOptions, type CheckResult, roundTrips } from './result.js'

export interface SshCheckOptions extends CheckOptions {
  /** A private key file (OpenSSH or PEM, no passphrase); default: the agent, else ~/.ssh/id_*. */
  readonly identity?: string
}

function credentials(
  identity: string | undefined,
): Pick<ConnectConfig, 'agent' | 'privateKey'> & { how: string } {
  if (identity !== undefined) {
    let key: Buffer
    try {
      key = readFileSync(identity)
    } catch (cause) {
      throw new CliUsageError(
        `--identity: cannot read ${identity} (${(cause as NodeJS.ErrnoException).code ?? cause})`,
        { cause },
      )
    }
    const parsed = ssh2.utils.parseKey(key)
    if (parsed instanceof Error) {
      throw new CliUsageError(
        `--identity: ${identity} is not a usable private key (${parsed.message}); use the agent for keys with a passphrase`,
      )
    }
    return { privateKey: key, how: `key file ${identity}` }
  }
  if (process.env.SSH_AUTH_SOCK) return { agent: process.env.SSH_AUTH_SOCK, how: 'the SSH agent' }
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const path = join(homedir(), '.ssh', name)
    if (existsSync(path)) return credentials(path)
  }
  throw new CliUsageError(
    'check ssh://: no credentials: start an SSH agent (SSH_AUTH_SOCK) or give --identity FILE',
  )
}

export async function checkSsh(display: string, url: URL, options: SshCheckOptions): Promise<CheckResult> {
  if (url.password !== '') {
    throw new CliUsageError(
      'check ssh://: a password in the URL would end up in shell history; use the SSH agent or --identity',
    )
  }
  if (url.username === '') throw new CliUsageError(`check: ${display} names no user (ssh://user@host)`)
  const auth = credentials(options.identity)
  const { how, ...secret } = auth
  let fingerprint = ''
  let negotiated: NegotiatedAlgorithms | undefined
  const client = new ssh2.Client()
  const config = sshClientOptions(options.policy, {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 22 : Number(url.port),
    username: decodeURIComponent(url.username),
    readyTimeout: options.timeout,
    ...secret,
    hostVerifier: (key: Buffer) => {
      fingerprint = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`
      return true
    },
  })
  client.on('handshake', (n) => {
    negotiated = n
  })
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve)
      client.once('error', (error) => {
        const e = error as Error & { level?: string; code?: string }
        const why =
          e.level === 'client-authentication' ? `authentication with ${how} failed` : (e.code ?? e.message)
        reject(new CliCheckFailedError(`cannot connect to ${display}: ${why}`, { cause: error }))
      })
      client.connect(config)
    })
    client.on('error', () => {})
    const samples = await keepaliveRoundTrips(client, display, options)
    const s = sshSettings(options.policy)
    return {
      url: display,
      protocol: 'ssh',
      policy: options.policy,
      asked: {
        'keepaliveInterval (ssh2), ms': s.client.keepaliveInterval,
        'keepaliveCountMax (ssh2)': s.client.keepaliveCountMax,
        ServerAliveInterval: s.openSsh.intervalSeconds,
        ServerAliveCountMax: s.openSsh.countMax,
        'detection, ms': s.detectionTime,
      },
      applied: {
        'keepaliveInterval (ssh2), ms': config.keepaliveInterval,
        'keepaliveCountMax (ssh2)': config.keepaliveCountMax,
        'authenticated with': how,
        'server host key': fingerprint,
        kex: negotiated?.kex ?? null,
        cipher: negotiated?.cs.cipher ?? null,
        'keepalive@openssh.com replies': `${samples.length}/${options.samples}`,
      },
      roundTrips: roundTrips('keepalive@openssh.com → reply (watchSsh)', samples),
      warnings: [
        ...s.warnings,
        `The host key was not checked against known_hosts: compare ${fingerprint} with the server's.`,
      ],
    }
  } finally {
    client.end()
  }
}

/** watchSsh with a probe after 50 ms of silence: each reply is an `alive` with its round trip. */
function keepaliveRoundTrips(client: ssh2.Client, display: string, options: CheckOptions): Promise<number[]> {
  const probing = definePolicy({ idle: 50, interval: options.timeout, probes: 1 })
  const watcher = watchSsh(client, probing)
  const samples: number[] = []
  return new Promise((resolve, reject) => {
    watcher.on('alive', ({ rttMs }) => {
      if (rttMs !== undefined) samples.push(rttMs)
      if (samples.length >= options.samples) {
        watcher.stop()
        resolve(samples)
      }
    })
    watcher.on('dead', () => {
      watcher.stop()
      reject(
        new CliCheckFailedError(`${display}: no reply to keepalive@openssh.com within ${options.timeout} ms`),
      )
    })
  })
}

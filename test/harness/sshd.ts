import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AddressInUseError, startChildPeer } from './child-peer.js'
import { run } from './exec.js'
import type { ProcessPeer } from './peer.js'
import { freePort } from './ports.js'
import { findBinary, requireBinary } from './prerequisites.js'
import { makeTempDir } from './tmp.js'

export interface SshdOptions {
  /** Public key lines (OpenSSH format) accepted besides the generated client key. */
  authorizedKey?: string | readonly string[]
  host?: string
  netns?: string
  /** Extra sshd_config lines (e.g. `ClientAliveInterval 1`). */
  config?: readonly string[]
}

export interface SshdPeer extends ProcessPeer {
  version: string
  username: 'root'
  /** The generated client key (OpenSSH format, ed25519, no passphrase): pass it to ssh2's `privateKey`. */
  privateKey: string
  privateKeyPath: string
  publicKey: string
  /** The server's host public key line (for known_hosts / host verification). */
  hostPublicKey: string
  configPath: string
}

let cachedVersion: string | undefined

/** `OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL …` from `sshd -V` (or `ssh -V` where sshd lacks -V). */
export function sshdVersion(): string {
  if (cachedVersion) return cachedVersion
  for (const binary of [requireBinary('sshd'), findBinary('ssh')]) {
    if (!binary) continue
    // Both print the version on stderr; older versions exit non-zero after printing it.
    const result = spawnSync(binary, ['-V'], { encoding: 'utf8', timeout: 5000 })
    const line = `${result.stderr ?? ''}\n${result.stdout ?? ''}`
      .split('\n')
      .find((l) => l.startsWith('OpenSSH'))
    if (line) {
      // `sshd -V` omits the distribution's patch level; the package version has it.
      const dpkg = findBinary('dpkg-query')
      const pkg = dpkg
        ? spawnSync(dpkg, ['-W', '-f', '\x24{Version}', 'openssh-server'], { encoding: 'utf8' })
        : undefined
      const suffix = pkg?.status === 0 && pkg.stdout ? ` (openssh-server ${pkg.stdout.trim()})` : ''
      cachedVersion = `${line.trim()}${suffix}`
      return cachedVersion
    }
  }
  return 'unknown'
}

async function keygen(path: string): Promise<void> {
  await run([
    requireBinary('ssh-keygen'),
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'keepalive-harness',
    '-f',
    path,
  ])
}

const ATTEMPTS = 5

/**
 * A real OpenSSH sshd with a generated ed25519 host key and client key pair, for user root with public-key auth.
 * sshd needs /run/sshd; instead of creating it on the host, it runs in private mount and pid namespaces
 * (`unshare --mount --pid --fork --kill-child`) with a tmpfs on /run. The pid namespace also makes cleanup total:
 * when its first process (the listener) dies, the kernel kills every session process with it.
 * Needs `missingPrerequisites('sshd', 'ssh-keygen')` (and root).
 */
export async function startSshd(options: SshdOptions = {}): Promise<SshdPeer> {
  const sshd = requireBinary('sshd')
  const unshare = requireBinary('unshare')
  const host = options.host ?? '127.0.0.1'
  const dir = makeTempDir('sshd')
  try {
    const hostKey = join(dir.path, 'host_ed25519')
    const clientKey = join(dir.path, 'client_ed25519')
    await Promise.all([keygen(hostKey), keygen(clientKey)])
    const publicKey = readFileSync(`${clientKey}.pub`, 'utf8').trim()
    const extraKeys =
      typeof options.authorizedKey === 'string' ? [options.authorizedKey] : (options.authorizedKey ?? [])
    const authorizedKeys = join(dir.path, 'authorized_keys')
    writeFileSync(authorizedKeys, `${[publicKey, ...extraKeys].join('\n')}\n`, { mode: 0o600 })
    const version = sshdVersion()

    for (let attempt = 1; ; attempt++) {
      const port = options.netns ? 22 : await freePort(host)
      const configPath = join(dir.path, 'sshd_config')
      writeFileSync(
        configPath,
        [
          `Port ${port}`,
          `ListenAddress ${host}`,
          `HostKey ${hostKey}`,
          `PidFile ${join(dir.path, 'sshd.pid')}`,
          'UsePAM no',
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          `AuthorizedKeysFile ${authorizedKeys}`,
          // The temp dir sits under the world-writable /tmp, which StrictModes would reject.
          'StrictModes no',
          'PermitRootLogin prohibit-password',
          ...(options.config ?? []),
        ].join('\n'),
      )
      const script = `mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && exec ${sshd} -D -e -f ${configPath}`
      try {
        const peer = await startChildPeer({
          label: `sshd :${port}`,
          argv: [
            unshare,
            '--mount',
            '--propagation',
            'private',
            '--pid',
            '--fork',
            '--kill-child',
            'sh',
            '-c',
            script,
          ],
          netns: options.netns,
          host,
          port,
          ready: /Server listening on \S+ port \d+/,
          wrapped: true,
        })
        return {
          host,
          port,
          version,
          username: 'root',
          privateKey: readFileSync(clientKey, 'utf8'),
          privateKeyPath: clientKey,
          publicKey,
          hostPublicKey: readFileSync(`${hostKey}.pub`, 'utf8').trim(),
          configPath,
          pid: peer.pid,
          freeze: peer.freeze,
          thaw: peer.thaw,
          crash: peer.crash,
          log: peer.log,
          async stop() {
            await peer.stop()
            await dir.remove()
          },
        }
      } catch (error) {
        if (!(error instanceof AddressInUseError) || attempt >= ATTEMPTS) throw error
      }
    }
  } catch (error) {
    await dir.remove()
    throw error
  }
}

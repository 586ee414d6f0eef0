/**
 * openSshConfig output is accepted by OpenSSH itself: `sshd -t` (the server lines, with a host key) and `ssh -G`
 * (the client lines), and the values `sshd -T` and `ssh -G` print back are the policy's, as core's sshSettings
 * computes them. Also the pure output: comments give the detection time, bad input is a typed error.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { definePolicy, type PolicyLike, sshSettings } from '@keepalive/core'
import { makeTempDir, missingPrerequisites, requireBinary, run } from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import { openSshConfig } from '../src/index.js'

const POLICIES: PolicyLike[] = [
  'fast',
  'balanced',
  'battery',
  'linux-default',
  { idle: '1500ms', interval: '700ms', probes: 4 },
  { idle: '250ms', interval: '250ms', probes: 2 }, // below OpenSSH's 1 s floor: raised, and said so
  { idle: '10s', interval: '1m', probes: 2 }, // interval longer than idle
]

function printed(output: string): Record<string, string> {
  const values: Record<string, string> = {}
  for (const line of output.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/)
    if (key) values[key.toLowerCase()] = rest.join(' ')
  }
  return values
}

describe('openSshConfig', () => {
  it('prints the lines with the detection time they produce', () => {
    const text = openSshConfig('balanced', 'client')
    expect(text).toBe(
      [
        '# keepalive policy: idle 30s, interval 10s, probes 3 (detects a silent peer in 1m)',
        '# OpenSSH: (ServerAliveCountMax 3 + 1) × ServerAliveInterval 15s = 1m',
        'ServerAliveInterval 15',
        'ServerAliveCountMax 3',
        "# TCPKeepAlive: the kernel's keepalive stays on as a backstop (spoofable; the encrypted requests above detect)",
        'TCPKeepAlive yes',
        '',
      ].join('\n'),
    )
    expect(openSshConfig('balanced', 'server')).toContain('ClientAliveInterval 15\nClientAliveCountMax 3\n')
    const late = openSshConfig({ idle: '250ms', interval: '250ms', probes: 2 }, 'server')
    expect(late).toMatch(/later than asked/)
    expect(late).toMatch(/^# OpenSSH's \*AliveInterval is whole seconds, at least 1/m)
  })

  it('rejects a bad policy and a bad side with typed errors', () => {
    expect(() => openSshConfig({ idle: -1 } as never, 'client')).toThrow(
      expect.objectContaining({ code: 'KA_ERR_INVALID_POLICY' }),
    )
    expect(() => openSshConfig('fast', 'sideways' as never)).toThrow(
      expect.objectContaining({
        code: 'KA_ERR_INVALID_ARGUMENT',
        message: expect.stringContaining('"sideways"'),
      }),
    )
  })
})

describe.skipIf(missingPrerequisites('sshd', 'ssh-keygen'))('openSshConfig read back by OpenSSH', () => {
  it('sshd -t accepts the server lines and sshd -T prints the policy back', async () => {
    const dir = makeTempDir('sshd-t')
    const hostKey = join(dir.path, 'host_ed25519')
    await run([requireBinary('ssh-keygen'), '-q', '-t', 'ed25519', '-N', '', '-f', hostKey])
    for (const policy of POLICIES) {
      const o = sshSettings(definePolicy(policy)).openSsh
      const file = join(dir.path, 'sshd_config')
      writeFileSync(file, `HostKey ${hostKey}\n${openSshConfig(policy, 'server')}`)
      // sshd -t/-T want /run/sshd: a private mount namespace with a tmpfs /run, as the harness runs sshd.
      const sshd = requireBinary('sshd')
      const script = `mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && ${sshd} -t -f ${file} && ${sshd} -T -f ${file}`
      const result = await run([
        requireBinary('unshare'),
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        script,
      ])
      const values = printed(result.stdout)
      expect(values.clientaliveinterval).toBe(String(o.intervalSeconds))
      expect(values.clientalivecountmax).toBe(String(o.countMax))
      expect(values.tcpkeepalive).toBe('yes')
    }
  })

  it('ssh -G accepts the client lines and prints the policy back', async () => {
    const dir = makeTempDir('ssh-g')
    for (const policy of POLICIES) {
      const o = sshSettings(definePolicy(policy)).openSsh
      const file = join(dir.path, 'ssh_config')
      writeFileSync(file, openSshConfig(policy, 'client'))
      const result = await run([requireBinary('ssh'), '-G', '-F', file, 'example.invalid'])
      const values = printed(result.stdout)
      expect(values.serveraliveinterval).toBe(String(o.intervalSeconds))
      expect(values.serveralivecountmax).toBe(String(o.countMax))
      expect(values.tcpkeepalive).toBe('yes')
      // Never later than asked, but for OpenSSH's 1 s floor (then the comment says by how much).
      const asked = definePolicy(policy)
      const askedMs = asked.idle + asked.interval * asked.probes
      if (o.detectionTime > askedMs) expect(openSshConfig(policy, 'client')).toMatch(/later than asked/)
      else expect((o.countMax + 1) * o.intervalSeconds * 1000).toBeLessThanOrEqual(askedMs)
    }
  })
})

/**
 * `openSshConfig`: the `ssh_config` (client) or `sshd_config` (server) lines that give OpenSSH the same policy,
 * for the people who run the OpenSSH side of the connections. Numbers from core's `sshSettings().openSsh`
 * (whole seconds, never later than the policy asks except below OpenSSH's 1 s floor, which is then said).
 */
import {
  definePolicy,
  formatDuration,
  InvalidArgumentError,
  type PolicyLike,
  sshSettings,
} from '@keepalive/core'

/**
 * Config lines, newline-terminated, with comments giving the detection time they produce:
 *
 * ```
 * # keepalive policy: idle 30s, interval 10s, probes 3 (detects a silent peer in 1m)
 * # OpenSSH: (ServerAliveCountMax 3 + 1) × ServerAliveInterval 15s = 1m
 * ServerAliveInterval 15
 * ServerAliveCountMax 3
 * # TCPKeepAlive: the kernel's keepalive stays on as a backstop (spoofable; the encrypted requests above detect)
 * TCPKeepAlive yes
 * ```
 */
export function openSshConfig(policy: PolicyLike | undefined, side: 'client' | 'server'): string {
  const p = definePolicy(policy)
  if (side !== 'client' && side !== 'server') {
    throw new InvalidArgumentError(
      `openSshConfig: side must be 'client' or 'server', got ${JSON.stringify(side)}`,
    )
  }
  const s = sshSettings(p)
  const o = s.openSsh
  const prefix = side === 'client' ? 'Server' : 'Client'
  const asked = p.idle + p.interval * p.probes
  const lines = [
    `# keepalive policy: idle ${formatDuration(p.idle)}, interval ${formatDuration(p.interval)}, probes ${p.probes} (detects a silent peer in ${formatDuration(asked)})`,
    `# OpenSSH: (${prefix}AliveCountMax ${o.countMax} + 1) × ${prefix}AliveInterval ${o.intervalSeconds}s = ${formatDuration(o.detectionTime)}${o.lateBy > 0 ? `, ${formatDuration(o.lateBy)} later than asked` : ''}`,
    ...s.warnings.filter((w) => w.includes('OpenSSH')).map((w) => `# ${w}`),
    ...(side === 'client' ? o.client : o.server),
    `# TCPKeepAlive: the kernel's keepalive stays on as a backstop (spoofable; the encrypted requests above detect)`,
    'TCPKeepAlive yes',
  ]
  return `${lines.join('\n')}\n`
}

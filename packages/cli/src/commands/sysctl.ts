/**
 * `keepalive sysctl`: the host's TCP keepalive defaults (net.ipv4.tcp_keepalive_{time,intvl,probes}) beside what
 * the policy asks of TCP, and the lines that would change them. The defaults apply only to sockets that enable
 * SO_KEEPALIVE without setting their own values (Node's plain `setKeepAlive(true)` sets idle but not the rest);
 * sockets under @keepalive/tcp carry their own. They are per network namespace (a container has its own).
 */
import { readFile } from 'node:fs/promises'
import { formatDuration, tcpSettings } from '@keepalive/core'
import type { Command } from 'commander'
import { CliUnavailableError } from '../errors.js'
import { colour, line, printJson, table } from '../output.js'
import { resolvePolicy } from '../policy-option.js'

interface SysctlFlags {
  policy?: string
  config?: string
  json?: boolean
}

const KEYS = [
  { key: 'net.ipv4.tcp_keepalive_time', field: 'idleSeconds', unit: 's' },
  { key: 'net.ipv4.tcp_keepalive_intvl', field: 'intervalSeconds', unit: 's' },
  { key: 'net.ipv4.tcp_keepalive_probes', field: 'probes', unit: '' },
] as const

export function registerSysctl(program: Command): void {
  program
    .command('sysctl')
    .description(
      "the host's net.ipv4.tcp_keepalive_* beside the policy's, and the lines to change them (Linux)",
    )
    .option('--policy <policy>', 'a preset, idle/interval/probes such as 5s/1s/3, or JSON')
    .option('--config <file>', 'a keepalive.config.{json,yaml,yml} (default: found as a service finds it)')
    .option('--json', 'print the comparison as JSON')
    .action(async (flags: SysctlFlags) => {
      const source = await resolvePolicy(flags)
      const policy = source.policyFor('tcp')
      const wanted = tcpSettings(policy)
      const host = await readHost()
      const rows = KEYS.map(({ key, field, unit }) => ({
        key,
        host: host[key]!,
        policy: wanted[field],
        unit,
        differs: host[key] !== wanted[field],
      }))
      const lines = rows.map((r) => `${r.key} = ${r.policy}`)
      const report = {
        source: source.describe,
        settings: rows,
        userTimeoutMs: wanted.userTimeoutMs,
        hostDetectionTime: (host[KEYS[0].key]! + host[KEYS[1].key]! * host[KEYS[2].key]!) * 1000,
        policyDetectionTime: wanted.detectionTime,
        sysctlConf: `${lines.join('\n')}\n`,
        warnings: wanted.warnings,
      }
      if (flags.json) {
        printJson(report)
        return
      }
      line(`${colour.dim('policy from')} ${source.describe}`)
      line()
      line(
        table(
          ['setting', 'host', 'policy'],
          rows.map((r) => [
            r.key,
            `${r.host}${r.unit}`,
            r.differs ? colour.yellow(`${r.policy}${r.unit}`) : `${r.policy}${r.unit}`,
          ]),
        ),
      )
      line()
      line(
        `host default detects in ${formatDuration(report.hostDetectionTime)}; the policy in ${formatDuration(report.policyDetectionTime)} (plus TCP_USER_TIMEOUT ${report.userTimeoutMs} ms, which only a socket can set)`,
      )
      for (const w of wanted.warnings) line(`${colour.yellow('!')} ${w}`)
      if (rows.every((r) => !r.differs)) {
        line(colour.green('the host defaults already match the policy'))
        return
      }
      line()
      line('To change them now (as root; per network namespace, lost at reboot):')
      line(`  sysctl -w ${rows.map((r) => `${r.key}=${r.policy}`).join(' ')}`)
      line('To keep them, in /etc/sysctl.d/90-keepalive.conf, then `sysctl --system`:')
      for (const l of lines) line(`  ${l}`)
      line(colour.dim('Sockets under @keepalive/tcp set their own values and need none of this.'))
    })
}

async function readHost(): Promise<Record<string, number>> {
  const values: Record<string, number> = {}
  for (const { key } of KEYS) {
    const path = `/proc/sys/${key.replaceAll('.', '/')}`
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (cause) {
      throw new CliUnavailableError(
        `cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? cause}): keepalive sysctl needs Linux's /proc/sys`,
        { cause },
      )
    }
    values[key] = Number(text.trim())
  }
  return values
}

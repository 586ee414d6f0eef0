/**
 * `keepalive check <url>`: connects to a live peer with the policy and reports what was negotiated and applied,
 * and the measured round trip of a few probes. One module per protocol under ../check/.
 */
import { formatDuration, type Protocol, parseDuration } from '@keepalive/core'
import type { Command } from 'commander'
import { checkHttp } from '../check/http.js'
import { checkMqtt } from '../check/mqtt.js'
import type { CheckOptions, CheckResult } from '../check/result.js'
import { checkSsh } from '../check/ssh.js'
import { checkTcp } from '../check/tcp.js'
import { CliUsageError } from '../errors.js'
import { colour, line, printJson, table } from '../output.js'
import { resolvePolicy } from '../policy-option.js'

interface CheckFlags {
  policy?: string
  config?: string
  timeout: string
  samples: string
  identity?: string
  json?: boolean
}

const SCHEMES: Readonly<Record<string, Protocol>> = {
  'tcp:': 'tcp',
  'http:': 'http',
  'https:': 'http',
  'mqtt:': 'mqtt',
  'mqtts:': 'mqtt',
  'ssh:': 'ssh',
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description(
      'connect to a live peer with the policy; report what was negotiated and applied, and measured round trips',
    )
    .argument(
      '<url>',
      'tcp://host:port, http(s)://host[:port][/path], mqtt(s)://[user:password@]host[:port], ssh://user@host[:port]',
    )
    .option('--policy <policy>', 'a preset, idle/interval/probes such as 5s/1s/3, or JSON')
    .option('--config <file>', 'a keepalive.config.{json,yaml,yml} (default: found as a service finds it)')
    .option('--timeout <duration>', 'how long to wait for the peer', '5s')
    .option('--samples <n>', 'round trips to time', '3')
    .option('--identity <file>', 'ssh: a private key file (default: the SSH agent, else ~/.ssh/id_*)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  keepalive check tcp://db.internal:5432 --policy fast\n  keepalive check mqtt://broker:1883 --json\n  keepalive check ssh://deploy@bastion --identity ~/.ssh/id_ed25519\nCredentials are never printed; ssh:// takes no password (use the agent or --identity).',
    )
    .action(async (url: string, flags: CheckFlags) => {
      const result = await runCheck(url, flags)
      if (flags.json) printJson(result)
      else printHuman(result)
    })
}

async function runCheck(text: string, flags: CheckFlags): Promise<CheckResult> {
  const url = parseUrl(text)
  const protocol = SCHEMES[url.protocol]
  if (protocol === undefined) {
    throw new CliUsageError(
      `check: unsupported URL scheme ${JSON.stringify(url.protocol)}; supported: ${Object.keys(SCHEMES)
        .map((s) => `${s}//`)
        .join(', ')}`,
    )
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === '') throw new CliUsageError(`check: ${redact(url)} names no host`)
  const source = await resolvePolicy(flags)
  const options: CheckOptions = {
    policy: source.policyFor(protocol),
    timeout: parseTimeout(flags.timeout),
    samples: parseSamples(flags.samples),
  }
  // Shown without credentials, whatever the URL held.
  const shown = redact(url)
  switch (protocol) {
    case 'tcp': {
      if (url.port === '') throw new CliUsageError(`check: ${shown} names no port (tcp://host:port)`)
      return checkTcp(shown, { host, port: Number(url.port) }, options)
    }
    case 'http':
      return checkHttp(shown, url, options)
    case 'mqtt':
      return checkMqtt(shown, url, options)
    case 'ssh':
      return checkSsh(shown, url, {
        ...options,
        ...(flags.identity === undefined ? {} : { identity: flags.identity }),
      })
    default:
      throw new CliUsageError(`check: ${protocol} is not supported yet`)
  }
}

function redact(url: URL): string {
  const user =
    url.username === '' ? '' : `${url.protocol === 'ssh:' ? decodeURIComponent(url.username) : '***'}@`
  return `${url.protocol}//${user}${url.host}${url.pathname === '/' ? '' : url.pathname}`
}

function parseUrl(text: string): URL {
  try {
    return new URL(text)
  } catch {
    throw new CliUsageError(`check: not a URL (expected e.g. tcp://host:port)`)
  }
}

function parseTimeout(text: string): number {
  try {
    return parseDuration(text, '--timeout')
  } catch (cause) {
    throw new CliUsageError(`--timeout: expected a duration such as 5s, got ${JSON.stringify(text)}`, {
      cause,
    })
  }
}

function parseSamples(text: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || n < 1 || n > 100) {
    throw new CliUsageError(`--samples: expected a whole number from 1 to 100, got ${JSON.stringify(text)}`)
  }
  return n
}

function printHuman(result: CheckResult): void {
  line(`${colour.bold(result.url)}  ${colour.green('reachable')}`)
  const keys = [...new Set([...Object.keys(result.asked), ...Object.keys(result.applied)])]
  const rows = keys.map((k) => {
    const asked = k in result.asked ? String(result.asked[k]) : ''
    const applied = k in result.applied ? String(result.applied[k]) : ''
    const differs = k in result.asked && k in result.applied && asked !== applied
    return [k, asked, differs ? colour.yellow(applied) : applied]
  })
  line(table(['setting', 'policy asks', 'applied'], rows))
  const r = result.roundTrips
  line(
    `round trip (${r.what}, ${r.samples.length} ${r.samples.length === 1 ? 'sample' : 'samples'}): min ${ms(r.min)}, median ${ms(r.median)}, max ${ms(r.max)}`,
  )
  for (const w of result.warnings) line(`${colour.yellow('!')} ${w}`)
}

function ms(value: number): string {
  return value >= 1000 ? formatDuration(Math.round(value)) : `${value.toFixed(2)} ms`
}

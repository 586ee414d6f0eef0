/**
 * `keepalive explain`: per protocol, the native settings the adapter will use for the policy, the detection time
 * they really give, probes per idle hour, and every compromise (core's `explain`, which needs no protocol library).
 * With a config, each protocol is explained with its own effective policy (the config's section over `policy`).
 */
import { detectionTime, explain, formatDuration, type Policy, type Protocol } from '@keepalive/core'
import type { Command } from 'commander'
import { colour, line, printJson } from '../output.js'
import { PROTOCOLS, parseProtocol, resolvePolicy } from '../policy-option.js'

interface ExplainFlags {
  policy?: string
  config?: string
  protocol?: Protocol
  json?: boolean
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description(
      'what each protocol will do with a policy: native settings, detection time, probes per idle hour',
    )
    .option(
      '--policy <policy>',
      'a preset (fast, balanced, battery, linux-default), idle/interval/probes such as 5s/1s/3, or JSON',
    )
    .option('--config <file>', 'a keepalive.config.{json,yaml,yml} (default: found as a service finds it)')
    .option('--protocol <protocol>', `only one protocol: ${PROTOCOLS.join(', ')}`, parseProtocol)
    .option('--json', 'print the explanation as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  keepalive explain --policy fast\n  keepalive explain --policy 10s/2s/4 --protocol ssh --json\n  keepalive explain --config keepalive.config.yaml',
    )
    .action(async (flags: ExplainFlags) => {
      const report = await explainReport(flags)
      if (flags.json) printJson(report)
      else printHuman(report)
    })
}

export interface ExplainReport {
  readonly source: string
  readonly pathIdleTimeout: number | null
  readonly protocols: readonly (ReturnType<typeof explain>['protocols'][number] & {
    readonly policy: Policy
    readonly askedDetectionTime: number
  })[]
}

async function explainReport(flags: ExplainFlags): Promise<ExplainReport> {
  const source = await resolvePolicy(flags)
  const wanted = flags.protocol === undefined ? PROTOCOLS : [flags.protocol]
  const protocols = wanted.map((protocol) => {
    const policy = source.policyFor(protocol)
    const options =
      source.pathIdleTimeout === undefined
        ? { protocols: [protocol] }
        : { protocols: [protocol], pathIdleTimeout: source.pathIdleTimeout }
    const explained = explain(policy, options).protocols[0]!
    return { ...explained, policy, askedDetectionTime: detectionTime(policy) }
  })
  return { source: source.describe, pathIdleTimeout: source.pathIdleTimeout ?? null, protocols }
}

function describePolicy(policy: Policy): string {
  const preset = policy.preset === undefined ? '' : ` (from ${policy.preset})`
  return `idle ${formatDuration(policy.idle)}, interval ${formatDuration(policy.interval)}, probes ${policy.probes}${preset}`
}

function printHuman(report: ExplainReport): void {
  line(`${colour.dim('policy from')} ${report.source}`)
  if (report.pathIdleTimeout !== null)
    line(`${colour.dim('path idle timeout')} ${formatDuration(report.pathIdleTimeout)}`)
  for (const p of report.protocols) {
    line()
    const late = p.lateBy > 0 ? colour.yellow(` (${formatDuration(p.lateBy)} late)`) : ''
    line(`${colour.bold(p.protocol.toUpperCase())}  ${describePolicy(p.policy)}`)
    line(
      `  detects a dead peer in ${colour.bold(formatDuration(p.detectionTime))}${late} (asked ${formatDuration(p.askedDetectionTime)}); first probe after ${formatDuration(p.firstProbeAfter)}; ${round(p.probesPerIdleHour)} probes per idle hour`,
    )
    const settings = Object.entries(p.settings).map(([k, v]) => `${k}=${v}`)
    line(`  ${colour.cyan(settings.join('  '))}`)
    line(`  ${p.summary}`)
    for (const w of p.warnings) line(`  ${colour.yellow('!')} ${w}`)
  }
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2)
}

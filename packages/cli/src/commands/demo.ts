/**
 * `keepalive demo`: every protocol's client with one shared policy watches its embedded peer vanish; the table
 * compares each measured detection time with the promise. The work is in ../demo/.
 */

import { writeFile } from 'node:fs/promises'
import { formatDuration, parseDuration } from '@keepalive/core'
import type { Command } from 'commander'
import { type DemoResult, runDemo } from '../demo/run-demo.js'
import { SCENARIOS } from '../demo/scenarios/index.js'
import { renderSvg } from '../demo/svg.js'
import { CliUsageError, EXIT } from '../errors.js'
import { colour, line, printJson, table } from '../output.js'
import { parsePolicyArgument } from '../policy-option.js'

interface DemoFlags {
  policy: string
  freeze?: boolean
  warmup?: string
  svg?: string
  compare?: boolean
  json?: boolean
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'watch each protocol detect a dead peer: embedded peers on loopback or in network namespaces, one shared policy, measured against its promise',
    )
    .option('--policy <policy>', 'a preset, idle/interval/probes such as 5s/1s/3, or JSON', 'fast')
    .option('--freeze', 'freeze the peers (SIGSTOP) instead of blackholing them, even as root')
    .option('--warmup <duration>', "silence before the peers vanish (default: the policy's idle + 1s)")
    .option(
      '--compare',
      'also run each library left to its own keepalive against the same fault, side by side',
    )
    .option('--svg <file>', 'also write a timeline picture of probes, answers and deaths per protocol')
    .option('--json', 'print the result as JSON (no live progress)')
    .addHelpText(
      'after',
      '\nAs root with iproute2 and nftables the peers are blackholed in network namespaces; otherwise they are\nfrozen, which only application-level probes can see (the output says what that leaves out).\nExits 1 if any measured detection breaks its promise.',
    )
    .action(async (flags: DemoFlags) => {
      const policy = parsePolicyArgument(flags.policy)
      const warmup = flags.warmup === undefined ? undefined : parseWarmup(flags.warmup)
      if (!flags.json) {
        line(
          `${colour.bold('policy')} idle ${formatDuration(policy.idle)}, interval ${formatDuration(policy.interval)}, probes ${policy.probes}: a dead peer is detected within ${colour.bold(formatDuration(policy.idle + policy.interval * policy.probes))} of its last sign of life`,
        )
      }
      const result = await runDemo({
        policy,
        freeze: flags.freeze === true,
        progress: !flags.json,
        compare: flags.compare === true,
        ...(warmup === undefined ? {} : { warmup }),
      })
      if (flags.svg !== undefined) await writeFile(flags.svg, renderSvg(result))
      if (flags.json) printJson(result)
      else printHuman(result)
      if (flags.svg !== undefined && !flags.json) line(`timeline written to ${flags.svg}`)
      if (!result.ok) process.exitCode = EXIT.failed
    })
}

function parseWarmup(text: string): number {
  try {
    return parseDuration(text, '--warmup')
  } catch (cause) {
    throw new CliUsageError(`--warmup: expected a duration such as 2s, got ${JSON.stringify(text)}`, {
      cause,
    })
  }
}

function printHuman(result: DemoResult): void {
  line()
  line(colour.dim(result.modeNote))
  line()
  const bytesHead = result.bytesKind === 'wire' ? 'keepalive bytes (wire)' : 'keepalive bytes (payload)'
  line(
    table(
      ['protocol', 'detected by', 'configured', 'measured', 'probes sent', bytesHead, 'promise'],
      result.rows.map((r) => [
        r.id === 'tcp-kernel' ? 'tcp (kernel)' : r.protocol,
        r.detector,
        formatDuration(r.configured),
        r.measured === null ? '—' : formatDuration(r.measured),
        r.probesSent ?? '—',
        r.bytes ?? '—',
        r.kept ? colour.green('kept') : colour.red(`BROKEN: ${r.detail}`),
      ]),
    ),
  )
  for (const s of result.skipped) {
    const scenario = SCENARIOS.find((x) => x.id === s.id)
    line(colour.yellow(`not shown: ${scenario?.kernel ? `${s.protocol} (kernel)` : s.protocol}: ${s.why}`))
  }
  if (result.compare.length > 0) {
    line()
    line(colour.bold('the same fault, each library left to its own keepalive (--compare)'))
    line(
      table(
        ['protocol', 'left to', 'measured', bytesHead.replace('keepalive ', ''), 'what its defaults do'],
        result.compare.map((r) => [
          r.protocol,
          r.detector,
          r.measured === null
            ? colour.yellow(`not within ${formatDuration(r.waited)}`)
            : formatDuration(r.measured),
          r.bytes ?? '—',
          r.expected,
        ]),
      ),
    )
  }
  line()
  line(
    colour.dim(
      'measured = from the last sign of life (last byte received; for the kernel, its last ACK) to the death; probes sent after the peers vanished. A promise is kept when measured ≤ configured + tolerance:',
    ),
  )
  for (const r of result.rows) line(colour.dim(`  ${r.id}: ${r.tolerance} ms (${r.toleranceWhy})`))
  line()
  line(
    result.ok
      ? colour.green(colour.bold('every promise kept'))
      : colour.red(colour.bold('a promise was broken')),
  )
}

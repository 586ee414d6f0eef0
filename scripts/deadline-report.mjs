#!/usr/bin/env node
// The worst measured value of every deadline test over many CI logs (issue #7's note), as Markdown.
//
//   node scripts/deadline-report.mjs /work/ci-runs/run-*.log
//
// Reads each log (vitest output of `npm test`, ANSI colour stripped), collects every `[deadline] {json}` record the
// tests print before asserting (test/harness/deadline.ts), and prints one row per test and bound side: the samples,
// the worst value (closest to its bound: the largest against an upper bound, the smallest against a lower one, each
// judged against the bound printed with it), that bound, the margin left (negative: the bound was broken), its Node
// and log. Older logs have no records: their `[tcp netns] …` and `[harness] …` lines that print `N ms … (bound A…B)`
// are read instead (Node from the pass header), marked as such; a log with records has them too and is read by its records only.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

const files = process.argv.slice(2)
if (files.length === 0 || files.includes('--help')) {
  console.error('usage: node scripts/deadline-report.mjs <log file>…')
  process.exit(files.length === 0 ? 2 : 0)
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are what is stripped
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g
const RECORD = /\[deadline\] (\{.*\})\s*$/
const PASS = /^=== pass \d+: Node v(\d+\.\d+\.\d+)/
// Older logs: `[tcp netns] idle DROP beyond the first hop: ETIMEDOUT 4083 ms after the last data (bound 3900…4500)`
// and `[harness] routed blackhole: ETIMEDOUT 4079 ms after the last data (bound 3900…4500); 3 probes`.
const LEGACY =
  /^\[(tcp netns|harness)\] ([^:]+): .*?(\d+(?:\.\d+)?) ms .*\(bound (\d+(?:\.\d+)?)…(\d+(?:\.\d+)?)\)/
const LEGACY_AREA = { 'tcp netns': 'tcp/netns', harness: 'harness-netns' }

/** @type {Map<string, {measured: number, min?: number, max?: number, node: string, log: string, legacy: boolean}[]>} */
const samples = new Map()
const perLog = []
for (const file of files) {
  let text
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    console.error(`deadline-report: cannot read ${file}: ${error.message}`)
    process.exit(2)
  }
  const log = basename(file)
  let node = '?'
  let records = 0
  let legacy = 0
  const older = []
  const add = (test, sample) => {
    if (!samples.has(test)) samples.set(test, [])
    samples.get(test).push({ ...sample, log })
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(ANSI, '')
    const pass = PASS.exec(line)
    if (pass) node = pass[1]
    const record = RECORD.exec(line)
    if (record) {
      let r
      try {
        r = JSON.parse(record[1])
      } catch {
        console.error(`deadline-report: ${log}: not a JSON record: ${line.trim()}`)
        continue
      }
      if (typeof r.test !== 'string' || typeof r.measured !== 'number') continue
      records++
      add(r.test, { measured: r.measured, min: r.min, max: r.max, node: r.node ?? node, legacy: false })
      continue
    }
    const old = LEGACY.exec(line.trim())
    if (old) {
      older.push([
        `${LEGACY_AREA[old[1]]}: ${old[2]}`,
        { measured: Number(old[3]), min: Number(old[4]), max: Number(old[5]), node, legacy: true },
      ])
    }
  }
  // A log with records prints those older lines too (the tests keep them): read them only when it has none.
  if (records === 0) {
    legacy = older.length
    for (const [test, sample] of older) add(test, sample)
  }
  perLog.push({ log, records, legacy })
}

const fmt = (ms) => (Number.isInteger(ms) ? String(ms) : ms.toFixed(1))
const rows = []
for (const [test, list] of [...samples].sort(([a], [b]) => a.localeCompare(b))) {
  const mark = list.every((s) => s.legacy) ? ' (older log lines)' : ''
  for (const side of ['max', 'min']) {
    const bounded = list.filter((s) => typeof s[side] === 'number')
    if (bounded.length === 0) continue
    const margin = (s) => (side === 'max' ? s.max - s.measured : s.measured - s.min)
    const worst = bounded.reduce((w, s) => (margin(s) < margin(w) ? s : w))
    const broken = bounded.filter((s) => margin(s) < 0).length
    rows.push(
      `| ${test}${mark} | ${bounded.length} | ${side === 'max' ? '≤' : '≥'} ${fmt(worst[side])} | ${fmt(worst.measured)} | ` +
        `${fmt(Math.round(margin(worst) * 10) / 10)}${broken ? ` (${broken} broken)` : ''} | ${worst.node} | ${worst.log} |`,
    )
  }
}

const withRecords = perLog.filter((l) => l.records > 0).length
console.log(`# Deadline tests: worst measured value against its bound`)
console.log()
console.log(
  `${files.length} log(s) read, ${withRecords} with [deadline] records, ${perLog.reduce((n, l) => n + l.records, 0)} records; ` +
    `${perLog.reduce((n, l) => n + l.legacy, 0)} older \`[tcp netns]\`/\`[harness]\` lines with a bound.`,
)
const none = perLog.filter((l) => l.records === 0)
if (none.length > 0) {
  console.log(
    `Logs with no [deadline] records: ${none.map((l) => (l.legacy ? `${l.log} (${l.legacy} older lines)` : l.log)).join(', ')}.`,
  )
}
console.log()
if (rows.length === 0) {
  console.log('No deadline values found.')
} else {
  console.log('| test | samples | bound (ms) | worst (ms) | margin (ms) | Node of the worst | log |')
  console.log('|---|---:|---:|---:|---:|---|---|')
  for (const row of rows) console.log(row)
}

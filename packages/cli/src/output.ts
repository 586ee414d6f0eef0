/**
 * How the CLI writes: colours only on a terminal (NO_COLOR and FORCE_COLOR respected; picocolors alone would
 * also colour any pipe when CI is set), tables by cli-table3, JSON with two-space indent and a final newline.
 */
import Table from 'cli-table3'
import { createColors } from 'picocolors'

function colourWanted(): boolean {
  const env = process.env
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true
  return process.stdout.isTTY === true && env.TERM !== 'dumb'
}

export const colour = createColors(colourWanted())

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)
}

export function line(text = ''): void {
  process.stdout.write(`${text}\n`)
}

/** A plain table: a header row and aligned columns, no box drawing (copies cleanly into an issue). */
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const t = new Table({
    head: head.map((h) => colour.bold(h)),
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '',
    },
  })
  for (const row of rows) t.push(row.map(String))
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
}

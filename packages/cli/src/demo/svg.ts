/**
 * `demo --svg FILE`: the demo's timeline as a picture, for people who would rather look than read. One lane per
 * row: probes (open circles), answers (dots), the moment the peers vanished (a red line), the last sign of life,
 * the promise (a band from the last sign of life to the configured detection time plus its tolerance) and the
 * death (a cross). Plain SVG text; no library needed for a handful of shapes.
 */
import type { DemoResult } from './run-demo.js'

const LANE = 46
const LEFT = 150
const WIDTH = 900
const TOP = 50

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function renderSvg(result: DemoResult): string {
  const rows = result.rows
  const end = Math.max(
    1000,
    ...result.timeline.rows.flatMap((r) => r.events.map((e) => e.at)),
    ...rows.map((r) => {
      const last =
        result.timeline.rows.find((t) => t.id === r.id)?.events.find((e) => e.kind === 'lastSign')?.at ?? 0
      return last + r.configured + r.tolerance
    }),
  )
  const x = (ms: number) => LEFT + (ms / end) * (WIDTH - LEFT - 20)
  const height = TOP + rows.length * LANE + 40
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${xmlText(`keepalive demo — policy ${result.policy.idle} ms / ${result.policy.interval} ms / ${result.policy.probes}, peers ${result.mode === 'netns' ? 'blackholed' : 'frozen'}`)}</text>`,
  ]
  // Seconds along the top.
  for (let s = 0; s * 1000 <= end; s += Math.max(1, Math.ceil(end / 1000 / 15))) {
    parts.push(
      `<line x1="${x(s * 1000)}" y1="${TOP - 12}" x2="${x(s * 1000)}" y2="${height - 30}" stroke="#eee"/>`,
      `<text x="${x(s * 1000)}" y="${TOP - 16}" text-anchor="middle" fill="#888">${s}s</text>`,
    )
  }
  rows.forEach((row, i) => {
    const y = TOP + i * LANE + LANE / 2
    const events = result.timeline.rows.find((t) => t.id === row.id)?.events ?? []
    const lastSign = events.find((e) => e.kind === 'lastSign')?.at
    parts.push(`<text x="10" y="${y + 4}">${xmlText(row.id)}</text>`)
    parts.push(`<line x1="${LEFT}" y1="${y}" x2="${WIDTH - 20}" y2="${y}" stroke="#ccc"/>`)
    if (lastSign !== undefined) {
      const from = x(lastSign + row.configured)
      const to = x(lastSign + row.configured + row.tolerance)
      parts.push(
        `<rect x="${x(lastSign)}" y="${y - 6}" width="${from - x(lastSign)}" height="12" fill="#e8f4ff"/>`,
        `<rect x="${from}" y="${y - 9}" width="${Math.max(1, to - from)}" height="18" fill="#ffe9b0"><title>promise: dead within ${row.configured} ms + ${row.tolerance} ms</title></rect>`,
        `<line x1="${x(lastSign)}" y1="${y - 10}" x2="${x(lastSign)}" y2="${y + 10}" stroke="#2a7"/>`,
      )
    }
    for (const e of events) {
      const cx = x(e.at)
      if (e.kind === 'probe') parts.push(`<circle cx="${cx}" cy="${y}" r="4" fill="white" stroke="#36c"/>`)
      else if (e.kind === 'alive') parts.push(`<circle cx="${cx}" cy="${y}" r="3" fill="#2a7"/>`)
      else if (e.kind === 'connected')
        parts.push(`<rect x="${cx - 2}" y="${y - 6}" width="4" height="12" fill="#999"/>`)
      else if (e.kind === 'dead') {
        const colour = row.kept ? '#c22' : '#000'
        parts.push(
          `<path d="M${cx - 6} ${y - 6} L${cx + 6} ${y + 6} M${cx + 6} ${y - 6} L${cx - 6} ${y + 6}" stroke="${colour}" stroke-width="2.5"/>`,
          `<text x="${cx + 9}" y="${y - 8}" fill="${colour}">${row.measured === null ? '' : `${(row.measured / 1000).toFixed(3)} s`}${row.kept ? '' : ' BROKEN'}</text>`,
        )
      }
    }
  })
  if (result.timeline.fault !== null) {
    const fx = x(result.timeline.fault)
    parts.push(
      `<line x1="${fx}" y1="${TOP - 8}" x2="${fx}" y2="${height - 30}" stroke="#c22" stroke-dasharray="4 3"/>`,
      `<text x="${fx + 4}" y="${TOP - 2}" fill="#c22">peers ${result.mode === 'netns' ? 'blackholed' : 'frozen'}</text>`,
    )
  }
  parts.push(
    `<text x="10" y="${height - 10}" fill="#666">○ probe  ● answer  | last sign of life  ▭ promise window (configured detection time, then tolerance)  ✕ detected dead</text>`,
    '</svg>',
  )
  return `${parts.join('\n')}\n`
}

/**
 * Live progress while the demo waits: on a terminal, one line per protocol redrawn in place (log-update) with the
 * silence growing since the peers vanished; anywhere else (a pipe, CI), one plain line per event.
 */
import { formatDuration } from '@keepalive/core'
import logUpdate from 'log-update'
import { colour } from '../output.js'
import { now } from './scenario.js'

interface RowState {
  readonly id: string
  readonly label: string
  status: string
  probes: number
  done: boolean
}

export class Progress {
  private readonly rows = new Map<string, RowState>()
  private readonly live = process.stdout.isTTY === true
  private timer: NodeJS.Timeout | undefined
  private faultAt: number | undefined
  private readonly started = now()

  constructor(rows: readonly { id: string; label: string }[]) {
    for (const r of rows) this.rows.set(r.id, { ...r, status: 'connecting', probes: 0, done: false })
    if (this.live) {
      this.timer = setInterval(() => this.render(), 100)
      this.timer.unref()
    }
  }

  private elapsed(at: number): string {
    const t = at - (this.faultAt ?? this.started)
    return `${this.faultAt === undefined ? '' : 'vanished +'}${(t / 1000).toFixed(2)}s`
  }

  private event(id: string, status: string, at = now()): void {
    const row = this.rows.get(id)
    if (row === undefined || row.done) return
    row.status = status
    if (!this.live)
      process.stdout.write(
        `  ${colour.dim(this.elapsed(at).padStart(16))}  ${row.label.padEnd(12)} ${status}\n`,
      )
    else this.render()
  }

  connected(id: string, at: number): void {
    this.event(id, 'connected, idle', at)
  }
  probe(id: string, at: number, attempt: number): void {
    const row = this.rows.get(id)
    if (row) row.probes += 1
    this.event(id, `probe ${attempt} sent`, at)
  }
  alive(id: string, at: number, rttMs: number | null): void {
    this.event(id, `answered${rttMs === null ? '' : ` in ${rttMs.toFixed(2)} ms`}`, at)
  }
  fault(at: number, how: string): void {
    this.faultAt = at
    if (!this.live) process.stdout.write(`  ${colour.bold(how)}\n`)
    for (const row of this.rows.values()) if (!row.done) row.status = 'waiting for a sign of life'
    this.render()
  }
  dead(id: string, at: number, measured: number): void {
    this.event(
      id,
      colour.bold(`dead: detected ${formatDuration(Math.round(measured))} after the last sign of life`),
      at,
    )
    const row = this.rows.get(id)
    if (row) row.done = true
  }
  failed(id: string, message: string): void {
    this.event(id, colour.red(message))
    const row = this.rows.get(id)
    if (row) row.done = true
  }

  private render(): void {
    if (!this.live) return
    const t = now()
    const lines = [...this.rows.values()].map((row) => {
      const silence =
        this.faultAt !== undefined && !row.done
          ? colour.dim(`  (${((t - this.faultAt) / 1000).toFixed(1)} s since the peer vanished)`)
          : ''
      return `  ${row.done ? colour.green('✔') : colour.cyan('…')} ${row.label.padEnd(12)} ${row.status}${silence}`
    })
    logUpdate(lines.join('\n'))
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    if (this.live) {
      this.render()
      logUpdate.done()
    }
  }
}

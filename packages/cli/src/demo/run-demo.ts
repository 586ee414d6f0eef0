/**
 * `keepalive demo`: starts an embedded peer per protocol (one peers process), connects each adapter with one shared
 * policy (one clients process), lets them exchange a few answered probes, then makes the peers vanish and measures
 * how long each client takes to call its peer dead, from its last sign of life, against what core's arithmetic
 * promises for that client.
 *
 * As root with iproute2 and nftables the peers are blackholed for real (netns.ts): nothing answers, TCP's own probes
 * go into the void, and every keepalive byte is counted on the wire. Otherwise the peers process is frozen with
 * SIGSTOP: its kernel still acknowledges TCP, so only application-level probes can notice — the demo says which
 * rows that leaves out and why.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { detectionTime, formatDuration, type Policy } from '@keepalive/core'
import { CliUnavailableError } from '../errors.js'
import type { FromClients, PeersListening, ToClients } from './messages.js'
import { createDemoNetns, type DemoNetns, findBinary, netnsUnavailable, type WireCount } from './netns.js'
import { Progress } from './progress.js'
import { type FaultMode, now, type Scenario } from './scenario.js'
import type { Anchor } from './scenarios/anchors.js'
import { ANCHORS, SCENARIOS } from './scenarios/index.js'

export interface DemoOptions {
  readonly policy: Policy
  /** Force the application-level freeze even where namespaces would work. */
  readonly freeze: boolean
  /** Silence before the peers vanish, ms (default: the policy's idle + 1 s, so every protocol shows an answered probe). */
  readonly warmup?: number
  /** Live progress lines (off for --json). */
  readonly progress: boolean
  /** Also run each library left to its own keepalive, against the same fault. */
  readonly compare: boolean
}

/** A library left to its own keepalive (--compare): no promise of ours to keep, only what happened. */
export interface CompareRow {
  readonly id: string
  /** The adapter row it stands beside. */
  readonly anchorOf: string
  readonly protocol: string
  readonly detector: string
  /** What the library's defaults promise, in words. */
  readonly expected: string
  /** From the last sign of life to the death, ms; null when not detected within `waited`. */
  readonly measured: number | null
  /** How long after the peers vanished the demo waited, ms. */
  readonly waited: number
  readonly bytes: number | null
  readonly detail: string
}

export interface DemoRow {
  readonly id: string
  readonly protocol: string
  readonly detector: string
  /** The detection time the client's settings give (core's arithmetic), ms. */
  readonly configured: number
  /** From the last sign of life to the death, ms; null when it was not detected. */
  readonly measured: number | null
  /** The promise as the demo checks it: measured ≤ configured + tolerance. */
  readonly tolerance: number
  readonly toleranceWhy: string
  /** Probes sent after the peers vanished (unanswered). */
  readonly probesSent: number | null
  /** Keepalive bytes since set-up: IP packets both ways on the wire (netns), or socket payload (freeze). */
  readonly bytes: number | null
  readonly kept: boolean
  readonly detail: string
}

/** What happened when, per row, in ms since the demo started its clients (for --svg and --json). */
export interface Timeline {
  /** When the peers vanished. */
  readonly fault: number | null
  readonly rows: readonly {
    readonly id: string
    readonly events: readonly {
      readonly at: number
      readonly kind: 'connected' | 'probe' | 'alive' | 'lastSign' | 'dead'
    }[]
  }[]
}

export interface DemoResult {
  readonly mode: FaultMode
  /** Why this mode, and what it can and cannot show. */
  readonly modeNote: string
  readonly policy: Policy
  readonly askedDetectionTime: number
  readonly bytesKind: 'wire' | 'payload'
  readonly rows: readonly DemoRow[]
  readonly skipped: readonly { readonly id: string; readonly protocol: string; readonly why: string }[]
  readonly timeline: Timeline
  /** --compare's rows; empty without it. */
  readonly compare: readonly CompareRow[]
  readonly ok: boolean
}

/** Event loop, process scheduling on a loaded machine and IPC: what any row may come late by. */
const PROCESS_SLACK_MS = 250

/** The slack the demo allows each row, and where it comes from. */
function toleranceOf(scenario: Scenario, policy: Policy): { ms: number; why: string } {
  if (!scenario.kernel) {
    return {
      ms: PROCESS_SLACK_MS + 10,
      why: 'one 10 ms scheduler tick + 250 ms event loop and process scheduling',
    }
  }
  // Linux's timer wheel lets a timer of length t fire up to about t/8 late (its level granularity), and the keepalive
  // timer is re-armed once for idle and once per probe; ss reports the last ACK in whole ms.
  const idle = Math.max(1000, Math.floor(policy.idle / 1000) * 1000)
  const wheel = Math.ceil(idle / 8 + (scenario.configured(policy) - idle) / 8)
  return {
    ms: PROCESS_SLACK_MS + wheel,
    why: `timer-wheel granularity (≈1/8 of each kernel timer, ${wheel} ms) + 250 ms process scheduling`,
  }
}

function childEntry(): string {
  // Beside this module, with its extension: .ts when run from the sources, .js from dist.
  return fileURLToPath(new URL(`./child${extname(fileURLToPath(import.meta.url))}`, import.meta.url))
}

function spawnChild(
  role: 'peers' | 'clients',
  netns: string | undefined,
): ChildProcess & { stderrText: () => string } {
  const nodeArgs = process.execArgv.filter((a) => !a.startsWith('--inspect'))
  const argv = [process.execPath, ...nodeArgs, childEntry(), role]
  const full = netns === undefined ? argv : [findBinary('ip')!, 'netns', 'exec', netns, ...argv]
  const [file, ...args] = full as [string, ...string[]]
  const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  let err = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err = (err + chunk).slice(-4000)
  })
  return Object.assign(child, { stderrText: () => err.trim() })
}

function nextMessage<T extends { type: string }>(
  child: ChildProcess & { stderrText: () => string },
  type: string,
  what: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      cleanup()
      const err = child.stderrText()
      reject(new CliUnavailableError(`demo: ${what} ${why}${err ? `: ${err.split('\n').pop()}` : ''}`))
    }
    const onMessage = (message: { type: string }) => {
      if (message?.type !== type) return
      cleanup()
      resolve(message as T)
    }
    const onExit = (code: number | null) => fail(`exited (code ${code})`)
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs / 1000} s`), timeoutMs)
    const cleanup = () => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    child.on('message', onMessage)
    child.on('exit', onExit)
  })
}

function isStopped(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; T is stopped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')
  } catch {
    return process.platform !== 'linux'
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { policy } = options
  const unavailable = options.freeze ? 'asked for with --freeze' : netnsUnavailable()
  const mode: FaultMode = unavailable === undefined ? 'netns' : 'freeze'
  const modeNote =
    mode === 'netns'
      ? 'peers blackholed in a network namespace (nftables DROP): nothing answers, not even their kernel; TCP keepalive is shown too, and bytes are counted on the wire'
      : `peers frozen with SIGSTOP (namespaces not used: ${unavailable}). Their kernel still acknowledges TCP, so only application-level probes can see the death; TCP's kernel keepalive and HTTP (which relies on it) cannot be shown, and bytes are socket payload without headers. Run as root with iproute2 and nftables to blackhole the peers for real.`
  const main = SCENARIOS.filter((s) => s.modes.includes(mode))
  const anchors: readonly Anchor[] = options.compare ? ANCHORS.filter((s) => s.modes.includes(mode)) : []
  const scenarios: readonly Scenario[] = [...main, ...anchors]
  const skipped = SCENARIOS.filter((s) => !s.modes.includes(mode)).map((s) => ({
    id: s.id,
    protocol: s.protocol,
    why: s.whyNot ?? 'not shown in this mode',
  }))

  let netns: DemoNetns | undefined
  const children: ChildProcess[] = []
  const cleanup = () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
    netns?.destroy()
  }
  const onSignal = (signal: NodeJS.Signals) => {
    cleanup()
    process.stderr.write(
      `\nkeepalive demo: interrupted (${signal}); peers stopped${netns ? ', namespaces deleted' : ''}\n`,
    )
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const progress = options.progress
    ? new Progress(scenarios.map((s) => ({ id: s.id, label: label(s) })))
    : undefined
  try {
    if (mode === 'netns') netns = await createDemoNetns()
    const host = netns?.serverAddress ?? '127.0.0.1'
    const peers = spawnChild('peers', netns?.serverNs)
    children.push(peers)
    peers.send({ type: 'start', host, ids: scenarios.map((s) => s.id), policy })
    const { ports } = await nextMessage<PeersListening>(peers, 'listening', 'the peers process', 30_000)
    await netns?.countTraffic(ports)

    const clients = spawnChild('clients', netns?.clientNs)
    children.push(clients)
    const probesAfterFault = new Map<string, number>()
    const deaths = new Map<string, Extract<FromClients, { type: 'dead' }>>()
    const failures = new Map<string, string>()
    let faultAt: number | undefined
    let baseline: Record<string, WireCount> = {}
    let atFault: Record<string, WireCount> = {}
    let settle: () => void = () => {}
    const allDone = new Promise<void>((resolve) => {
      settle = resolve
    })
    const checkDone = () => {
      if (scenarios.every((s) => deaths.has(s.id) || failures.has(s.id))) settle()
    }
    const origin = now()
    const events = new Map<
      string,
      { at: number; kind: Timeline['rows'][number]['events'][number]['kind'] }[]
    >(scenarios.map((s) => [s.id, []]))
    const record = (id: string, at: number, kind: Timeline['rows'][number]['events'][number]['kind']) =>
      events.get(id)?.push({ at: Math.round(at - origin), kind })
    clients.on('message', (message: FromClients) => {
      if (message.type === 'dead') {
        record(message.id, message.lastSignOfLife, 'lastSign')
        record(message.id, message.at, 'dead')
      } else if (message.type === 'connected' || message.type === 'probe' || message.type === 'alive') {
        record(message.id, message.at, message.type)
      }
      switch (message.type) {
        case 'connected':
          progress?.connected(message.id, message.at)
          break
        case 'probe':
          if (faultAt !== undefined && message.at >= faultAt) {
            probesAfterFault.set(message.id, (probesAfterFault.get(message.id) ?? 0) + 1)
          }
          progress?.probe(message.id, message.at, message.attempt)
          break
        case 'alive':
          progress?.alive(message.id, message.at, message.rttMs)
          break
        case 'dead':
          deaths.set(message.id, message)
          progress?.dead(message.id, message.at, message.at - message.lastSignOfLife)
          checkDone()
          break
        case 'failed':
          failures.set(message.id, message.message)
          progress?.failed(message.id, message.message)
          checkDone()
          break
      }
    })
    const ready = nextMessage<FromClients>(clients, 'ready', 'the clients process', 30_000)
    clients.send({ type: 'start', host, ports, policy, mode } satisfies ToClients)
    await ready
    baseline = (await netns?.readCounters()) ?? {}

    await sleep(options.warmup ?? policy.idle + 1000)

    if (netns) await netns.blackhole()
    else {
      process.kill(peers.pid!, 'SIGSTOP')
      for (let i = 0; i < 100 && !isStopped(peers.pid!); i++) await sleep(10)
    }
    faultAt = now()
    atFault = (await netns?.readCounters()) ?? {}
    clients.send({ type: 'fault', at: faultAt } satisfies ToClients)
    progress?.fault(faultAt, mode === 'netns' ? 'peers blackholed' : 'peers frozen (SIGSTOP)')

    const longest = Math.max(...main.map((s) => s.configured(policy) + toleranceOf(s, policy).ms))
    // The libraries' own keepalive may take far longer (Node's default is 2 h 11 min): --compare waits 3 × the policy.
    const waited = Math.max(longest + 2000, anchors.length > 0 ? 3 * detectionTime(policy) : 0)
    await Promise.race([allDone, sleep(waited)])
    progress?.stop()
    // Read once at the end: after a death nothing but FIN and RST (not counted) goes to that peer any more.
    const wire = (await netns?.readCounters()) ?? {}

    const compare = anchors.map((s): CompareRow => {
      const death = deaths.get(s.id)
      const counted = wire[s.id]
      return {
        id: s.id,
        anchorOf: s.anchorOf,
        protocol: s.protocol,
        detector: s.detector,
        expected: s.expected(),
        measured: death === undefined ? null : Math.round(death.at - death.lastSignOfLife),
        waited: Math.round(waited),
        bytes:
          mode === 'netns'
            ? counted === undefined
              ? null
              : counted.bytes - (baseline[s.id]?.bytes ?? 0)
            : (death?.payloadBytes ?? null),
        detail:
          failures.get(s.id) ?? death?.reason ?? `still waiting after ${formatDuration(Math.round(waited))}`,
      }
    })
    const rows = main.map((s): DemoRow => {
      const configured = s.configured(policy)
      const tolerance = toleranceOf(s, policy)
      const death = deaths.get(s.id)
      const failure = failures.get(s.id)
      const measured = death === undefined ? null : Math.round(death.at - death.lastSignOfLife)
      const counted = wire[s.id]
      const bytes =
        mode === 'netns'
          ? counted === undefined
            ? null
            : counted.bytes - (baseline[s.id]?.bytes ?? 0)
          : (death?.payloadBytes ?? null)
      const probesSent = s.kernel
        ? counted === undefined
          ? null
          : counted.packetsOut - (atFault[s.id]?.packetsOut ?? 0)
        : (probesAfterFault.get(s.id) ?? 0)
      const kept = measured !== null && measured <= configured + tolerance.ms
      const detail =
        failure ??
        (death === undefined
          ? `not detected within ${formatDuration(configured + tolerance.ms + 2000)}`
          : death.reason)
      return {
        id: s.id,
        protocol: s.protocol,
        detector: s.detector,
        configured,
        measured,
        tolerance: tolerance.ms,
        toleranceWhy: tolerance.why,
        probesSent,
        bytes,
        kept,
        detail,
      }
    })
    return {
      mode,
      modeNote,
      policy,
      askedDetectionTime: detectionTime(policy),
      bytesKind: mode === 'netns' ? 'wire' : 'payload',
      rows,
      skipped,
      compare,
      timeline: {
        fault: faultAt === undefined ? null : Math.round(faultAt - origin),
        rows: scenarios.map((s) => ({ id: s.id, events: events.get(s.id) ?? [] })),
      },
      ok: rows.every((r) => r.kept),
    }
  } finally {
    progress?.stop()
    cleanup()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

export function label(s: Scenario): string {
  if ('anchorOf' in s) return `${s.protocol} (own)`
  return s.kernel ? `${s.protocol} (kernel)` : s.protocol
}

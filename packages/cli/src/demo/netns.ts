/**
 * Network namespaces for the demo (root with iproute2 and nftables): the peers in one namespace, the clients in
 * another, joined by a veth pair, so the host's own network is never touched. The peers vanish by an nftables DROP
 * of everything on the peers' interface (no reset, no answer: a dead peer for real, without the 500 ms link-down
 * retry a downed veth causes). nftables counters in the clients' namespace count every keepalive byte on the wire.
 *
 * Written for the demo from the test harness's createNetnsLink (the demo must not depend on the private harness).
 * Names are `kademo-<pid>-{c,s}`; a demo that was killed outright leaves them behind, and the next demo deletes
 * those whose owner is gone. Deleted on exit, on Ctrl-C and on SIGTERM.
 */
import { execFile, execFileSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'

const PREFIX = 'kademo-'
const PATTERN = /^kademo-(\d+)-[cs]$/
const CLIENT_ADDRESS = '10.252.0.1'
const SERVER_ADDRESS = '10.252.0.2'
const CLIENT_IF = 'kademo-c'
const SERVER_IF = 'kademo-s'
const TABLE = 'kademo'

/** Binaries live in /usr/sbin on Debian, which is not on every PATH. */
export function findBinary(name: string): string | undefined {
  for (const dir of [
    ...(process.env.PATH ?? '').split(':').filter(Boolean),
    '/usr/local/sbin',
    '/usr/sbin',
    '/sbin',
  ]) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK)
      return `${dir}/${name}`
    } catch {
      // not here
    }
  }
  return undefined
}

/** Why namespaces cannot be used here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root'
  for (const binary of ['ip', 'nft', 'ss']) if (findBinary(binary) === undefined) return `${binary} not found`
  try {
    execFileSync(findBinary('ip')!, ['netns', 'list'], { stdio: 'ignore' })
  } catch {
    return '`ip netns` does not work here'
  }
  return undefined
}

function exec(argv: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv as [string, ...string[]]
    const child = execFile(file, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${argv.join(' ')}: ${stderr.trim() || error.message}`))
      else resolve(stdout)
    })
    if (input !== undefined) child.stdin?.end(input)
  })
}

function deleteSync(ns: string): void {
  const ip = findBinary('ip')
  if (ip === undefined) return
  try {
    const pids = execFileSync(ip, ['netns', 'pids', ns], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    for (const pid of pids.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL')
      } catch {
        // already gone
      }
    }
  } catch {
    // no such namespace
  }
  try {
    execFileSync(ip, ['netns', 'delete', ns], { stdio: 'ignore' })
  } catch {
    // already gone
  }
}

/** Namespaces of earlier demos whose process is gone. */
function sweepLeftovers(): void {
  const out = execFileSync(findBinary('ip')!, ['netns', 'list'], { encoding: 'utf8' })
  for (const name of out.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '')) {
    const owner = PATTERN.exec(name)?.[1]
    if (owner === undefined || Number(owner) === process.pid) continue
    let alive = true
    try {
      process.kill(Number(owner), 0)
    } catch {
      alive = false
    }
    if (!alive) deleteSync(name)
  }
}

export interface WireCount {
  readonly packetsOut: number
  readonly bytes: number
}

export interface DemoNetns {
  readonly clientNs: string
  readonly serverNs: string
  readonly clientAddress: string
  readonly serverAddress: string
  /** Counts, per row, the packets and bytes to and from its peer's port (FIN and RST excluded: closing is not keepalive). */
  countTraffic(ports: Readonly<Record<string, number>>): Promise<void>
  readCounters(): Promise<Record<string, WireCount>>
  /** Drops everything on the peers' interface. */
  blackhole(): Promise<void>
  destroy(): void
}

export async function createDemoNetns(): Promise<DemoNetns> {
  sweepLeftovers()
  const ip = findBinary('ip')!
  const nft = findBinary('nft')!
  const clientNs = `${PREFIX}${process.pid}-c`
  const serverNs = `${PREFIX}${process.pid}-s`
  let destroyed = false
  const destroy = () => {
    if (destroyed) return
    destroyed = true
    deleteSync(clientNs)
    deleteSync(serverNs)
    process.off('exit', destroy)
  }
  process.on('exit', destroy)
  try {
    await exec([ip, 'netns', 'add', clientNs])
    await exec([ip, 'netns', 'add', serverNs])
    const clientScript = [
      `link add ${CLIENT_IF} type veth peer name ${SERVER_IF} netns ${serverNs}`,
      `addr add ${CLIENT_ADDRESS}/30 dev ${CLIENT_IF}`,
      'link set lo up',
      `link set ${CLIENT_IF} up`,
    ]
    const serverScript = [
      `addr add ${SERVER_ADDRESS}/30 dev ${SERVER_IF}`,
      'link set lo up',
      `link set ${SERVER_IF} up`,
    ]
    await exec([ip, '-n', clientNs, '-batch', '-'], `${clientScript.join('\n')}\n`)
    await exec([ip, '-n', serverNs, '-batch', '-'], `${serverScript.join('\n')}\n`)
  } catch (error) {
    destroy()
    throw error
  }

  let counterNames: Record<string, string> = {}
  return {
    clientNs,
    serverNs,
    clientAddress: CLIENT_ADDRESS,
    serverAddress: SERVER_ADDRESS,
    async countTraffic(ports) {
      counterNames = Object.fromEntries(
        Object.keys(ports).map((id) => [id, `c_${id.replace(/[^a-z0-9]/gi, '_')}`]),
      )
      const notClosing = 'tcp flags & (fin | rst) == 0'
      const lines = [
        `table inet ${TABLE} {`,
        ...Object.values(counterNames).flatMap((name) => [
          `  counter ${name}_out { }`,
          `  counter ${name}_in { }`,
        ]),
        '  chain out { type filter hook output priority 0; policy accept;',
        ...Object.entries(ports).map(
          ([id, port]) =>
            `    ip daddr ${SERVER_ADDRESS} tcp dport ${port} ${notClosing} counter name ${counterNames[id]}_out`,
        ),
        '  }',
        '  chain in { type filter hook input priority 0; policy accept;',
        ...Object.entries(ports).map(
          ([id, port]) =>
            `    ip saddr ${SERVER_ADDRESS} tcp sport ${port} ${notClosing} counter name ${counterNames[id]}_in`,
        ),
        '  }',
        '}',
      ]
      await exec([ip, 'netns', 'exec', clientNs, nft, '-f', '-'], `${lines.join('\n')}\n`)
    },
    async readCounters() {
      const out = await exec([
        ip,
        'netns',
        'exec',
        clientNs,
        nft,
        '-j',
        'list',
        'counters',
        'table',
        'inet',
        TABLE,
      ])
      const byName = new Map<string, { packets: number; bytes: number }>()
      for (const item of (
        JSON.parse(out) as { nftables: { counter?: { name: string; packets: number; bytes: number } }[] }
      ).nftables) {
        if (item.counter) byName.set(item.counter.name, item.counter)
      }
      return Object.fromEntries(
        Object.entries(counterNames).map(([id, name]) => {
          const out = byName.get(`${name}_out`)
          const inn = byName.get(`${name}_in`)
          return [id, { packetsOut: out?.packets ?? 0, bytes: (out?.bytes ?? 0) + (inn?.bytes ?? 0) }]
        }),
      )
    },
    async blackhole() {
      const ruleset = [
        'table inet kademo_drop {',
        '  chain input { type filter hook input priority -300; policy accept;',
        `    iifname "${SERVER_IF}" drop; }`,
        '  chain output { type filter hook output priority -300; policy accept;',
        `    oifname "${SERVER_IF}" drop; }`,
        '}',
      ]
      await exec([ip, 'netns', 'exec', serverNs, nft, '-f', '-'], `${ruleset.join('\n')}\n`)
    },
    destroy,
  }
}

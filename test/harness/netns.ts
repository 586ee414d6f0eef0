import { execFileSync } from 'node:child_process'
import type { Undo } from './cleanup.js'
import { track } from './cleanup.js'
import { type ExecResult, run } from './exec.js'
import { findBinary, requireBinary } from './prerequisites.js'

/**
 * Every namespace the harness creates is named `ka-<pid of the creating process>-<counter>-<c|s>`, so that a
 * leftover is recognisable and its owner can be checked: a `ka-` namespace whose owner is dead is a leak.
 */
export const NETNS_PREFIX = 'ka-'
const NETNS_PATTERN = /^ka-(\d+)-(\d+)-[cs]$/

/** Inside both namespaces only: nothing in the host namespace is ever addressed or configured. */
const CLIENT_ADDRESS = '10.251.0.1'
const SERVER_ADDRESS = '10.251.0.2'
const PREFIX_LENGTH = 30
/** Interface names inside the namespaces (each namespace has its own interface table, so they never collide). */
const CLIENT_IF = 'ka-c'
const SERVER_IF = 'ka-s'

export interface NetnsLink {
  /** Namespace names, for `ip netns exec` (or spawnNode's `netns` option). */
  clientNs: string
  serverNs: string
  clientAddress: string
  serverAddress: string
  /** The veth interface names inside each namespace. */
  clientInterface: string
  serverInterface: string
  /**
   * Sets the server's end of the veth pair down: every packet between the namespaces is lost, nothing is answered,
   * nothing is reset — a dead peer for real. The client's routes stay (its link only loses carrier), so its kernel
   * keeps sending probes into the void. The undo brings the link back up.
   */
  blackhole(): Promise<Undo>
  /**
   * A firewall DROP (nftables, or iptables when nft is missing) of everything in and out of the server's veth
   * interface, inside the server namespace only. The undo removes the rule.
   */
  dropTraffic(): Promise<Undo>
  /** Runs argv inside `ns` (one of this link's namespaces) and returns its output. */
  exec(ns: string, argv: readonly string[]): Promise<ExecResult>
  /** Kills what still runs inside the namespaces and deletes them. Idempotent; also runs at cleanup. */
  destroy(): Promise<void>
}

let counter = 0

function ip(): string {
  return requireBinary('ip')
}

/** Namespace names that exist on this machine with the harness's prefix. */
export function listHarnessNamespaces(): string[] {
  const ipPath = findBinary('ip')
  if (!ipPath) return []
  let out: string
  try {
    out = execFileSync(ipPath, ['netns', 'list'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    return []
  }
  // Lines look like "ka-123-1-c (id: 4)" or just "ka-123-1-c".
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => NETNS_PATTERN.test(name))
}

/** pid of the process that created a harness namespace (from its name). */
export function namespaceOwner(name: string): number | undefined {
  const match = NETNS_PATTERN.exec(name)
  return match ? Number(match[1]) : undefined
}

/** Kills every process inside `ns` and deletes it, synchronously (usable on process exit). Never throws. */
export function deleteNamespaceSync(ns: string): void {
  const ipPath = findBinary('ip')
  if (!ipPath) return
  try {
    const pids = execFileSync(ipPath, ['netns', 'pids', ns], {
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
    // namespace already gone
  }
  try {
    execFileSync(ipPath, ['netns', 'delete', ns], { stdio: 'ignore' })
  } catch {
    // already gone
  }
}

async function deleteNamespace(ns: string): Promise<void> {
  // A process still inside keeps the namespace (and its sockets) alive after `ip netns delete` removed the name:
  // kill them first so that deleting really ends everything.
  const pids = await run([ip(), 'netns', 'pids', ns]).then(
    (r) => r.stdout.split('\n').filter(Boolean).map(Number),
    () => [] as number[],
  )
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  await run([ip(), 'netns', 'delete', ns]).catch((error: Error) => {
    if (!/No such file|not found|Invalid/i.test(error.message)) throw error
  })
}

/**
 * Two fresh network namespaces joined by a veth pair, with addresses and `lo` up in both. The veth pair is created
 * inside the client namespace with its peer end placed straight into the server namespace, so the host namespace
 * never sees an interface, address or route. Destroyed at cleanup and, as a last resort, on process exit.
 * Needs root and iproute2: guard with `missingPrerequisites('root', 'netns')`.
 */
export async function createNetnsLink(): Promise<NetnsLink> {
  counter += 1
  const base = `${NETNS_PREFIX}${process.pid}-${counter}`
  const clientNs = `${base}-c`
  const serverNs = `${base}-s`
  const ipPath = ip()

  const destroy = track(
    `netns ${base}`,
    async () => {
      await Promise.all([deleteNamespace(clientNs), deleteNamespace(serverNs)])
    },
    () => {
      deleteNamespaceSync(clientNs)
      deleteNamespaceSync(serverNs)
    },
  )

  try {
    await run([ipPath, 'netns', 'add', clientNs])
    await run([ipPath, 'netns', 'add', serverNs])
    // One `ip -batch` per namespace applies its configuration with one process instead of four.
    const clientScript = [
      `link add ${CLIENT_IF} type veth peer name ${SERVER_IF} netns ${serverNs}`,
      `addr add ${CLIENT_ADDRESS}/${PREFIX_LENGTH} dev ${CLIENT_IF}`,
      'link set lo up',
      `link set ${CLIENT_IF} up`,
    ]
    const serverScript = [
      `addr add ${SERVER_ADDRESS}/${PREFIX_LENGTH} dev ${SERVER_IF}`,
      'link set lo up',
      `link set ${SERVER_IF} up`,
    ]
    await run([ipPath, '-n', clientNs, '-batch', '-'], { input: `${clientScript.join('\n')}\n` })
    await run([ipPath, '-n', serverNs, '-batch', '-'], { input: `${serverScript.join('\n')}\n` })
  } catch (error) {
    await destroy().catch(() => {})
    throw error
  }

  const nsSet = new Set([clientNs, serverNs])
  const exec = (ns: string, argv: readonly string[]): Promise<ExecResult> => {
    if (!nsSet.has(ns)) {
      return Promise.reject(
        new Error(`exec: ${ns} is not a namespace of this link (${clientNs}, ${serverNs})`),
      )
    }
    return run([ipPath, 'netns', 'exec', ns, ...argv])
  }

  const blackhole = async (): Promise<Undo> => {
    await run([ipPath, '-n', serverNs, 'link', 'set', SERVER_IF, 'down'])
    return track(`blackhole ${base}`, async () => {
      // The namespace may already be gone when destroy() ran first: nothing to undo then.
      await run([ipPath, '-n', serverNs, 'link', 'set', SERVER_IF, 'up']).catch(() => {})
    })
  }

  const dropTraffic = async (): Promise<Undo> => {
    const nft = findBinary('nft')
    if (nft) {
      const table = 'ka_drop'
      const ruleset = [
        `table inet ${table} {`,
        '  chain input { type filter hook input priority -300; policy accept;',
        `    iifname "${SERVER_IF}" drop; }`,
        '  chain output { type filter hook output priority -300; policy accept;',
        `    oifname "${SERVER_IF}" drop; }`,
        '}',
      ].join('\n')
      await run([ipPath, 'netns', 'exec', serverNs, nft, '-f', '-'], { input: `${ruleset}\n` })
      return track(`nft drop ${base}`, async () => {
        await run([ipPath, 'netns', 'exec', serverNs, nft, 'delete', 'table', 'inet', table]).catch(() => {})
      })
    }
    const iptables = requireBinary('iptables')
    const rules = [
      ['INPUT', '-i', SERVER_IF, '-j', 'DROP'],
      ['OUTPUT', '-o', SERVER_IF, '-j', 'DROP'],
    ]
    for (const rule of rules) await run([ipPath, 'netns', 'exec', serverNs, iptables, '-w', '-I', ...rule])
    return track(`iptables drop ${base}`, async () => {
      for (const rule of rules) {
        await run([ipPath, 'netns', 'exec', serverNs, iptables, '-w', '-D', ...rule]).catch(() => {})
      }
    })
  }

  return {
    clientNs,
    serverNs,
    clientAddress: CLIENT_ADDRESS,
    serverAddress: SERVER_ADDRESS,
    clientInterface: CLIENT_IF,
    serverInterface: SERVER_IF,
    blackhole,
    dropTraffic,
    exec,
    destroy,
  }
}

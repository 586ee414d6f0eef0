import { execFileSync } from 'node:child_process'
import type { Undo } from './cleanup.js'
import { track } from './cleanup.js'
import { type ExecResult, run } from './exec.js'
import { findBinary, requireBinary } from './prerequisites.js'

/**
 * Every namespace the harness creates is named `ka-<pid of the creating process>-<counter>-<c|r|s>` (client,
 * router, server), so that a leftover is recognisable and its owner can be checked: a `ka-` namespace whose owner
 * is dead is a leak.
 */
export const NETNS_PREFIX = 'ka-'
const NETNS_PATTERN = /^ka-(\d+)-(\d+)-[crs]$/

/**
 * Addresses exist inside the link's namespaces only: nothing in the host namespace is ever addressed or configured.
 * Direct link: client .1 and server .2 on one /30. Routed link: client .1 — router .2 on the near /30, router .5 —
 * server .6 on the far /30.
 */
const CLIENT_ADDRESS = '10.251.0.1'
const DIRECT_SERVER_ADDRESS = '10.251.0.2'
const ROUTER_NEAR_ADDRESS = '10.251.0.2'
const ROUTER_FAR_ADDRESS = '10.251.0.5'
const ROUTED_SERVER_ADDRESS = '10.251.0.6'
const PREFIX_LENGTH = 30
/** Interface names inside the namespaces (each namespace has its own interface table, so they never collide). */
const CLIENT_IF = 'ka-c'
const SERVER_IF = 'ka-s'
const ROUTER_NEAR_IF = 'ka-rc'
const ROUTER_FAR_IF = 'ka-rs'

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
   * Link down. Direct link (`createNetnsLink`): the server's end of the veth pair goes down, so the client's own
   * link loses carrier — the client's kernel sees a local failure (neighbour entries flushed, probes that fail
   * locally and are retried after TCP_RESOURCE_PROBE_INTERVAL, EHOSTUNREACH), as on a laptop whose Wi-Fi drops.
   * Routed link (`createRoutedLink`): the router's far interface goes down and the router discards what it can no
   * longer route without an ICMP error, so the client's kernel sees only silence, as when a peer vanishes beyond
   * the first hop. Nothing is answered or reset either way. The undo brings the link back up.
   */
  blackhole(): Promise<Undo>
  /**
   * A firewall DROP (nftables, or iptables when nft is missing): direct link — everything in and out of the
   * server's interface, inside the server namespace; routed link — everything the router forwards through its far
   * interface, inside the router namespace. The client's kernel sees only silence either way. The undo removes it.
   */
  dropTraffic(): Promise<Undo>
  /** The router between client and server (routed link only). */
  routerNs?: string
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
 * Its `blackhole()` takes the client's own link down (see NetnsLink): for a peer that vanishes beyond the first
 * hop use `createRoutedLink()`. Needs root and iproute2: guard with `missingPrerequisites('root', 'netns')`.
 */
export function createNetnsLink(): Promise<NetnsLink> {
  return createLink('direct')
}

/**
 * Three fresh network namespaces, client — router — server, each pair joined by a veth pair, the router forwarding
 * between them and routes set both ways. Faults act on the router's far side (`blackhole()`: its interface to the
 * server down; `dropTraffic()`: DROP in its forward chain), and the router's default route is a `blackhole` route
 * (discarded silently, no ICMP unreachable), so the client's kernel sees only silence: no carrier change, no
 * neighbour failure, no ICMP error. That is what a peer that vanished somewhere on the path looks like, and the
 * kernel's keepalive detection is then exactly idle + interval × count. Same cleanup as `createNetnsLink()`.
 */
export function createRoutedLink(): Promise<NetnsLink> {
  return createLink('routed')
}

async function createLink(kind: 'direct' | 'routed'): Promise<NetnsLink> {
  counter += 1
  const base = `${NETNS_PREFIX}${process.pid}-${counter}`
  const clientNs = `${base}-c`
  const serverNs = `${base}-s`
  const routerNs = kind === 'routed' ? `${base}-r` : undefined
  const namespaces = [clientNs, ...(routerNs ? [routerNs] : []), serverNs]
  const serverAddress = routerNs ? ROUTED_SERVER_ADDRESS : DIRECT_SERVER_ADDRESS
  const ipPath = ip()

  const destroy = track(
    `netns ${base}`,
    async () => {
      await Promise.all(namespaces.map((ns) => deleteNamespace(ns)))
    },
    () => {
      for (const ns of namespaces) deleteNamespaceSync(ns)
    },
  )

  // One `ip -batch` per namespace applies its configuration with one process instead of four.
  const scripts: [string, string[]][] = routerNs
    ? [
        [
          clientNs,
          [
            `link add ${CLIENT_IF} type veth peer name ${ROUTER_NEAR_IF} netns ${routerNs}`,
            `addr add ${CLIENT_ADDRESS}/${PREFIX_LENGTH} dev ${CLIENT_IF}`,
            'link set lo up',
            `link set ${CLIENT_IF} up`,
            `route add default via ${ROUTER_NEAR_ADDRESS}`,
          ],
        ],
        [
          routerNs,
          [
            `link add ${ROUTER_FAR_IF} type veth peer name ${SERVER_IF} netns ${serverNs}`,
            `addr add ${ROUTER_NEAR_ADDRESS}/${PREFIX_LENGTH} dev ${ROUTER_NEAR_IF}`,
            `addr add ${ROUTER_FAR_ADDRESS}/${PREFIX_LENGTH} dev ${ROUTER_FAR_IF}`,
            'link set lo up',
            `link set ${ROUTER_NEAR_IF} up`,
            `link set ${ROUTER_FAR_IF} up`,
            // What the router cannot route (the far side once its link is down) is discarded without an ICMP
            // error: the client must see silence, not "host unreachable".
            'route add blackhole default',
          ],
        ],
        [
          serverNs,
          [
            `addr add ${ROUTED_SERVER_ADDRESS}/${PREFIX_LENGTH} dev ${SERVER_IF}`,
            'link set lo up',
            `link set ${SERVER_IF} up`,
            `route add default via ${ROUTER_FAR_ADDRESS}`,
          ],
        ],
      ]
    : [
        [
          clientNs,
          [
            `link add ${CLIENT_IF} type veth peer name ${SERVER_IF} netns ${serverNs}`,
            `addr add ${CLIENT_ADDRESS}/${PREFIX_LENGTH} dev ${CLIENT_IF}`,
            'link set lo up',
            `link set ${CLIENT_IF} up`,
          ],
        ],
        [
          serverNs,
          [
            `addr add ${DIRECT_SERVER_ADDRESS}/${PREFIX_LENGTH} dev ${SERVER_IF}`,
            'link set lo up',
            `link set ${SERVER_IF} up`,
          ],
        ],
      ]
  try {
    for (const ns of namespaces) await run([ipPath, 'netns', 'add', ns])
    for (const [ns, script] of scripts) {
      await run([ipPath, '-n', ns, '-batch', '-'], { input: `${script.join('\n')}\n` })
    }
    if (routerNs) {
      // Forwarding is per namespace and off in a new one.
      await run([ipPath, 'netns', 'exec', routerNs, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'])
    }
  } catch (error) {
    await destroy().catch(() => {})
    throw error
  }

  const nsSet = new Set(namespaces)
  const exec = (ns: string, argv: readonly string[]): Promise<ExecResult> => {
    if (!nsSet.has(ns)) {
      return Promise.reject(
        new Error(`exec: ${ns} is not a namespace of this link (${namespaces.join(', ')})`),
      )
    }
    return run([ipPath, 'netns', 'exec', ns, ...argv])
  }

  // Where the fault acts: the router's far interface, or the server's own.
  const faultNs = routerNs ?? serverNs
  const faultIf = routerNs ? ROUTER_FAR_IF : SERVER_IF

  const blackhole = async (): Promise<Undo> => {
    await run([ipPath, '-n', faultNs, 'link', 'set', faultIf, 'down'])
    return track(`blackhole ${base}`, async () => {
      // The namespace may already be gone when destroy() ran first: nothing to undo then.
      await run([ipPath, '-n', faultNs, 'link', 'set', faultIf, 'up']).catch(() => {})
    })
  }

  const dropTraffic = async (): Promise<Undo> => {
    // A router drops what it forwards; an end host what comes in and goes out.
    const chains: [string, string, string][] = routerNs
      ? [
          ['forward', 'forward', 'iifname'],
          ['forward_out', 'forward', 'oifname'],
        ]
      : [
          ['input', 'input', 'iifname'],
          ['output', 'output', 'oifname'],
        ]
    const nft = findBinary('nft')
    if (nft) {
      const table = 'ka_drop'
      const ruleset = [
        `table inet ${table} {`,
        ...chains.map(
          ([name, hook, match]) =>
            `  chain ${name} { type filter hook ${hook} priority -300; policy accept; ${match} "${faultIf}" drop; }`,
        ),
        '}',
      ].join('\n')
      await run([ipPath, 'netns', 'exec', faultNs, nft, '-f', '-'], { input: `${ruleset}\n` })
      return track(`nft drop ${base}`, async () => {
        await run([ipPath, 'netns', 'exec', faultNs, nft, 'delete', 'table', 'inet', table]).catch(() => {})
      })
    }
    const iptables = requireBinary('iptables')
    const rules = routerNs
      ? [
          ['FORWARD', '-i', faultIf, '-j', 'DROP'],
          ['FORWARD', '-o', faultIf, '-j', 'DROP'],
        ]
      : [
          ['INPUT', '-i', faultIf, '-j', 'DROP'],
          ['OUTPUT', '-o', faultIf, '-j', 'DROP'],
        ]
    for (const rule of rules) await run([ipPath, 'netns', 'exec', faultNs, iptables, '-w', '-I', ...rule])
    return track(`iptables drop ${base}`, async () => {
      for (const rule of rules) {
        await run([ipPath, 'netns', 'exec', faultNs, iptables, '-w', '-D', ...rule]).catch(() => {})
      }
    })
  }

  return {
    clientNs,
    serverNs,
    ...(routerNs ? { routerNs } : {}),
    clientAddress: CLIENT_ADDRESS,
    serverAddress,
    clientInterface: CLIENT_IF,
    serverInterface: SERVER_IF,
    blackhole,
    dropTraffic,
    exec,
    destroy,
  }
}

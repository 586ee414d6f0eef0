import { execFileSync } from 'node:child_process'
import { accessSync, constants, existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Something a test needs from the machine. */
export type Prerequisite =
  | 'root'
  | 'netns'
  | 'nft'
  | 'iptables'
  | 'mosquitto'
  | 'sshd'
  | 'ssh-keygen'
  | 'ss'
  | 'chromium'
  | 'postgres'
  | 'redis'

/** Binaries live in /usr/sbin on Debian, which is not on a non-root PATH. */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin']

const whichCache = new Map<string, string | undefined>()

/** The absolute path of `name` on PATH or in the sbin directories, or undefined. */
export function findBinary(name: string): string | undefined {
  if (whichCache.has(name)) return whichCache.get(name)
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS]
  let found: string | undefined
  for (const dir of dirs) {
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      found = candidate
      break
    } catch {
      // not in this directory
    }
  }
  whichCache.set(name, found)
  return found
}

/** Like findBinary, but throws with an installation hint: for code that already checked its prerequisites. */
export function requireBinary(name: string): string {
  const path = findBinary(name)
  if (!path)
    throw new Error(`${name} not found on PATH or in /usr/sbin (run: sudo bash scripts/install-peers.sh)`)
  return path
}

const isRoot = (): boolean => process.getuid?.() === 0

const checkCache = new Map<Prerequisite, string | undefined>()

/** Why `need` is not available here, or undefined when it is. */
function check(need: Prerequisite): string | undefined {
  if (checkCache.has(need)) return checkCache.get(need)
  let reason: string | undefined
  switch (need) {
    case 'root':
      reason = isRoot() ? undefined : 'not running as root'
      break
    case 'netns': {
      const ip = findBinary('ip')
      if (!isRoot()) reason = 'network namespaces need root'
      else if (!ip) reason = 'the ip command (iproute2) is missing'
      else {
        // The binary can exist while the kernel or the container forbids namespaces: ask it.
        try {
          execFileSync(ip, ['netns', 'list'], { stdio: 'pipe', timeout: 5000 })
        } catch (error) {
          reason = `ip netns does not work here: ${(error as Error).message.split('\n')[0]}`
        }
      }
      break
    }
    case 'nft':
    case 'iptables':
    case 'mosquitto':
    case 'ssh-keygen':
    case 'ss':
    case 'chromium':
      reason = findBinary(need) ? undefined : `${need} is not installed`
      break
    case 'postgres':
      // Debian keeps the server binaries in /usr/lib/postgresql/<major>/bin (postgres.ts finds them there).
      if (!findBinary('postgres') && !existsSync('/usr/lib/postgresql'))
        reason = 'postgres (postgresql) is not installed'
      else if (!findBinary('setpriv'))
        reason = 'setpriv (util-linux) is missing: postgres runs as its own user'
      else if (!isRoot()) reason = 'postgres needs root here (to run the server as the postgres user)'
      break
    case 'redis':
      reason = findBinary('redis-server') ? undefined : 'redis-server is not installed'
      break
    case 'sshd':
      if (!findBinary('sshd')) reason = 'sshd (openssh-server) is not installed'
      else if (!findBinary('unshare'))
        reason = 'unshare (util-linux) is missing: sshd runs in a private mount namespace'
      else if (!isRoot()) reason = 'sshd needs root (privilege separation and a private /run)'
      break
  }
  checkCache.set(need, reason)
  return reason
}

/**
 * Checks what a test needs. Returns undefined when everything is there, or a human reason (which it also prints),
 * so that `describe.skipIf(missingPrerequisites('root', 'netns'))(...)` reports a skipped test with the reason in the
 * log. Under CI (`CI=true`) a missing prerequisite throws instead: CI installs everything first
 * (scripts/install-peers.sh), so a skip there would hide a broken setup.
 */
export function missingPrerequisites(...needs: Prerequisite[]): string | undefined {
  const reasons = [...new Set(needs)].map(check).filter((r): r is string => r !== undefined)
  if (reasons.length === 0) return undefined
  const reason = `missing prerequisites: ${reasons.join('; ')} (install with: sudo bash scripts/install-peers.sh)`
  if (isCi()) throw new Error(`${reason} — CI=${process.env.CI}, so this is a failure, not a skip`)
  console.warn(`[harness] SKIPPED: ${reason}`)
  return reason
}

/** CI is on for any value but empty, `0` or `false` (`CI=true` in CI here; other services set `CI=1`). */
export function isCi(): boolean {
  const value = process.env.CI?.trim().toLowerCase()
  return value !== undefined && value !== '' && value !== '0' && value !== 'false'
}

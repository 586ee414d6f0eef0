import { appendFileSync, chownSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AddressInUseError, startChildPeer } from './child-peer.js'
import { run } from './exec.js'
import type { ProcessPeer } from './peer.js'
import { freePort } from './ports.js'
import { findBinary } from './prerequisites.js'
import { makeTempDir } from './tmp.js'

export interface PostgresOptions {
  /** Listen address; default 127.0.0.1 (or inside `netns`, e.g. a NetnsLink's serverAddress). */
  host?: string
  /** Run inside this network namespace. */
  netns?: string
}

export interface PostgresPeer extends ProcessPeer {
  version: string
  /** postgres://postgres@host:port/postgres (trust authentication: no password). */
  url: string
  user: string
  database: string
}

const ATTEMPTS = 5
/** Debian installs the server binaries outside PATH, one directory per major. */
const DEBIAN_ROOT = '/usr/lib/postgresql'

/** A server binary (`postgres`, `initdb`): on PATH, or Debian's newest /usr/lib/postgresql/<major>/bin. */
export function findPostgresBinary(name: 'postgres' | 'initdb'): string | undefined {
  const onPath = findBinary(name)
  if (onPath) return onPath
  if (!existsSync(DEBIAN_ROOT)) return undefined
  const majors = readdirSync(DEBIAN_ROOT)
    .filter((d) => /^\d+$/.test(d))
    .sort((a, b) => Number(b) - Number(a))
  for (const major of majors) {
    const path = join(DEBIAN_ROOT, major, 'bin', name)
    if (existsSync(path)) return path
  }
  return undefined
}

function postgresBinary(name: 'postgres' | 'initdb'): string {
  const path = findPostgresBinary(name)
  if (!path) throw new Error(`${name} not found (run: sudo bash scripts/install-peers.sh)`)
  return path
}

/** The unprivileged account the server runs as: postgres refuses to run as root. Debian's package creates it. */
const RUN_AS = ['--reuid', 'postgres', '--regid', 'postgres', '--clear-groups']

/**
 * A real PostgreSQL server (Debian's) with its own cluster in a temp dir (initdb, trust authentication, fsync off),
 * run as the `postgres` user, listening on `host` only (its Unix socket in the data dir). Like mosquitto it cannot
 * listen on port 0: a free port is picked first and the start retried if it was taken meanwhile. stop() asks for a
 * fast shutdown (SIGINT: sessions are ended, not waited for) and removes the cluster. Needs
 * `missingPrerequisites('postgres')` (root, the server, setpriv).
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresPeer> {
  const postgres = postgresBinary('postgres')
  const setpriv = findBinary('setpriv') ?? 'setpriv'
  const host = options.host ?? '127.0.0.1'
  const dir = makeTempDir('postgres')
  const data = join(dir.path, 'data')
  try {
    const { uid, gid } = postgresIds()
    chownSync(dir.path, uid, gid)
    await run(
      [
        setpriv,
        ...RUN_AS,
        postgresBinary('initdb'),
        '-D',
        data,
        '-A',
        'trust',
        '-U',
        'postgres',
        '--no-sync',
      ],
      {
        timeoutMs: 60_000,
      },
    )
    // initdb trusts loopback only; a client in another namespace connects from the link's address.
    appendFileSync(join(data, 'pg_hba.conf'), 'host all all 0.0.0.0/0 trust\n')
  } catch (error) {
    await dir.remove()
    throw error
  }
  for (let attempt = 1; ; attempt++) {
    // Inside a fresh namespace nothing else listens: the standard port is free there.
    const port = options.netns ? 5432 : await freePort(host)
    try {
      const peer = await startChildPeer({
        label: `postgres :${port}`,
        argv: [
          setpriv,
          ...RUN_AS,
          postgres,
          '-D',
          data,
          '-h',
          host,
          '-p',
          String(port),
          '-k',
          data,
          '-c',
          'fsync=off',
          '-c',
          'logging_collector=off',
        ],
        netns: options.netns,
        host,
        port,
        ready: /database system is ready to accept connections/,
        timeoutMs: 30_000,
      })
      const version = /PostgreSQL (\d+(?:\.\d+)?)/.exec(peer.log())?.[1] ?? 'unknown'
      return {
        host,
        port,
        url: `postgres://postgres@${host}:${port}/postgres`,
        user: 'postgres',
        database: 'postgres',
        version,
        pid: peer.pid,
        freeze: peer.freeze,
        thaw: peer.thaw,
        crash: peer.crash,
        log: peer.log,
        async stop() {
          // Fast shutdown: a smart one (SIGTERM) would wait for every client session to end.
          try {
            process.kill(peer.pid, 'SIGCONT')
            process.kill(peer.pid, 'SIGINT')
          } catch {
            // already gone
          }
          await peer.stop()
          await dir.remove()
        },
      }
    } catch (error) {
      if (!(error instanceof AddressInUseError) || attempt >= ATTEMPTS) {
        await dir.remove()
        throw error
      }
    }
  }
}

function postgresIds(): { uid: number; gid: number } {
  // getent-free: /etc/passwd is where Debian's package puts the account.
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l: string) => l.startsWith('postgres:'))
  if (!line)
    throw new Error('no postgres user (install the postgresql package: sudo bash scripts/install-peers.sh)')
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

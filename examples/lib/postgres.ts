/**
 * A throwaway PostgreSQL server for the examples (a helper, not an example): the server binaries Debian installs
 * (`apt-get install postgresql`, or `sudo bash scripts/install-peers.sh`), a fresh cluster in a temp dir, trust
 * authentication on 127.0.0.1 and a free port. As root it runs as the `postgres` user (the server refuses root).
 * stop() asks for a fast shutdown and removes the cluster.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Postgres {
  readonly port: number
  readonly url: string
  stop(): Promise<void>
}

function binary(name: string): string {
  const root = '/usr/lib/postgresql'
  const majors = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  for (const major of majors)
    if (existsSync(join(root, major, 'bin', name))) return join(root, major, 'bin', name)
  throw new Error(`${name} not found under ${root}: install postgresql (sudo bash scripts/install-peers.sh)`)
}

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

export async function startPostgres(): Promise<Postgres> {
  const dir = mkdtempSync(join(tmpdir(), 'keepalive-example-pg-'))
  const data = join(dir, 'data')
  const asRoot = process.getuid?.() === 0
  const prefix = asRoot ? ['setpriv', '--reuid', 'postgres', '--regid', 'postgres', '--clear-groups'] : []
  if (asRoot) {
    const [, , uid, gid] = (
      readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('postgres:')) ?? ''
    ).split(':')
    chownSync(dir, Number(uid), Number(gid))
  }
  const argv = (cmd: string[]) => [...prefix, ...cmd]
  const [initdb, ...initArgs] = argv([
    binary('initdb'),
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '--no-sync',
  ])
  execFileSync(initdb as string, initArgs, { stdio: 'pipe' })
  const port = await freePort()
  const [file, ...args] = argv([
    binary('postgres'),
    '-D',
    data,
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-k',
    data,
    '-c',
    'fsync=off',
  ])
  const child: ChildProcess = spawn(file as string, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stderr?.on('data', (chunk) => (log += chunk))
  child.stdout?.on('data', (chunk) => (log += chunk))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT') // fast shutdown: sessions are ended, not waited for
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 20_000
  while (!/ready to accept connections/.test(log)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`postgres did not start:\n${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return { port, url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop }
}

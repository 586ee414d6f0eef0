import { AddressInUseError, startChildPeer } from './child-peer.js'
import type { ProcessPeer } from './peer.js'
import { freePort } from './ports.js'
import { requireBinary } from './prerequisites.js'
import { makeTempDir } from './tmp.js'

export interface RedisOptions {
  /** Listen address; default 127.0.0.1 (or inside `netns`, e.g. a NetnsLink's serverAddress). */
  host?: string
  /** Run inside this network namespace. */
  netns?: string
}

export interface RedisPeer extends ProcessPeer {
  version: string
  /** redis://host:port */
  url: string
}

const ATTEMPTS = 5

/**
 * A real redis-server (Debian's) with no persistence, its working dir a temp dir, listening on `host` only
 * (protected mode off: no password, the address is the test's own). Like mosquitto it cannot listen on port 0: a
 * free port is picked first and the start retried if it was taken meanwhile. Needs `missingPrerequisites('redis')`.
 */
export async function startRedis(options: RedisOptions = {}): Promise<RedisPeer> {
  const server = requireBinary('redis-server')
  const host = options.host ?? '127.0.0.1'
  const dir = makeTempDir('redis')
  for (let attempt = 1; ; attempt++) {
    // Inside a fresh namespace nothing else listens: the standard port is free there.
    const port = options.netns ? 6379 : await freePort(host)
    try {
      const peer = await startChildPeer({
        label: `redis-server :${port}`,
        argv: [
          server,
          '--port',
          String(port),
          '--bind',
          host,
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir.path,
          '--protected-mode',
          'no',
        ],
        netns: options.netns,
        host,
        port,
        ready: /Ready to accept connections/,
      })
      const version = /Redis version=(\S+)/.exec(peer.log())?.[1] ?? 'unknown'
      return {
        host,
        port,
        url: `redis://${host}:${port}`,
        version,
        pid: peer.pid,
        freeze: peer.freeze,
        thaw: peer.thaw,
        crash: peer.crash,
        log: peer.log,
        async stop() {
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

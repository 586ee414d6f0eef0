import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AddressInUseError, startChildPeer } from './child-peer.js'
import type { ProcessPeer } from './peer.js'
import { freePort } from './ports.js'
import { requireBinary } from './prerequisites.js'
import { makeTempDir } from './tmp.js'

export interface MosquittoOptions {
  /** Listen address; default 127.0.0.1 (or inside `netns`, e.g. a NetnsLink's serverAddress). */
  host?: string
  /** Run inside this network namespace. */
  netns?: string
  /** Extra mosquitto.conf lines (e.g. `max_keepalive 10`). */
  config?: readonly string[]
}

export interface MosquittoPeer extends ProcessPeer {
  version: string
  /** mqtt://host:port */
  url: string
}

const ATTEMPTS = 5

/**
 * A real mosquitto broker with a generated two-line config (listener, allow_anonymous) in a temp dir. mosquitto
 * cannot listen on port 0, so a free port is picked first and the start is retried if it was taken meanwhile.
 * Needs `missingPrerequisites('mosquitto')`.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoPeer> {
  const mosquitto = requireBinary('mosquitto')
  const host = options.host ?? '127.0.0.1'
  const dir = makeTempDir('mosquitto')
  for (let attempt = 1; ; attempt++) {
    // Inside a fresh namespace nothing else listens: the standard port is free there.
    const port = options.netns ? 1883 : await freePort(host)
    const configPath = join(dir.path, 'mosquitto.conf')
    writeFileSync(
      configPath,
      [`listener ${port} ${host}`, 'allow_anonymous true', ...(options.config ?? [])].join('\n'),
    )
    try {
      const peer = await startChildPeer({
        label: `mosquitto :${port}`,
        argv: [mosquitto, '-c', configPath],
        netns: options.netns,
        host,
        port,
        // Logged after every listener is open.
        ready: /mosquitto version \S+ running/,
      })
      const version = /mosquitto version (\S+)/.exec(peer.log())?.[1] ?? 'unknown'
      return {
        host,
        port,
        url: `mqtt://${host}:${port}`,
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

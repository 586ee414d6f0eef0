import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { Aedes, AedesOptions } from 'aedes'
import { track } from './cleanup.js'
import { REPO_ROOT } from './paths.js'
import type { InProcessPeer } from './peer.js'
import { listen } from './ports.js'
import { closeServer, SocketSet } from './sockets.js'

export interface AedesPeer extends InProcessPeer {
  version: string
  url: string
  broker: Aedes
}

function packageVersion(name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8'))
    return String(manifest.version)
  } catch {
    return 'unknown'
  }
}

/** The aedes MQTT broker in this process, behind a node:net server on port 0. */
export async function startAedes(options: { host?: string; aedes?: AedesOptions } = {}): Promise<AedesPeer> {
  const { Aedes } = await import('aedes')
  const broker = await Aedes.createBroker(options.aedes)
  const sockets = new SocketSet()
  const server = createServer((socket) => {
    sockets.add(socket)
    broker.handle(socket)
  })
  let address: { host: string; port: number }
  try {
    address = await listen(server, options.host)
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    throw error
  }
  const closeBroker = (): Promise<void> =>
    new Promise((resolve) => (broker.closed ? resolve() : broker.close(() => resolve())))

  const stop = track(`aedes :${address.port}`, async () => {
    const closed = closeServer(server)
    sockets.destroyAll()
    await Promise.all([closed, closeBroker()])
  })
  return {
    ...address,
    url: `mqtt://${address.host}:${address.port}`,
    version: packageVersion('aedes'),
    broker,
    stop,
    async crash() {
      sockets.resetAll()
      await stop()
    },
    connectionCount: () => sockets.size,
  }
}

export { packageVersion }

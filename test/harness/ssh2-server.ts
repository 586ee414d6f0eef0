import { timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:net'
import ssh2, { type Connection, type ParsedKey, type ServerChannel, type ServerConfig } from 'ssh2'
import { packageVersion } from './aedes.js'
import { track } from './cleanup.js'
import type { InProcessPeer } from './peer.js'
import { listen } from './ports.js'
import { closeServer, SocketSet } from './sockets.js'

const { Server, utils } = ssh2

/** Runs an exec request; write output to `stream`, then `stream.exit(code)` and `stream.end()`. */
export type ExecHandler = (command: string, stream: ServerChannel) => void

export interface Ssh2ServerOptions {
  host?: string
  /** Public keys (OpenSSH format) accepted besides the generated client key. */
  authorizedKey?: string | readonly string[]
  /** Default: `echo <words>` prints the words, `true` succeeds, anything else exits 127. */
  exec?: ExecHandler
  /** Merged into ssh2's ServerConfig (keepaliveInterval, …). */
  serverConfig?: Partial<ServerConfig>
  /** Called for every authenticated client connection (to watch it, or to add handlers). */
  onClient?: (client: Connection) => void
}

export interface Ssh2ServerPeer extends InProcessPeer {
  version: string
  username: string
  /** The generated client key (OpenSSH format, ed25519): ssh2 client's `privateKey`. */
  privateKey: string
  publicKey: string
  hostPublicKey: string
  /** Authenticated client connections currently open. */
  clients: Set<Connection>
}

const defaultExec: ExecHandler = (command, stream) => {
  const [program, ...words] = command.trim().split(/\s+/)
  if (program === 'echo') {
    stream.write(`${words.join(' ')}\n`)
    stream.exit(0)
  } else if (program === 'true') {
    stream.exit(0)
  } else {
    stream.stderr.write(`${program}: not supported by the harness's ssh2 server\n`)
    stream.exit(127)
  }
  stream.end()
}

/**
 * An ed25519 key pair from ssh2's generator that ssh2 itself can parse. ssh2 1.17 strips every leading zero byte of
 * the public key, so about 1 key in 256 (a public key starting with 0x00) comes out 31 bytes long and parseKey
 * rejects it as "Malformed OpenSSH public key" (mscdex/ssh2#1390, #1513). Such a pair is drawn again.
 */
export function generateEd25519KeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519')
    if (!(utils.parseKey(pair.public) instanceof Error) && !(utils.parseKey(pair.private) instanceof Error)) {
      return pair
    }
  }
}

/**
 * An ssh2 `Server` in this process with a generated ed25519 host key, accepting public-key authentication of a
 * generated client key (any user name) and exec requests. Sockets are accepted by a node:net server on port 0 and
 * handed over with injectSocket, so crash() can reset them.
 */
export async function startSsh2Server(options: Ssh2ServerOptions = {}): Promise<Ssh2ServerPeer> {
  const hostKeys = generateEd25519KeyPair()
  const clientKeys = generateEd25519KeyPair()
  const extra =
    typeof options.authorizedKey === 'string' ? [options.authorizedKey] : (options.authorizedKey ?? [])
  const allowed = [clientKeys.public, ...extra].map((text) => {
    const key = utils.parseKey(text)
    if (key instanceof Error) throw key
    return (Array.isArray(key) ? key[0] : key) as ParsedKey
  })
  const exec = options.exec ?? defaultExec
  const clients = new Set<Connection>()

  const ssh = new Server({ ...options.serverConfig, hostKeys: [hostKeys.private] }, (client) => {
    client.on('error', () => {
      // A reset client is normal in these tests; the test observes it on its own side.
    })
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey'])
      const match = allowed.find((key) => {
        const wanted = key.getPublicSSH()
        return (
          ctx.key.algo === key.type &&
          ctx.key.data.length === wanted.length &&
          timingSafeEqual(ctx.key.data, wanted)
        )
      })
      if (!match) return ctx.reject(['publickey'])
      // Without a signature the client only asks whether the key would do; with one, it must verify.
      if (ctx.signature && ctx.blob) {
        return match.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true
          ? ctx.accept()
          : ctx.reject(['publickey'])
      }
      return ctx.accept()
    })
    client.on('ready', () => {
      clients.add(client)
      options.onClient?.(client)
      client.on('session', (acceptSession) => {
        const session = acceptSession()
        session.on('exec', (accept, _reject, info) => exec(info.command, accept()))
      })
    })
    client.on('close', () => clients.delete(client))
  })

  const sockets = new SocketSet()
  const server = createServer((socket) => {
    sockets.add(socket)
    ssh.injectSocket(socket)
  })
  const address = await listen(server, options.host)
  const stop = track(`ssh2 server :${address.port}`, async () => {
    const closed = closeServer(server)
    for (const client of clients) client.end()
    sockets.destroyAll()
    await closed
  })
  return {
    ...address,
    version: `ssh2 ${packageVersion('ssh2')}`,
    username: 'root',
    privateKey: clientKeys.private,
    publicKey: clientKeys.public,
    hostPublicKey: hostKeys.public,
    clients,
    stop,
    async crash() {
      sockets.resetAll()
      await stop()
    },
    connectionCount: () => sockets.size,
  }
}

/**
 * SSH: an ssh2 server as the peer (its own keepalive off, so it only answers); the client is ssh2 with
 * `sshClientOptions(policy)` (ssh2's keepaliveInterval and keepaliveCountMax from the policy) and
 * `watchSsh(client, policy)` (OpenSSH semantics: any packet received is a sign of life; keepalive@openssh.com after
 * `idle` of silence). Whichever notices first ends the connection; `dead` names it. The client's TCP socket is
 * opened here and handed to ssh2 (`sock`), so the demo can count its bytes.
 */
import net from 'node:net'
import { sshSettings } from '@keepalive/core'
import { sshClientOptions, watchSsh } from '@keepalive/ssh'
import ssh2 from 'ssh2'
import type { Scenario } from '../scenario.js'
import { connected, listen } from './listen.js'

export const sshScenario: Scenario = {
  id: 'ssh',
  protocol: 'ssh',
  detector: 'keepalive@openssh.com (watchSsh)',
  modes: ['netns', 'freeze'],
  kernel: false,
  configured: (policy) => sshSettings(policy).detectionTime,
  async startPeer(host) {
    const hostKey = parsableKeyPair()
    const server = new ssh2.Server({ hostKeys: [hostKey.private], keepaliveInterval: 0 }, (connection) => {
      connection.on('error', () => {})
      // The demo's own peer on a private address: any user, no credentials.
      connection.on('authentication', (ctx) => ctx.accept())
    })
    return listen(server as unknown as net.Server, host)
  },
  async startClient({ host, port, policy, events }) {
    const sock = net.connect({ host, port })
    await connected(sock)
    const client = new ssh2.Client()
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve)
      client.once('error', reject)
      client.connect(
        sshClientOptions(policy, { sock, username: 'demo', hostVerifier: () => true, readyTimeout: 10_000 }),
      )
    })
    client.on('error', () => {})
    const watcher = watchSsh(client, policy)
    watcher.on('probe', ({ attempt }) => events.probe(attempt))
    watcher.on('alive', ({ rttMs }) => events.alive(rttMs))
    watcher.on('dead', ({ reason, by }) => events.dead(`${reason.code} (noticed by ${by})`))
    return {
      socket: sock,
      stop: () => {
        watcher.stop()
        client.end()
        sock.destroy()
      },
    }
  },
}

/**
 * ssh2 1.17's generator strips every leading zero byte of an ed25519 public key, so about 1 pair in 256 is one
 * ssh2 cannot parse (mscdex/ssh2#1390): such a pair is drawn again.
 */
function parsableKeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519')
    if (
      !(ssh2.utils.parseKey(pair.private) instanceof Error) &&
      !(ssh2.utils.parseKey(pair.public) instanceof Error)
    ) {
      return pair
    }
  }
}

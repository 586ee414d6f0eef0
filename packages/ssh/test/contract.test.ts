// The watcher contract (core's Watcher, #23) against watchSsh on an ssh2 client of an ssh2 server in this process,
// through the contract's proxy (test/harness/watcher-contract.ts).

import { watchSsh } from '@keepalive/ssh'
import { registerCleanup, startSsh2Server } from '@keepalive/test-harness'
import { describeWatcherContract } from '@keepalive/test-harness/watcher-contract'
import { connectSsh } from './helpers.js'

describeWatcherContract({
  name: 'SshWatcher',
  ownEvents: ['close'],
  deadCode: 'KA_ERR_SSH_KEEPALIVE_TIMEOUT',
  async connect(policy, via) {
    // ssh2's server keepalive out of the way (0 means its 15 s default): only the watcher probes.
    const server = await startSsh2Server({ serverConfig: { keepaliveInterval: 2 ** 31 - 1 } })
    const target = await via(server)
    const client = await connectSsh({ ...target, username: 'u', privateKey: server.privateKey })
    client.on('error', () => {})
    const watcher = watchSsh(client, policy)
    registerCleanup('ssh watcher', () => watcher.stop())
    return { watcher }
  },
})

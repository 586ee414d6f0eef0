/**
 * Entry of the demo's child processes: `child.ts peers` or `child.ts clients`, talking to the demo over IPC.
 * A child exits when the demo goes away (its IPC channel closes), so nothing outlives a killed demo but what the
 * demo froze (which it kills itself).
 */
import { handleClients } from './clients.js'
import type { FromClients, PeersListening, StartPeers } from './messages.js'
import { runPeers } from './peers.js'

const role = process.argv[2]
const send = (message: FromClients | PeersListening) => process.send?.(message)

process.on('disconnect', () => process.exit(0))
if (role === 'peers') {
  process.on('message', (message: StartPeers) => {
    if (message.type === 'start') {
      runPeers(send, message).catch((error: Error) => {
        process.stderr.write(`peers: ${error.message}\n`)
        process.exit(1)
      })
    }
  })
} else if (role === 'clients') {
  process.on('message', handleClients(send))
} else {
  process.stderr.write(`demo child: unknown role ${String(role)}\n`)
  process.exit(2)
}

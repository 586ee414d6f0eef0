/** The peers process: every scenario's embedded peer, on one address. Frozen (SIGSTOP) or blackholed by the demo. */
import type { PeersListening, StartPeers } from './messages.js'
import { ANCHORS, SCENARIOS } from './scenarios/index.js'

export async function runPeers(send: (message: PeersListening) => void, start: StartPeers): Promise<void> {
  const ports: Record<string, number> = {}
  for (const scenario of [...SCENARIOS, ...ANCHORS].filter((s) => start.ids.includes(s.id))) {
    ports[scenario.id] = await scenario.startPeer(start.host, start.policy)
  }
  send({ type: 'listening', ports })
}

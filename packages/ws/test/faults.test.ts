/**
 * Real dead peers, each detected within [detectionTime, detectionTime + 1 s] of the last byte received:
 * - a client process frozen (SIGSTOP: TCP stays up, its kernel ACKs, nothing is answered), found by the server's
 *   watchWebSocketServer, with the ws README's recipe (one setInterval, isAlive flag) beside it on the same
 *   client process and measured;
 * - a server process frozen, found by a client's watchWebSocket;
 * - a server vanished beyond a router (client — router — server namespaces; the router's link to the server goes
 *   down, or an nftables DROP: the client sees only silence), found by a client's watchWebSocket.
 * Policy idle 1 s, interval 500 ms, 2 probes → 2 s. Each test leaves no socket, timer or process behind.
 */
import { once } from 'node:events'
import {
  createRoutedLink,
  expectNoLeaks,
  missingPrerequisites,
  type NodeProcess,
  recordDeadline,
  spawnNode,
} from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import { startRecipeServer, startWatchedServer } from './helpers.js'

const POLICY = { idle: 1000, interval: 500, probes: 2 }
const DETECTION_MS = 2000
/** The recipe's one knob at the same worst case: a silent client is terminated 1 to 2 intervals after its last pong. */
const RECIPE_INTERVAL_MS = 1000
const CLIENT = new URL('./fixtures/ws-client.ts', import.meta.url)
const SERVER = new URL('./fixtures/ws-server.ts', import.meta.url)

const log = (line: string): void => console.info(`[ws faults] ${line}`)

function expectOnTime(test: string, measured: number): void {
  recordDeadline({
    test,
    measured,
    // Never early: the monitor counts from an upper bound of the last byte, and this tap runs after ws's
    // listener, so it is later still (a few µs); 5 ms allow for the two clocks' reads.
    min: DETECTION_MS - 5,
    // 10 ms scheduler tick, the event loop and IPC latency on a shared 2-core machine.
    max: DETECTION_MS + 1000,
    slack: '10 ms scheduler tick, event loop, IPC latency',
  })
  expect(measured).toBeGreaterThanOrEqual(DETECTION_MS - 5)
  expect(measured).toBeLessThanOrEqual(DETECTION_MS + 1000)
}

async function opened(child: NodeProcess, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await child.next('open', 10_000)
}

describe('ws: dead clients found by the server', () => {
  it('a frozen client process: dead within [D, D + 1 s] of its last byte; the README recipe beside it', async () => {
    expectNoLeaks()
    const ours = await startWatchedServer(POLICY)
    const recipe = await startRecipeServer(RECIPE_INTERVAL_MS)
    const client = spawnNode(CLIENT, {
      args: [JSON.stringify([ours.url, recipe.url]), 'null'],
      label: 'ws clients',
    })
    await opened(client, 2)
    // A few probe round trips first, so the freeze lands mid-rhythm.
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(ours.watcher.stats).toMatchObject({ connections: 1, deaths: 0 })
    expect(ours.watcher.stats.probesTotal).toBeGreaterThan(0)
    // The watcher contract on the connection's own watcher: counters, RTT and lastSeen while alive…
    const watcher = ours.watcher.watcherOf(ours.connections[0] as object)
    expect(watcher?.side).toBe('server')
    expect(watcher?.state).toMatch(/^(idle|probing)$/)
    expect(watcher?.probesTotal).toBeGreaterThan(0)
    expect(watcher?.lastRttMs).toBeGreaterThan(0)
    expect(watcher?.lastSeen).toBeGreaterThan(0)
    expect(watcher?.deaths).toBe(0)
    const contractDead = once(watcher as never, 'dead')
    const oursDead = ours.nextDeath(DETECTION_MS + 5000)
    const recipeDead = recipe.nextDeath(3 * RECIPE_INTERVAL_MS + 5000)
    await client.freeze()
    const [death, recipeDeath] = await Promise.all([oursDead, recipeDead])
    const measured = death.at - death.lastByteAt
    const recipeMeasured = recipeDeath.at - recipeDeath.lastByteAt
    log(
      `frozen client: ours ${measured.toFixed(0)} ms after the last byte (${death.event?.reason.code}, ` +
        `${death.event?.probesSent} pings unanswered, asked ${DETECTION_MS}); ` +
        `recipe (setInterval ${RECIPE_INTERVAL_MS} ms) ${recipeMeasured.toFixed(0)} ms`,
    )
    expect(death.event?.reason.code).toBe('KA_ERR_WS_PONG_TIMEOUT')
    expect(death.event?.detectionMs).toBe(DETECTION_MS)
    expect(death.event?.probesSent).toBe(2)
    expectOnTime('ws/faults: frozen client, server watcher dead after the last byte', measured)
    // The recipe has no stated bound: between one and two intervals after its last pong.
    expect(recipeMeasured).toBeGreaterThan(RECIPE_INTERVAL_MS - 50)
    expect(recipeMeasured).toBeLessThanOrEqual(2 * RECIPE_INTERVAL_MS + 1000)
    expect(ours.watcher.stats).toMatchObject({ connections: 0, deaths: 1 })
    // …and after the death: events.once works on it ('error' is accepted, never emitted), the state stays 'dead'.
    const [contractEvent] = await contractDead
    expect((contractEvent as { reason: unknown }).reason).toBe(death.event?.reason)
    expect(watcher).toMatchObject({ state: 'dead', deaths: 1, probesSent: 2, lastSeen: undefined })
    await client.thaw()
    await client.kill()
  })
})

describe('ws: dead servers found by the client', () => {
  it('a frozen server process: the client watcher finds it within [D, D + 1 s]', async () => {
    expectNoLeaks()
    const server = spawnNode(SERVER, { args: ['127.0.0.1'], label: 'ws server' })
    const { port } = await server.next<{ type: string; port: number }>('ready')
    const client = spawnNode(CLIENT, {
      args: [JSON.stringify([`ws://127.0.0.1:${port}`]), JSON.stringify(POLICY)],
      label: 'ws watched client',
    })
    await opened(client, 1)
    await new Promise((resolve) => setTimeout(resolve, 2500))
    await server.freeze()
    const dead = await client.next<{ type: string; at: number; lastByteAt: number; code: string }>(
      'dead',
      DETECTION_MS + 5000,
    )
    const measured = dead.at - dead.lastByteAt
    log(`frozen server: client watcher ${measured.toFixed(0)} ms after the last byte (${dead.code})`)
    expect(dead.code).toBe('KA_ERR_WS_PONG_TIMEOUT')
    expectOnTime('ws/faults: frozen server, client watcher dead after the last byte', measured)
    await client.next('close', 5000)
    await server.thaw()
    await Promise.all([client.kill(), server.kill()])
  })
})

describe.skipIf(missingPrerequisites('root', 'netns', 'nft'))(
  'ws: a server vanished beyond a router (namespaces)',
  () => {
    it.each(['blackhole', 'DROP'] as const)(
      '%s: the client watcher finds it within [D, D + 1 s]',
      async (fault) => {
        expectNoLeaks()
        const link = await createRoutedLink()
        const server = spawnNode(SERVER, {
          args: [link.serverAddress],
          netns: link.serverNs,
          label: 'ws server',
        })
        const { port } = await server.next<{ type: string; port: number }>('ready')
        const client = spawnNode(CLIENT, {
          args: [JSON.stringify([`ws://${link.serverAddress}:${port}`]), JSON.stringify(POLICY)],
          netns: link.clientNs,
          label: 'ws watched client',
        })
        await opened(client, 1)
        await new Promise((resolve) => setTimeout(resolve, 2500))
        const undo = fault === 'blackhole' ? await link.blackhole() : await link.dropTraffic()
        const dead = await client.next<{ type: string; at: number; lastByteAt: number; code: string }>(
          'dead',
          DETECTION_MS + 5000,
        )
        const measured = dead.at - dead.lastByteAt
        log(`${fault} beyond the router: client watcher ${measured.toFixed(0)} ms after the last byte`)
        expect(dead.code).toBe('KA_ERR_WS_PONG_TIMEOUT')
        expectOnTime(`ws/faults: routed ${fault}, client watcher dead after the last byte`, measured)
        await undo()
        await Promise.all([client.kill(), server.kill()])
        await link.destroy()
      },
    )
  },
)

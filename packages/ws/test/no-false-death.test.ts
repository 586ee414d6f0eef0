/**
 * Live peers are never killed, with the ws README's recipe beside the watcher on the same client process so the
 * difference is measured, not claimed:
 * - a client whose event loop is blocked for longer than the interval but less than detectionTime − idle: its
 *   pong is late, not missing;
 * - a client streaming a large message over a slow uplink (a relay passing 1 MB/s): its pong is queued behind the
 *   message for seconds, while bytes keep arriving;
 * - the server's own event loop stalled for longer than the detection time, with live idle clients: what arrived
 *   during the stall is read before any death is confirmed (core's monitor rule);
 * - a path that drops ping frames (some proxies and load balancers): pings go unanswered, so a ping-probed watcher
 *   kills the live client, as the recipe would; the application-message probe keeps it.
 */
import { expectNoLeaks, type NodeProcess, spawnNode } from '@keepalive/test-harness'
import { describe, expect, it } from 'vitest'
import { now, startPingDropper, startRecipeServer, startThrottle, startWatchedServer } from './helpers.js'

const CLIENT = new URL('./fixtures/ws-client.ts', import.meta.url)
const log = (line: string): void => console.info(`[ws no false death] ${line}`)

async function opened(child: NodeProcess, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await child.next('open', 10_000)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('ws: live peers are never killed', () => {
  it('a client blocked 2 s (> interval, < detectionTime − idle): 0 deaths; the recipe at the same interval kills it', async () => {
    expectNoLeaks()
    // D = 500 + 1000 × 3 = 3500 ms; a 2 s block is longer than the interval and shorter than D − idle = 3000 ms.
    const ours = await startWatchedServer({ idle: 500, interval: 1000, probes: 3 })
    // Same interval: some recipe tick pings inside the first second of the block and the next tick, a second
    // later, still finds no pong.
    const recipe = await startRecipeServer(1000)
    const client = spawnNode(CLIENT, {
      args: [JSON.stringify([ours.url, recipe.url]), 'null'],
      label: 'ws clients',
    })
    await opened(client, 2)
    await sleep(1200)
    client.send({ type: 'block', ms: 2000 })
    await client.next('blocked', 10_000)
    await sleep(2000) // answers come in, and the watchers' next rounds run
    log(
      `blocked 2 s: ours ${ours.deaths.length} deaths; recipe (setInterval 1000 ms) ${recipe.deaths.length} deaths`,
    )
    expect(ours.deaths).toEqual([])
    expect(ours.watcher.stats).toMatchObject({ connections: 1, deaths: 0 })
    expect(recipe.deaths.length).toBe(1)
    await client.kill()
  })

  it('a client streaming 4 MB at 1 MB/s with a 500 ms interval: 0 deaths, the message arrives whole; the recipe kills it', async () => {
    expectNoLeaks()
    // D = 500 + 500 × 2 = 1500 ms; the message takes ~4 s to pass, its pong queued behind it.
    const received: number[] = []
    const ours = await startWatchedServer({ idle: 500, interval: 500, probes: 2 })
    ours.wss.on('connection', (ws) => ws.on('message', (data: Buffer) => received.push(data.length)))
    const recipe = await startRecipeServer(500)
    const toOurs = await startThrottle(ours.port, 1_000_000)
    const toRecipe = await startThrottle(recipe.port, 1_000_000)
    const client = spawnNode(CLIENT, {
      args: [JSON.stringify([toOurs.url, toRecipe.url]), 'null'],
      label: 'ws streaming clients',
    })
    await opened(client, 2)
    const started = now()
    client.send({ type: 'send', i: 0, bytes: 4_000_000 })
    client.send({ type: 'send', i: 1, bytes: 4_000_000 })
    const deadline = Date.now() + 15_000
    while (received.length === 0 && Date.now() < deadline) await sleep(100)
    const took = now() - started
    log(
      `4 MB at 1 MB/s took ${took.toFixed(0)} ms: ours ${ours.deaths.length} deaths; recipe (setInterval 500 ms) ${recipe.deaths.length} deaths`,
    )
    expect(received).toEqual([4_000_000])
    expect(took).toBeGreaterThan(3000) // the message really was slow: the pong was queued for seconds
    expect(ours.deaths).toEqual([])
    expect(ours.watcher.stats).toMatchObject({ connections: 1, deaths: 0 })
    expect(recipe.deaths.length).toBe(1)
    await client.kill()
  })

  it('the server stalled 3 s (> detectionTime) with live idle clients: 0 deaths', async () => {
    expectNoLeaks()
    // D = 500 + 500 × 2 = 1500 ms, the stall twice that.
    const ours = await startWatchedServer({ idle: 500, interval: 500, probes: 2 })
    const client = spawnNode(CLIENT, {
      args: [JSON.stringify([ours.url, ours.url, ours.url]), 'null'],
      label: 'ws idle clients',
    })
    await opened(client, 3)
    await sleep(700) // mid-rhythm: the first probes are out
    const end = now() + 3000
    while (now() < end) {
      // The server's event loop is blocked: nothing is read, no timer runs.
    }
    await sleep(2000)
    log(`stalled 3 s: ${ours.deaths.length} deaths, stats ${JSON.stringify(ours.watcher.stats)}`)
    expect(ours.deaths).toEqual([])
    expect(ours.watcher.stats).toMatchObject({ connections: 3, deaths: 0 })
    await client.kill()
  })

  it('a path that drops ping frames: the ping probe kills the live client, the application-message probe keeps it', async () => {
    expectNoLeaks()
    const policy = { idle: 500, interval: 500, probes: 2 } // D = 1500 ms
    const pinged = await startWatchedServer(policy)
    const messaged = await startWatchedServer(policy, { probe: { send: (ws) => ws.send('ka-ping') } })
    const toPinged = await startPingDropper(pinged.port)
    const toMessaged = await startPingDropper(messaged.port)
    const client = spawnNode(CLIENT, {
      args: [JSON.stringify([toPinged.url, toMessaged.url]), 'null'],
      label: 'ws clients behind a ping-dropping path',
    })
    await opened(client, 2)
    await sleep(1500 + 1500) // two detection times
    log(
      `pings dropped (${toPinged.dropped()} dropped): ping probe ${pinged.deaths.length} deaths; ` +
        `message probe ${messaged.deaths.length} deaths, ${messaged.watcher.stats.probesTotal} probes answered`,
    )
    expect(toPinged.dropped()).toBeGreaterThanOrEqual(2)
    expect(pinged.deaths.length).toBe(1) // what a ping-only heartbeat does behind such a path
    expect(messaged.deaths).toEqual([])
    expect(messaged.watcher.stats).toMatchObject({ connections: 1, deaths: 0 })
    expect(messaged.watcher.stats.probesTotal).toBeGreaterThanOrEqual(3)
    await client.kill()
  })
})

/**
 * A real browser as the peer: Debian's headless Chromium (scripts/install-peers.sh installs it) opens a plain page
 * served by the watched server, whose script opens a WebSocket back to it. Measured here:
 * - a tab whose script blocks its thread for 5 s is never killed: Chromium answers pings outside the page's
 *   thread (in its network service), so the pongs keep coming;
 * - the whole browser frozen (SIGSTOP on every process of the tree: TCP stays up, the kernel ACKs) is found dead
 *   within [detectionTime, detectionTime + 1 s] of its last byte;
 * - only the tab's renderer frozen: pings are still answered by the network service, so a ping probe keeps the
 *   connection (the browser is alive; the page is not). An application-message probe, answered by the page's
 *   script, finds the frozen page within the same bound.
 * Flags from /work/.library/env/machines/node.md: without the background-networking ones, Chromium tries to reach
 * Google's hosts at every start on this machine's closed network.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import {
  expectNoLeaks,
  findBinary,
  freezeProcess,
  makeTempDir,
  missingPrerequisites,
  processTree,
  recordDeadline,
  registerCleanup,
} from '@keepalive/test-harness'
import type { WatchWebSocketOptions } from '@keepalive/ws'
import { describe, expect, it } from 'vitest'
import { startWatchedServer, type WatchedServer } from './helpers.js'

const POLICY = { idle: 1000, interval: 500, probes: 2 }
const DETECTION_MS = 2000
const log = (line: string): void => console.info(`[ws browser] ${line}`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The page: a WebSocket back to its server; "ka-ping" → "ka-pong"; "block:<ms>" blocks the page's thread. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>ws peer</title><script>
const ws = new WebSocket('ws://' + location.host + '/')
ws.onmessage = (e) => {
  if (e.data === 'ka-ping') ws.send('ka-pong')
  else if (typeof e.data === 'string' && e.data.startsWith('block:')) {
    const end = Date.now() + Number(e.data.slice(6))
    while (Date.now() < end) {}
    ws.send('unblocked')
  }
}
</script>`

const MESSAGE_PROBE: WatchWebSocketOptions = { probe: { send: (ws) => ws.send('ka-ping') } }

async function pageServer(options?: WatchWebSocketOptions): Promise<WatchedServer> {
  return startWatchedServer(POLICY, options, (server) =>
    server.on('request', (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE)
    }),
  )
}

interface Browser {
  readonly pid: number
  /** The renderer processes (--type=renderer: the page's, and any spare one Chromium keeps ready). */
  renderers(): number[]
  close(): Promise<void>
}

async function launchChromium(url: string): Promise<Browser> {
  const profile = makeTempDir('chromium')
  const child: ChildProcess = spawn(
    findBinary('chromium') ?? 'chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile.path}`,
      url,
    ],
    // TMPDIR inside the profile: a killed Chromium leaves its /tmp/org.chromium.Chromium.* there, removed with it.
    { detached: true, stdio: 'ignore', env: { ...process.env, TMPDIR: profile.path } },
  )
  const pid = child.pid
  if (pid === undefined) throw new Error('chromium did not start')
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const p of processTree(pid)) {
        try {
          process.kill(p, 'SIGCONT')
        } catch {}
      }
      try {
        process.kill(-pid, 'SIGKILL') // its own process group: every helper process with it
      } catch {}
      await exited
      // Zygote-forked processes may have left the group: wait until none is left.
      for (let i = 0; i < 100 && processTree(pid).length > 1; i++) await sleep(20)
    })()
    return closing
  }
  registerCleanup('chromium', close)
  return {
    pid,
    renderers() {
      const found = processTree(pid).filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--type=renderer')
        } catch {
          return false
        }
      })
      if (found.length === 0) throw new Error('no renderer process found')
      return found
    },
    close,
  }
}

async function firstConnection(server: WatchedServer): Promise<void> {
  for (let i = 0; i < 1500 && server.watcher.stats.connections === 0; i++) await sleep(20)
  expect(server.watcher.stats.connections).toBe(1)
}

function expectOnTime(test: string, measured: number): void {
  recordDeadline({
    test,
    measured,
    min: DETECTION_MS - 5, // never early; 5 ms for the two clock reads (see faults.test.ts)
    max: DETECTION_MS + 1000, // 10 ms tick, event loop, a busy 2-core machine running Chromium
    slack: '10 ms scheduler tick, event loop, Chromium sharing the cores',
  })
  expect(measured).toBeGreaterThanOrEqual(DETECTION_MS - 5)
  expect(measured).toBeLessThanOrEqual(DETECTION_MS + 1000)
}

describe.skipIf(missingPrerequisites('chromium'))('ws: headless Chromium as the peer', () => {
  it('a tab whose script blocks 5 s is never killed: Chromium answers pings off the page thread', async () => {
    expectNoLeaks()
    const server = await pageServer()
    const browser = await launchChromium(`http://127.0.0.1:${server.port}/`)
    await firstConnection(server)
    const [ws] = server.connections
    const unblocked = new Promise((resolve) =>
      ws?.on('message', (data) => String(data) === 'unblocked' && resolve(null)),
    )
    await sleep(1500)
    const probesBefore = server.watcher.stats.probesTotal
    ws?.send('block:5000')
    await unblocked
    await sleep(1000)
    const probes = server.watcher.stats.probesTotal - probesBefore
    log(`page blocked 5 s: ${server.deaths.length} deaths, ${probes} pings sent (and answered) meanwhile`)
    expect(probes).toBeGreaterThanOrEqual(4) // pings went out during the block…
    expect(server.deaths).toEqual([]) // …and were answered
    expect(server.watcher.stats).toMatchObject({ connections: 1, deaths: 0 })
    await browser.close()
  })

  it('the whole browser frozen (SIGSTOP): dead within [D, D + 1 s] of its last byte', async () => {
    expectNoLeaks()
    const server = await pageServer()
    const browser = await launchChromium(`http://127.0.0.1:${server.port}/`)
    await firstConnection(server)
    await sleep(2500)
    const dead = server.nextDeath(DETECTION_MS + 5000)
    await freezeProcess(browser.pid, { tree: true })
    const death = await dead
    const measured = death.at - death.lastByteAt
    log(`browser frozen: dead ${measured.toFixed(0)} ms after the last byte (${death.event?.reason.code})`)
    expect(death.event?.reason.code).toBe('KA_ERR_WS_PONG_TIMEOUT')
    expectOnTime('ws/browser: chromium frozen, server watcher dead after the last byte', measured)
    await browser.close()
  })

  it('only the renderer frozen: pings still answered (no death); the application-message probe finds it', async () => {
    expectNoLeaks()
    const pinged = await pageServer()
    const messaged = await pageServer(MESSAGE_PROBE)
    const a = await launchChromium(`http://127.0.0.1:${pinged.port}/`)
    const b = await launchChromium(`http://127.0.0.1:${messaged.port}/`)
    await Promise.all([firstConnection(pinged), firstConnection(messaged)])
    await sleep(2500)
    const rtt = messaged.watcher.watcherOf(messaged.connections[0] as object)?.lastRttMs
    expect(rtt).toBeGreaterThan(0) // the page's "ka-pong" answered a probe
    const dead = messaged.nextDeath(DETECTION_MS + 5000)
    const renderers = [...a.renderers(), ...b.renderers()]
    for (const p of renderers) await freezeProcess(p)
    const death = await dead
    const measured = death.at - death.lastByteAt
    await sleep(DETECTION_MS + 500) // as long again for the ping-probed one
    log(
      `renderer frozen: message probe dead ${measured.toFixed(0)} ms after the last byte; ` +
        `ping probe ${pinged.deaths.length} deaths in ${DETECTION_MS * 2} ms (the network service answers pings)`,
    )
    expectOnTime('ws/browser: renderer frozen, message-probe watcher dead after the last byte', measured)
    expect(pinged.deaths).toEqual([])
    await Promise.all([a.close(), b.close()])
  })
})

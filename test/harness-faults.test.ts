import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import {
  connectClient,
  expectNoLeaks,
  harnessFixture,
  missingPrerequisites,
  recordDeadline,
  spawnNode,
  startDelayProxy,
  startEchoServer,
  startIdleClosingServer,
  startIdleDropProxy,
  tcpSocketInfo,
} from './harness/index.js'

/** Resolves with the first of `events` to happen on `client.events` (polled), or undefined after `timeoutMs`. */
async function waitForEvent(
  client: Awaited<ReturnType<typeof connectClient>>,
  timeoutMs: number,
): Promise<'end' | 'close' | 'error' | undefined> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (client.events.error) return 'error'
    if (client.events.end) return 'end'
    if (client.events.close) return 'close'
    await sleep(5)
  }
  return undefined
}

describe.skipIf(missingPrerequisites('ss'))('freeze: SIGSTOP on the peer process', () => {
  it('keeps TCP up (the kernel ACKs) while the application does not answer; answers again after thaw', async () => {
    expectNoLeaks()
    const server = spawnNode(harnessFixture('echo-server.ts'))
    const { port } = await server.next<{ type: 'ready'; port: number }>('ready')
    const client = await connectClient({ host: '127.0.0.1', port })
    await client.echo('ping-1')

    const thaw = await server.freeze()
    const sentAt = performance.now()
    const unanswered = client.echo('ping-2', 1000)
    await expect(unanswered).rejects.toThrow(/no echo/)
    // The kernel of the frozen process took the bytes: ESTABLISHED, nothing left unacknowledged, no error here.
    const [info] = await tcpSocketInfo(client.socket.localPort as number)
    expect(info?.state).toBe('ESTAB')
    expect(info?.info.unacked).toBeUndefined()
    expect(Number(info?.info.bytes_acked)).toBeGreaterThanOrEqual('ping-1ping-2'.length)
    expect(client.events).toEqual({})
    console.info(
      `[harness] freeze: no answer for ${(performance.now() - sentAt).toFixed(0)} ms, socket ${info?.state}, ` +
        `bytes_acked ${info?.info.bytes_acked}`,
    )

    // The echo of ping-2 was only waiting in the kernel: it comes as soon as the process runs again.
    let late = ''
    client.socket.on('data', (chunk: string) => {
      late += chunk
    })
    const thawedAt = performance.now()
    await thaw()
    while (!late.includes('ping-2') && performance.now() - thawedAt < 2000) await sleep(5)
    expect(late).toContain('ping-2')
    // Loopback RTT is ~0.1 ms: the 500 ms are scheduling (a just-thawed process on a shared 2-core machine).
    const rtt = await client.echo('ping-3')
    recordDeadline({
      test: 'harness-faults: freeze, echo round trip after thaw',
      measured: rtt,
      max: 500,
      slack: 'scheduling of a just-thawed process (strict <)',
    })
    expect(rtt).toBeLessThan(500)
  })
})

describe('crash: the peer dies', () => {
  it('a killed peer process: the client sees the close at once', async () => {
    expectNoLeaks()
    const server = spawnNode(harnessFixture('echo-server.ts'))
    const { port } = await server.next<{ type: 'ready'; port: number }>('ready')
    const client = await connectClient({ host: '127.0.0.1', port })
    await client.echo('ping')
    const killedAt = performance.now()
    await server.kill()
    expect(await waitForEvent(client, 1000)).toBeDefined()
    // Whichever the client saw first: an error, the FIN ('end'), or the close itself. waitForEvent resolved, so one is set.
    const noticedAt = client.events.error?.at ?? client.events.end ?? client.events.close
    expect(noticedAt).toBeDefined()
    const noticedMs = (noticedAt ?? Number.NaN) - killedAt
    // With nothing unread, the dying process's kernel sends a FIN: 'end', then 'close'.
    while (!client.events.close && performance.now() - killedAt < 1000) await sleep(5)
    console.info(
      `[harness] crash (SIGKILL): client saw ${client.events.error ? client.events.error.code : 'end'} after ` +
        `${noticedMs.toFixed(1)} ms`,
    )
    // The FIN is immediate (~5 ms measured): the 500 ms are scheduling (the kernel reaping the process, then this
    // event loop reading the FIN, on a shared 2-core machine).
    recordDeadline({
      test: 'harness-faults: crash (SIGKILL), client notices',
      measured: noticedMs,
      max: 500,
      slack: 'process reaping, event loop (scheduling) (strict <)',
    })
    expect(noticedMs).toBeLessThan(500)
    expect(client.events.close).toBeDefined()
  })

  it('an in-process peer crash(): every connection gets an RST (ECONNRESET)', async () => {
    expectNoLeaks()
    const server = await startEchoServer()
    const client = await connectClient({ host: server.host, port: server.port })
    await client.echo('ping')
    const crashedAt = performance.now()
    await server.crash()
    expect(await waitForEvent(client, 1000)).toBe('error')
    expect(client.events.error?.code).toBe('ECONNRESET')
    const noticedMs = (client.events.error?.at ?? 0) - crashedAt
    console.info(`[harness] crash (reset): ECONNRESET after ${noticedMs.toFixed(1)} ms`)
    // The RST is sent synchronously in this process (~2–4 ms measured): the 200 ms are scheduling.
    recordDeadline({
      test: 'harness-faults: crash (reset), client notices',
      measured: noticedMs,
      max: 200,
      slack: 'scheduling (strict <)',
    })
    expect(noticedMs).toBeLessThan(200)
  })
})

describe.skipIf(missingPrerequisites('ss'))('idle-closing server: closes at exactly its idle timeout', () => {
  const IDLE_MS = 400

  it(`closes ${IDLE_MS} ms after the last byte received, and a write just before keeps it open`, async () => {
    expectNoLeaks()
    const server = await startIdleClosingServer({ idleTimeoutMs: IDLE_MS })
    const client = await connectClient({ host: server.host, port: server.port })
    await client.echo('a')
    // Reused just in time: the timer restarts from this byte.
    await sleep(IDLE_MS - 150)
    await client.echo('b')
    const close = await server.nextClose(IDLE_MS + 1000)
    recordDeadline({
      test: 'harness-faults: idle-closing server closes after the last byte',
      measured: close.idleMs,
      min: IDLE_MS - 1,
      max: IDLE_MS + 25,
      slack: 'whole-ms timers (tick), callback late (scheduling)',
    })
    const clientSawEnd = (await waitForEvent(client, 200)) === 'end'
    console.info(`[harness] idle-closing server: closed ${close.idleMs.toFixed(1)} ms after the last byte`)
    // −1 ms: Node timers count whole milliseconds (tick); +25 ms: the timer's callback running late (scheduling).
    expect(close.idleMs).toBeGreaterThanOrEqual(IDLE_MS - 1)
    expect(close.idleMs).toBeLessThanOrEqual(IDLE_MS + 25)
    expect(clientSawEnd).toBe(true)
    expect(server.closes).toHaveLength(1)
  })

  it('a client that reuses the connection at that moment writes into a closed socket and gets a reset', async () => {
    expectNoLeaks()
    const server = await startIdleClosingServer({ idleTimeoutMs: IDLE_MS, mode: 'http' })
    // allowHalfOpen: like an HTTP client that has not yet processed the FIN, the socket still looks writable.
    const client = await connectClient({ host: server.host, port: server.port, allowHalfOpen: true })
    const request = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
    let response = ''
    client.socket.on('data', (chunk: string) => {
      response += chunk
    })
    client.socket.write(request)
    while (!response.endsWith('ok')) await sleep(2)
    const lastResponseAt = performance.now()
    response = ''
    await server.nextClose(IDLE_MS + 1000)
    // Reuse right after the server's close, before this client looked at its socket.
    expect(client.socket.writable).toBe(true)
    const write = (): Promise<NodeJS.ErrnoException | null | undefined> =>
      new Promise((resolve) => client.socket.write(request, resolve))
    const reusedAfterMs = performance.now() - lastResponseAt
    // The request leaves without an error — the dangerous part: the server's kernel answers it with an RST.
    const firstWrite = await write()
    await sleep(50)
    const [info] = await tcpSocketInfo(client.socket.localPort as number)
    // The next write finds the reset connection.
    const secondWrite = await write()
    const code = secondWrite?.code ?? client.events.error?.code
    console.info(
      `[harness] idle-closing race: reused ${reusedAfterMs.toFixed(0)} ms after the last response: write ` +
        `${firstWrite ? firstWrite.code : 'accepted'}, no response, kernel state ${info?.state ?? 'gone'}, ` +
        `next write ${code}`,
    )
    expect(firstWrite).toBeFalsy()
    expect(response).toBe('')
    expect(info === undefined || info.state === 'CLOSE').toBe(true)
    expect(['ECONNRESET', 'EPIPE']).toContain(code)
  })
})

describe.skipIf(missingPrerequisites('ss'))(
  'idle-drop proxy: a middlebox that silently forgets idle connections',
  () => {
    const DROP_MS = 500

    it(`forwards while active, then after ${DROP_MS} ms of silence delivers nothing and closes nothing`, async () => {
      expectNoLeaks()
      const target = await startEchoServer()
      const proxy = await startIdleDropProxy({ target, idleDropMs: DROP_MS })
      const client = await connectClient({ host: proxy.host, port: proxy.port })
      // Active: traffic every 300 ms keeps the entry alive past DROP_MS in total.
      await client.echo('one')
      await sleep(300)
      await client.echo('two')
      await sleep(300)
      await client.echo('three')
      const lastActivity = performance.now()
      const drop = await proxy.nextDrop(DROP_MS + 1000)
      const slack = 'whole-ms timers (tick), callback late (scheduling)'
      recordDeadline({
        test: 'harness-faults: idle-drop proxy drops after silence',
        measured: drop.idleMs ?? Number.NaN,
        min: DROP_MS - 1,
        max: DROP_MS + 25,
        slack,
      })
      recordDeadline({
        test: 'harness-faults: idle-drop proxy drop since the last activity',
        measured: (drop.droppedAt ?? 0) - lastActivity,
        max: DROP_MS + 25,
        slack,
      })
      console.info(`[harness] idle-drop proxy: dropped after ${drop.idleMs?.toFixed(1)} ms of silence`)
      // −1 ms: Node timers count whole milliseconds (tick); +25 ms: the timer's callback running late (scheduling).
      expect(drop.idleMs).toBeGreaterThanOrEqual(DROP_MS - 1)
      expect(drop.idleMs).toBeLessThanOrEqual(DROP_MS + 25)
      expect((drop.droppedAt ?? 0) - lastActivity).toBeLessThanOrEqual(DROP_MS + 25)

      await expect(client.echo('four', 800)).rejects.toThrow(/no echo/)
      // No FIN, no RST reached the client: its socket is open and the kernel still shows it established.
      expect(client.events).toEqual({})
      const [info] = await tcpSocketInfo(client.socket.localPort as number)
      expect(info?.state).toBe('ESTAB')
      expect(drop.bytesDroppedFromClient).toBe('four'.length)
      expect(target.connectionCount()).toBe(1)
    })
  },
)

describe('delay proxy: one-way latency in userspace', () => {
  const ONE_WAY_MS = 100
  const SAMPLES = 5

  async function medianRoundTrip(host: string, port: number): Promise<number> {
    const client = await connectClient({ host, port })
    await client.echo('warm-up')
    const samples: number[] = []
    for (let i = 0; i < SAMPLES; i++) samples.push(await client.echo(`sample-${i}`))
    client.socket.destroy()
    samples.sort((a, b) => a - b)
    return samples[Math.floor(SAMPLES / 2)] as number
  }

  it(`adds 2 × ${ONE_WAY_MS} ms to a round trip, within 10%`, async () => {
    expectNoLeaks()
    const target = await startEchoServer()
    const proxy = await startDelayProxy({ target, oneWayDelayMs: ONE_WAY_MS })
    const base = await medianRoundTrip(target.host, target.port)
    const delayed = await medianRoundTrip(proxy.host, proxy.port)
    const added = delayed - base
    console.info(
      `[harness] delay proxy: base RTT ${base.toFixed(2)} ms, through the proxy ${delayed.toFixed(2)} ms, ` +
        `added ${added.toFixed(1)} ms (expected ${2 * ONE_WAY_MS} ± 10%)`,
    )
    // ±10%: each direction's setTimeout may fire late (scheduling) and counts whole milliseconds (tick); the
    // median of the samples keeps one slow round trip out.
    recordDeadline({
      test: 'harness-faults: delay proxy added round trip',
      measured: added,
      min: 2 * ONE_WAY_MS * 0.9,
      max: 2 * ONE_WAY_MS * 1.1,
      slack: 'setTimeout late (scheduling) and whole ms (tick), median of 5',
    })
    expect(added).toBeGreaterThanOrEqual(2 * ONE_WAY_MS * 0.9)
    expect(added).toBeLessThanOrEqual(2 * ONE_WAY_MS * 1.1)
  })

  it('keeps the order of chunks and delivers a close after the data', async () => {
    expectNoLeaks()
    const target = await startEchoServer()
    const proxy = await startDelayProxy({ target, oneWayDelayMs: 20 })
    const client = await connectClient({ host: proxy.host, port: proxy.port })
    let received = ''
    client.socket.on('data', (chunk: string) => {
      received += chunk
    })
    const expected = Array.from({ length: 50 }, (_, i) => `<${i}>`).join('')
    for (let i = 0; i < 50; i++) {
      client.socket.write(`<${i}>`)
      if (i % 10 === 0) await sleep(1)
    }
    while (received.length < expected.length) await sleep(5)
    expect(received).toBe(expected)
  })
})

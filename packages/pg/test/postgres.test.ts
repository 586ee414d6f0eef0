/**
 * Against a real Postgres (Debian's, on loopback): the kernel holds the policy on pg's own sockets; the SELECT 1
 * probe never touches a busy client and never kills a long query; a frozen server (SIGSTOP: the kernel still answers
 * TCP keepalive, only the application is gone) is found by the probe and its idle client leaves the pool.
 */
import { detectionTime, isKeepaliveError, tcpSettings } from '@keepalive/core'
import { readTcpKeepalive } from '@keepalive/tcp'
import { expectNoLeaks, missingPrerequisites, recordDeadline, startPostgres } from '@keepalive/test-harness'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { type PgDeadEvent, pgOptions, watchPgPool } from '../src/index.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** pg's socket: `connection.stream` is private to pg, read here only to check what the kernel holds on it. */
const socketOf = (client: unknown) =>
  (client as { connection: { stream: import('node:net').Socket } }).connection.stream

describe.skipIf(missingPrerequisites('postgres'))('pgOptions against Debian postgres', () => {
  it("puts the policy's full keepalive on every socket pg opens (read back from the kernel); pg's keepAlive: true does not", async () => {
    expectNoLeaks()
    const server = await startPostgres()
    const policy = { idle: '7s', interval: '3s', probes: 4 }
    const t = tcpSettings(policy)
    const pool = new pg.Pool(pgOptions(policy, { connectionString: server.url, max: 3 }))
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()])
    const single = new pg.Client(pgOptions(policy, { connectionString: server.url, keepAlive: true }))
    await single.connect()
    const plain = new pg.Client({ connectionString: server.url, keepAlive: true })
    await plain.connect()
    const expected = {
      enabled: true,
      idle: t.idleSeconds * 1000,
      interval: t.intervalSeconds * 1000,
      probes: t.probes,
      userTimeout: t.userTimeoutMs,
    }
    for (const client of [...clients, single]) {
      expect(readTcpKeepalive(socketOf(client))).toEqual(expected)
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    }
    const theirs = readTcpKeepalive(socketOf(plain))
    console.log(`pgOptions: ${JSON.stringify(expected)}; pg keepAlive: true: ${JSON.stringify(theirs)}`)
    expect(theirs?.enabled).toBe(true)
    expect(theirs?.userTimeout).toBe(0)
    expect(theirs?.idle).not.toBe(expected.idle)
    for (const client of clients) client.release()
    await Promise.all([pool.end(), single.end(), plain.end()])
    await server.stop()
  })

  it('the probe runs on idle clients only: a pg_sleep of 3 × detection time on a busy client is not killed', async () => {
    expectNoLeaks()
    const server = await startPostgres()
    const policy = { idle: '1s', interval: '500ms', probes: 2 }
    const d = detectionTime(policy as never)
    const pool = new pg.Pool(pgOptions(policy, { connectionString: server.url, max: 2 }))
    const poolErrors: Error[] = []
    pool.on('error', (error) => poolErrors.push(error))
    const watcher = watchPgPool(pool, policy)
    const [busy, idle] = await Promise.all([pool.connect(), pool.connect()])
    idle.release()
    const probed: unknown[] = []
    const dead: PgDeadEvent[] = []
    let alive = 0
    watcher.on('probe', ({ client }) => probed.push(client))
    watcher.on('alive', () => alive++)
    watcher.on('dead', (event) => dead.push(event))
    const started = performance.now()
    const result = await busy.query(`SELECT pg_sleep(${(3 * d) / 1000}) AS slept`)
    const took = performance.now() - started
    console.log(
      `pg_sleep ${3 * d} ms took ${took.toFixed(0)} ms; the idle client was probed ${probed.length} times meanwhile`,
    )
    expect(result.rows).toEqual([{ slept: '' }])
    expect(took).toBeGreaterThanOrEqual(3 * d)
    // The idle client was probed (about once per idle second) and answered; the busy one never was.
    expect(probed.length).toBeGreaterThanOrEqual(3)
    expect(alive).toBeGreaterThanOrEqual(3)
    expect(probed.every((client) => client === idle)).toBe(true)
    expect(dead).toEqual([])
    expect(poolErrors).toEqual([])
    busy.release()
    watcher.stop()
    await pool.end()
    await server.stop()
  })

  it('a frozen server: the idle client fails its probes within [detection, detection + 1 s] and leaves the pool; the next query gets a fresh connection', async () => {
    expectNoLeaks()
    const server = await startPostgres()
    const policy = { idle: '1s', interval: '500ms', probes: 2 }
    const d = detectionTime(policy as never)
    const pool = new pg.Pool(pgOptions(policy, { connectionString: server.url, max: 1 }))
    const poolErrors: Error[] = []
    pool.on('error', (error) => poolErrors.push(error))
    const watcher = watchPgPool(pool, policy)
    await pool.query('SELECT 1')
    await sleep(1500) // one probe answered: the monitor runs
    expect(watcher.probesSent).toBeGreaterThanOrEqual(1)
    const thaw = await server.freeze()
    const frozenAt = performance.now()
    const dead = await new Promise<PgDeadEvent>((resolve) => watcher.on('dead', resolve))
    const foundAfter = performance.now() - frozenAt
    console.log(
      `frozen postgres: probe death after ${dead.silenceMs.toFixed(0)} ms of silence (${foundAfter.toFixed(0)} ms after the freeze), ${dead.probesSent} probes`,
    )
    recordDeadline({
      test: 'pg/postgres: frozen server, idle client dead after its last answer',
      measured: dead.silenceMs,
      min: d,
      max: d + 1000,
      slack: "core monitor's 10 ms tick plus scheduling (issue bound + 1 s)",
    })
    expect(dead.silenceMs).toBeGreaterThanOrEqual(d)
    expect(dead.silenceMs).toBeLessThanOrEqual(d + 1000)
    expect(foundAfter).toBeLessThanOrEqual(d + 1000)
    expect(isKeepaliveError(dead.reason, 'KA_ERR_PG_PROBE_TIMEOUT')).toBe(true)
    // pg-pool removed it at once and said so on the pool.
    expect(pool.idleCount).toBe(0)
    expect(pool.totalCount).toBe(0)
    expect(poolErrors).toHaveLength(1)
    expect(isKeepaliveError(poolErrors[0], 'KA_ERR_PG_PROBE_TIMEOUT')).toBe(true)
    await thaw()
    expect((await pool.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }])
    watcher.stop()
    await pool.end()
    await server.stop()
  })

  it('a probe query that errors is reported (probeError) but the server answered: no false death', async () => {
    expectNoLeaks()
    const server = await startPostgres()
    const policy = { idle: '500ms', interval: '500ms', probes: 1 }
    const d = detectionTime(policy as never)
    const pool = new pg.Pool(pgOptions(policy, { connectionString: server.url, max: 1 }))
    const poolErrors: Error[] = []
    pool.on('error', (error) => poolErrors.push(error))
    const watcher = watchPgPool(pool, policy, { query: 'SELECT no_such_column' })
    const probeErrors: Error[] = []
    let dead = 0
    watcher.on('probeError', ({ error }) => probeErrors.push(error))
    watcher.on('dead', () => dead++)
    await pool.query('SELECT 1')
    await sleep(3 * d)
    expect(probeErrors.length).toBeGreaterThanOrEqual(2)
    expect(isKeepaliveError(probeErrors[0], 'KA_ERR_PROBE_FAILED')).toBe(true)
    expect(String((probeErrors[0] as Error & { cause?: Error }).cause?.message)).toMatch(/no_such_column/)
    expect(dead).toBe(0)
    expect(poolErrors).toEqual([])
    expect(pool.idleCount).toBe(1)
    watcher.stop()
    await pool.end()
    await server.stop()
  })
})

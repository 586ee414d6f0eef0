/**
 * @keepalive/pg: every connection of a pg.Pool gets the policy's full TCP keepalive (read back from the kernel), and
 * watchPgPool's SELECT 1 finds a server that stopped answering while its client sat idle in the pool.
 *
 * A real PostgreSQL (Debian's, started in a temp dir: examples/lib/postgres.ts) behind a small in-process relay;
 * the server "freezes" when the relay stops passing bytes (the connection stays open, nothing answers: a hung
 * server or a proxy whose backend is gone). The probe finds it; pg-pool drops the client (KA_ERR_PG_PROBE_TIMEOUT
 * on the pool's 'error'), and the next query gets a fresh connection.
 *
 * Run: bash scripts/run-ts.sh examples/pg.ts
 */
import { definePolicy, detectionTime } from '@keepalive/core'
import { type PgDeadEvent, pgChannels, pgOptions, watchPgPool } from '@keepalive/pg'
import pg from 'pg'
import { startPostgres } from './lib/postgres.js'
import { startRelay } from './lib/relay.js'

setTimeout(() => {
  console.error('example timed out')
  process.exit(1)
}, 20_000).unref()

const policy = definePolicy({ idle: '1s', interval: '500ms', probes: 2 })
const promised = detectionTime(policy)
console.log(`policy: idle 1s, interval 500ms, probes 2 → a silent server is dead after ${promised} ms`)

const server = await startPostgres()
const relay = await startRelay(server.port)
const reports: unknown[] = []
// Each connection's report, read back from the kernel at connect.
const onSocket = ({ report }: { report: Record<string, unknown> | null }) =>
  reports.push(
    report && {
      idle: report.idle,
      interval: report.interval,
      probes: report.probes,
      userTimeout: report.userTimeout,
    },
  )
pgChannels.socket.subscribe(onSocket as (message: unknown) => void)

// The one-line change: pgOptions(policy, yourOptions) instead of yourOptions.
const pool = new pg.Pool(
  pgOptions(policy, { connectionString: `postgres://postgres@127.0.0.1:${relay.port}/postgres`, max: 1 }),
)
pool.on('error', (error) =>
  console.log(`pool 'error': ${(error as { code?: string }).code}: ${error.message}`),
)
const watcher = watchPgPool(pool, policy)
const { rows } = await pool.query('SELECT version()')
console.log(`connected: ${String(rows[0].version).split(',')[0]}`)
console.log(`the kernel holds on pg's socket: ${JSON.stringify(reports[0])}`)
watcher.on('probe', ({ attempt }) => console.log(`SELECT 1 on the idle client (attempt ${attempt})`))
watcher.on('alive', ({ rttMs }) => console.log(`answered after ${rttMs?.toFixed(1)} ms`))
const dead = new Promise<PgDeadEvent>((resolve) => watcher.on('dead', resolve))

await new Promise((resolve) => setTimeout(resolve, 1_700)) // one answered probe
console.log('freezing the server')
relay.freeze()
const { reason, silenceMs } = await dead
console.log(
  `dead: ${reason.code} after ${silenceMs.toFixed(0)} ms of silence; idle clients left in the pool: ${pool.idleCount}`,
)

watcher.stop()
relay.close()
pgChannels.socket.unsubscribe(onSocket as (message: unknown) => void)
await pool.end()
await server.stop()

// Never earlier than promised (a false alarm); 1 s of slack above it for scheduling on a loaded machine (the tight
// bound is held by the package's tests).
if (silenceMs < promised || silenceMs > promised + 1000 || pool.totalCount !== 0) {
  console.error(`expected death within [${promised}, ${promised + 1000}] ms and an empty pool`)
  process.exit(1)
}
console.log(
  `ok: pg: keepalive on pg's socket read back; a frozen server found by SELECT 1 after ${silenceMs.toFixed(0)} ms (policy ${promised} ms)`,
)

/**
 * @keepalive/redis: every ioredis connection gets the policy's full TCP keepalive (read back from the kernel), and
 * watchIoredis's PING finds a server that stopped answering while the connection sat idle, without ever probing a
 * connection that is busy with a BLPOP.
 *
 * A real redis-server (Debian's, `apt-get install redis-server`) on a free loopback port, behind a small in-process
 * relay; the server "freezes" when the relay stops passing bytes.
 *
 * Run: bash scripts/run-ts.sh examples/redis.ts
 */
import { spawn } from 'node:child_process'
import net from 'node:net'
import { definePolicy, detectionTime } from '@keepalive/core'
import { ioredisOptions, redisChannels, watchIoredis } from '@keepalive/redis'
import { Redis } from 'ioredis'
import { listen, startRelay } from './lib/relay.js'

setTimeout(() => {
  console.error('example timed out')
  process.exit(1)
}, 20_000).unref()

const policy = definePolicy({ idle: '1s', interval: '500ms', probes: 2 })
const promised = detectionTime(policy)
console.log(`policy: idle 1s, interval 500ms, probes 2 → a silent server is dead after ${promised} ms`)

// redis-server cannot listen on port 0: take a free port from the kernel, then hand it over.
const probe = net.createServer()
const port = await listen(probe)
await new Promise((resolve) => probe.close(resolve))
const server = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
)
await new Promise<void>((resolve, reject) => {
  let log = ''
  server.stdout?.on('data', (chunk) => {
    log += chunk
    if (/Ready to accept connections/.test(log)) resolve()
  })
  server.once('exit', () => reject(new Error(`redis-server exited:\n${log}`)))
})
const relay = await startRelay(port)

const reports: unknown[] = []
const onSocket = ({ report }: { report: Record<string, unknown> | null }) =>
  reports.push(
    report && {
      idle: report.idle,
      interval: report.interval,
      probes: report.probes,
      userTimeout: report.userTimeout,
    },
  )
redisChannels.socket.subscribe(onSocket as (message: unknown) => void)

// The one-line change: ioredisOptions(policy, yourOptions) instead of yourOptions.
const redis = new Redis(
  ioredisOptions(policy, { host: '127.0.0.1', port: relay.port, retryStrategy: () => null }),
)
redis.on('error', (error) =>
  console.log(`redis 'error': ${(error as { code?: string }).code}: ${error.message}`),
)
console.log(`PING → ${await redis.ping()}`)
console.log(`the kernel holds on ioredis's socket: ${JSON.stringify(reports[0])}`)
const watcher = watchIoredis(redis, policy)
const dead = new Promise<{ silenceMs: number; reason: { code: string } }>((resolve) =>
  watcher.on('dead', resolve),
)
const blocked = await redis.blpop('nothing-here', 3) // 3 s: longer than the detection time, and not killed
console.log(`BLPOP for 3 s returned ${blocked}; PINGs skipped as busy meanwhile: ${watcher.skippedBusy}`)
console.log('freezing the server')
relay.freeze()
const { reason, silenceMs } = await dead
console.log(`dead: ${reason.code} after ${silenceMs.toFixed(0)} ms of silence`)

watcher.stop()
redis.disconnect()
relay.close()
redisChannels.socket.unsubscribe(onSocket as (message: unknown) => void)
server.kill('SIGTERM')
await new Promise((resolve) => server.once('exit', resolve))

if (silenceMs < promised || silenceMs > promised + 1000 || watcher.skippedBusy < 1) {
  console.error(`expected death within [${promised}, ${promised + 1000}] ms and the BLPOP left alone`)
  process.exit(1)
}
console.log(
  `ok: redis: keepalive on ioredis's socket read back; BLPOP not probed; a frozen server found by PING after ${silenceMs.toFixed(0)} ms (policy ${promised} ms)`,
)

// One process holding N (10,000) idle MQTT connections to one mosquitto (a separate process): mqtt.js's own
// keepalive alone versus mqtt.js + our watchers, at the same detection time (6 s), one after the other in one run.
//
//   bash bench/mqtt-idle.bench.sh      (builds, raises `ulimit -n`, then runs this with --expose-gc)
//
// - mqtt.js alone: keepalive 4 → it ticks every 2 s, sends PINGREQ at 4 s and gives up at 6 s: detection 6 s.
// - ours: mqttOptions({ idle: 5s, interval: 1s, probes: 1 }) + watchMqtt → Keep Alive 5, PINGREQ after 5 s of
//   silence, 1 s for the PINGRESP: detection 6 s. (mqtt.js's PINGRESP wait is fixed at K/2; ours is the policy's.)
// After connecting all N and one Keep Alive of settling, for WINDOW seconds of idle: active Node timers
// (process.getActiveResourcesInfo), heap per connection after gc (minus the heap before connecting), this
// process's CPU (process.cpuUsage) and mosquitto's (/proc/<pid>/stat), PINGREQs sent (counted on 'packetsend'
// in both modes), each scaled to one idle hour. Results: bench/results/mqtt-idle.json.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import { join } from 'node:path'

const mqtt = (await import('mqtt')).default
const { mqttOptions, watchMqtt } = await import(
  new URL('../packages/mqtt/dist/index.js', import.meta.url).href
)
const { schedulerInfo } = await import(new URL('../packages/core/dist/index.js', import.meta.url).href)

const { BENCH_N = '10000', BENCH_WINDOW_S = '30' } = process.env
const N = Number(BENCH_N)
const WINDOW_S = Number(BENCH_WINDOW_S)
const OURS_POLICY = { idle: '5s', interval: '1s', probes: 1 }
const MQTTJS_KEEPALIVE = 4
const RESULTS = new URL('./results/mqtt-idle.json', import.meta.url)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function freePort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function startMosquitto() {
  const dir = mkdtempSync(join(os.tmpdir(), 'ka-bench-mosquitto-'))
  const port = await freePort()
  writeFileSync(
    join(dir, 'm.conf'),
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_connections -1'].join('\n'),
  )
  const child = spawn('mosquitto', ['-c', join(dir, 'm.conf')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr.on('data', (d) => {
    log += d
  })
  for (let i = 0; i < 100 && !/running/.test(log); i++) await sleep(50)
  if (!/running/.test(log)) throw new Error(`mosquitto did not start: ${log}`)
  const version = /mosquitto version (\S+)/.exec(log)?.[1]
  return {
    url: `mqtt://127.0.0.1:${port}`,
    version,
    cpuMs() {
      // utime + stime, in clock ticks (USER_HZ = 100 on Linux).
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ')
      return (Number(fields[11]) + Number(fields[12])) * 10
    },
    stop() {
      child.kill('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

function heap() {
  globalThis.gc()
  globalThis.gc()
  return process.memoryUsage().heapUsed
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length

async function run(mode, broker) {
  const heapBefore = heap()
  const timersBefore = timers()
  const clients = []
  const watchers = []
  const counts = { pingreq: 0, errors: 0, deaths: 0, closes: 0 }
  const connectOne = (i) =>
    new Promise((resolve, reject) => {
      const base = { clientId: `${mode}-${i}`, reconnectPeriod: 0, connectTimeout: 60_000 }
      const options =
        mode === 'ours' ? mqttOptions(OURS_POLICY, base) : { ...base, keepalive: MQTTJS_KEEPALIVE }
      const client = mqtt.connect(broker.url, options)
      client.on('packetsend', (p) => {
        if (p.cmd === 'pingreq') counts.pingreq++
      })
      client.on('error', () => counts.errors++)
      client.on('close', () => counts.closes++)
      if (mode === 'ours') {
        const watcher = watchMqtt(client)
        watcher.on('dead', () => counts.deaths++)
        watchers.push(watcher)
      }
      clients.push(client)
      client.once('connect', resolve)
      client.once('error', reject)
    })
  const t0 = performance.now()
  for (let i = 0; i < N; i += 250) {
    await Promise.all(Array.from({ length: Math.min(250, N - i) }, (_, j) => connectOne(i + j)))
  }
  const connectS = (performance.now() - t0) / 1000
  // One Keep Alive of settling: every clock in its idle rhythm.
  await sleep(6000)
  const heapConnected = heap()
  const timersIdle = timers() - timersBefore
  const pings0 = counts.pingreq
  const cpu0 = process.cpuUsage()
  const broker0 = broker.cpuMs()
  const w0 = performance.now()
  await sleep(WINDOW_S * 1000)
  const windowS = (performance.now() - w0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const brokerCpuMs = broker.cpuMs() - broker0
  const pings = counts.pingreq - pings0
  const perHour = 3600 / windowS
  const result = {
    mode,
    connections: N,
    connectS: Number(connectS.toFixed(1)),
    // Ref'd Node timers (getActiveResourcesInfo lists only those), plus the monitors' one shared scheduler timer,
    // which is unref'd and so not listed.
    timers: timersIdle,
    sharedSchedulerTimer: schedulerInfo().timerArmed ? 1 : 0,
    monitors: schedulerInfo().monitors,
    heapPerConnection: Math.round((heapConnected - heapBefore) / N),
    cpuMsPerIdleHour: Math.round(((cpu.user + cpu.system) / 1000) * perHour),
    brokerCpuMsPerIdleHour: Math.round(brokerCpuMs * perHour),
    pingreqsPerConnectionPerIdleHour: Math.round((pings / N) * perHour),
    errors: counts.errors,
    deaths: counts.deaths,
    closes: counts.closes,
  }
  for (const watcher of watchers) watcher.stop()
  await Promise.all(clients.map((c) => new Promise((resolve) => c.end(true, resolve))))
  await sleep(500)
  return result
}

const broker = await startMosquitto()
try {
  const results = []
  for (const mode of ['mqttjs', 'ours']) {
    const r = await run(mode, broker)
    console.log(JSON.stringify(r))
    results.push(r)
  }
  const record = {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    mqtt: mqtt.MqttClient.VERSION,
    mosquitto: broker.version,
    windowS: WINDOW_S,
    detectionTimeS: 6,
    results,
  }
  writeFileSync(RESULTS, `${JSON.stringify(record, null, 2)}\n`)
  console.log(
    '\n| what | Node timers | heap / connection | CPU ms / idle hour | mosquitto CPU ms / idle hour | PINGREQ / connection / idle hour | errors, deaths |',
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const r of results) {
    const name =
      r.mode === 'ours'
        ? '**mqtt.js + watchMqtt** (5 s / 1 s / 1 → Keep Alive 5)'
        : `mqtt.js alone (keepalive ${MQTTJS_KEEPALIVE})`
    console.log(
      `| ${name} | ${r.timers + r.sharedSchedulerTimer}${r.sharedSchedulerTimer ? " (shared, unref'd)" : ''} | ${r.heapPerConnection} B | ${r.cpuMsPerIdleHour} | ${r.brokerCpuMsPerIdleHour} | ${r.pingreqsPerConnectionPerIdleHour} | ${r.errors}, ${r.deaths} |`,
    )
  }
} finally {
  broker.stop()
}

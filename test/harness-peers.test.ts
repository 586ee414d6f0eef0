import { request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import mqtt from 'mqtt'
import ssh2 from 'ssh2'
import { describe, expect, it } from 'vitest'
import {
  expectNoLeaks,
  generateEd25519KeyPair,
  missingPrerequisites,
  processState,
  recordDeadline,
  startAedes,
  startHttpServer,
  startMosquitto,
  startSsh2Server,
  startSshd,
  waitForTcp,
} from './harness/index.js'

/** Connects an mqtt.js client, sends one PINGREQ and resolves with the PINGRESP round trip; then ends the client. */
async function mqttPing(url: string): Promise<number> {
  const client = mqtt.connect(url, { keepalive: 60, reconnectPeriod: 0, connectTimeout: 5000 })
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
    })
    const sentAt = performance.now()
    const pong = new Promise<void>((resolve) => {
      client.on('packetreceive', (packet) => {
        if (packet.cmd === 'pingresp') resolve()
      })
    })
    client.sendPing()
    await pong
    return performance.now() - sentAt
  } finally {
    await client.endAsync(true)
  }
}

/** Runs `command` over ssh2's client and resolves with its stdout. */
async function sshExec(options: ssh2.ConnectConfig, command: string): Promise<string> {
  const client = new ssh2.Client()
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve())
      client.once('error', reject)
      client.connect({ readyTimeout: 10_000, ...options })
    })
    return await new Promise<string>((resolve, reject) => {
      client.exec(command, (error, stream) => {
        if (error) return reject(error)
        let out = ''
        stream.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8')
        })
        stream.stderr.on('data', () => {})
        stream.on('close', () => resolve(out))
      })
    })
  } finally {
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    client.end()
    await closed
  }
}

/** True while something accepts connections on host:port. */
async function accepts(host: string, port: number): Promise<boolean> {
  return waitForTcp(host, port, 50).then(
    () => true,
    () => false,
  )
}

describe.skipIf(missingPrerequisites('mosquitto'))('mosquitto', () => {
  it('starts on a free port, answers an mqtt.js PINGREQ, and stops cleanly', async () => {
    expectNoLeaks()
    const broker = await startMosquitto()
    console.info(`[harness] mosquitto version ${broker.version} on ${broker.url} (pid ${broker.pid})`)
    expect(broker.version).toMatch(/^\d+\.\d+/)
    const rtt = await mqttPing(broker.url)
    // Not a performance target (that lives in bench/): a PINGRESP at all; 1 s is scheduling headroom.
    recordDeadline({
      test: 'harness-peers: mosquitto PINGRESP',
      measured: rtt,
      max: 1000,
      slack: 'scheduling (strict <)',
    })
    expect(rtt).toBeLessThan(1000)
    await broker.stop()
    expect(processState(broker.pid)).toBeUndefined()
    expect(await accepts(broker.host, broker.port)).toBe(false)
    expect(broker.log()).toMatch(/terminating/)
  })
})

describe.skipIf(missingPrerequisites('sshd', 'ssh-keygen'))('OpenSSH sshd', () => {
  it('starts with generated keys, runs `echo ok` for an ssh2 client, and stops cleanly', async () => {
    expectNoLeaks()
    const sshd = await startSshd()
    console.info(`[harness] sshd version ${sshd.version} on ${sshd.host}:${sshd.port} (pid ${sshd.pid})`)
    expect(sshd.version).toMatch(/^OpenSSH_/)
    const out = await sshExec(
      { host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey },
      'echo ok',
    )
    expect(out).toBe('ok\n')
    await sshd.stop()
    expect(processState(sshd.pid)).toBeUndefined()
    expect(await accepts(sshd.host, sshd.port)).toBe(false)
    expect(sshd.log()).toMatch(/Received signal 15; terminating/)
  })
})

describe('in-process peers', () => {
  it('aedes starts, answers a PINGREQ, and stops without leaks', async () => {
    expectNoLeaks()
    const broker = await startAedes()
    console.info(`[harness] aedes ${broker.version} on ${broker.url}`)
    // A PINGRESP at all; 1 s is scheduling headroom, not a performance target.
    const rtt = await mqttPing(broker.url)
    recordDeadline({
      test: 'harness-peers: aedes PINGRESP',
      measured: rtt,
      max: 1000,
      slack: 'scheduling (strict <)',
    })
    expect(rtt).toBeLessThan(1000)
    await broker.stop()
    expect(await accepts(broker.host, broker.port)).toBe(false)
  })

  it('the ssh2 server authenticates the generated key, runs `echo ok`, and stops without leaks', async () => {
    expectNoLeaks()
    const server = await startSsh2Server()
    console.info(`[harness] ${server.version} server on ${server.host}:${server.port}`)
    const out = await sshExec(
      { host: server.host, port: server.port, username: server.username, privateKey: server.privateKey },
      'echo ok',
    )
    expect(out).toBe('ok\n')
    // A key that is not authorised is refused.
    const stranger = generateEd25519KeyPair()
    await expect(
      sshExec(
        { host: server.host, port: server.port, username: 'root', privateKey: stranger.private },
        'true',
      ),
    ).rejects.toThrow(/authentication/i)
    await server.stop()
    expect(await accepts(server.host, server.port)).toBe(false)
  })

  it('node:http starts on port 0 with its keepAliveTimeout and stops without leaks', async () => {
    expectNoLeaks()
    const server = await startHttpServer(undefined, { keepAliveTimeout: 1234 })
    expect(server.server.keepAliveTimeout).toBe(1234)
    const body = await new Promise<string>((resolve, reject) => {
      request(server.url, { agent: false }, (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          text += chunk
        })
        response.on('end', () => resolve(text))
      })
        .on('error', reject)
        .end()
    })
    expect(body).toBe('ok')
    expect(server.requestCount()).toBe(1)
    await sleep(10)
    await server.stop()
    expect(await accepts(server.host, server.port)).toBe(false)
  })
})

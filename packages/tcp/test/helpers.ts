/** Loopback peers for the tcp tests: real sockets on port 0, every one closed when the test ends (also on failure). */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import tls from 'node:tls'
import type { TcpSettings } from '@keepalive/core'
import { onTestFinished } from 'vitest'

/** The mechanism the running Node should pick: Node's own 4-argument setKeepAlive from 24.21 (24.x) and 26.4. */
export function expectedMechanism(): 'native' | 'ffi' {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  const native = major > 26 || (major === 26 && minor >= 4) || (major === 24 && minor >= 21)
  return native ? 'native' : 'ffi'
}

/** Hand-made settings, as core's tcpSettings would return them. */
export function settings(idleSeconds: number, intervalSeconds: number, probes: number): TcpSettings {
  const detectionTime = (idleSeconds + intervalSeconds * probes) * 1000
  return {
    idleSeconds,
    intervalSeconds,
    probes,
    userTimeoutMs: detectionTime,
    detectionTime,
    lateBy: 0,
    warnings: [],
  }
}

/** Destroys `socket` when the test ends. */
export function own<T extends net.Socket>(socket: T): T {
  onTestFinished(() => {
    socket.destroy()
  })
  return socket
}

/** A server on 127.0.0.1:0 that keeps every accepted socket, closed with them at the end of the test. */
export async function listen(
  server: net.Server = net.createServer(),
): Promise<{ server: net.Server; port: number; accepted: () => Promise<net.Socket> }> {
  const sockets: net.Socket[] = []
  const waiting: ((socket: net.Socket) => void)[] = []
  server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    sockets.push(socket)
    const waiter = waiting.shift()
    if (waiter) waiter(socket)
  })
  // Accepted sockets are tracked from 'connection' too (a TLS server's raw sockets), so nothing outlives the test.
  const raw: net.Socket[] = []
  server.on('connection', (socket: net.Socket) => raw.push(socket))
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of [...sockets, ...raw]) socket.destroy()
        server.close(() => resolve())
      }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  let taken = 0
  const accepted = (): Promise<net.Socket> => {
    const index = taken++
    const ready = sockets[index]
    if (ready) return Promise.resolve(ready)
    return new Promise((resolve) => waiting.push(resolve))
  }
  return { server, port, accepted }
}

/** A connected client and the server's end of it. */
export async function pair(): Promise<{ client: net.Socket; server: net.Socket }> {
  const { port, accepted } = await listen()
  const client = own(net.connect(port, '127.0.0.1'))
  await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject))
  return { client, server: await accepted() }
}

let cert: { key: Buffer; cert: Buffer } | undefined

/** A throwaway self-signed certificate for localhost, made with the openssl CLI (Node cannot make X.509). */
export function testCertificate(): { key: Buffer; cert: Buffer } {
  if (cert) return cert
  const dir = mkdtempSync(join(tmpdir(), 'ka-tcp-cert-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore' },
    )
    cert = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
    return cert
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A TLS server on loopback and a TLS client connected to it (handshake done). */
export async function tlsPair(): Promise<{ client: tls.TLSSocket; server: tls.TLSSocket }> {
  const { key, cert: certificate } = testCertificate()
  const { port, accepted } = await listen(tls.createServer({ key, cert: certificate }))
  const client = own(tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }))
  await new Promise<void>((resolve, reject) => client.once('secureConnect', resolve).once('error', reject))
  return { client, server: (await accepted()) as tls.TLSSocket }
}

export function once<T = void>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve as (value: unknown) => void))
}

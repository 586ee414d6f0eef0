/**
 * The kernel holds exactly the rounded values, for policies across the range (sub-second to 2 hours), on every kind
 * of TCP socket a Node program has, before and after connect. Expected values come from two places: core's
 * tcpSettings (the arithmetic) and, for the edge cases, numbers written out by hand.
 */
import net from 'node:net'
import tls from 'node:tls'
import { definePolicy, type PolicyLike, tcpSettings } from '@keepalive/core'
import { applyTcpKeepalive, readTcpKeepalive, type TcpKeepaliveReport } from '@keepalive/tcp'
import { describe, expect, it } from 'vitest'
import { expectedMechanism, listen, once, own, pair, testCertificate, tlsPair } from './helpers.js'

const policies: [
  string,
  PolicyLike,
  { idle: number; interval: number; probes: number; userTimeout: number },
][] = [
  // 250 ms cannot be expressed: 1 s each, and the count lowered so detection is not later than need be.
  [
    '250 ms sub-second',
    { idle: 250, interval: 250, probes: 3 },
    { idle: 1000, interval: 1000, probes: 1, userTimeout: 2000 },
  ],
  [
    '1.5 s (floored)',
    { idle: 1500, interval: 1500, probes: 3 },
    { idle: 1000, interval: 1000, probes: 3, userTimeout: 4000 },
  ],
  ['fast', 'fast', { idle: 5000, interval: 1000, probes: 3, userTimeout: 8000 }],
  ['balanced (default)', undefined, { idle: 30_000, interval: 10_000, probes: 3, userTimeout: 60_000 }],
  ['battery', 'battery', { idle: 210_000, interval: 30_000, probes: 3, userTimeout: 300_000 }],
  [
    '7200 s',
    { idle: '7200s', interval: '75s', probes: 9 },
    { idle: 7_200_000, interval: 75_000, probes: 9, userTimeout: 7_875_000 },
  ],
  [
    '127 probes',
    { idle: '1s', interval: '1s', probes: 127 },
    { idle: 1000, interval: 1000, probes: 127, userTimeout: 128_000 },
  ],
]

function expectApplied(
  report: TcpKeepaliveReport,
  socket: net.Socket,
  expected: (typeof policies)[number][2],
  policy: PolicyLike,
): void {
  const settings = tcpSettings(definePolicy(policy))
  // The arithmetic and the hand-written numbers agree…
  expect({
    idle: settings.idleSeconds * 1000,
    interval: settings.intervalSeconds * 1000,
    probes: settings.probes,
    userTimeout: settings.userTimeoutMs,
  }).toEqual(expected)
  // …the report says what the kernel holds…
  expect(report).toMatchObject({ ...expected, enabled: true, verified: true, pending: false })
  expect(report.mechanism).toBe(expectedMechanism())
  expect(report.requested).toEqual(settings)
  // …and the kernel really holds it.
  expect(readTcpKeepalive(socket)).toEqual({ enabled: true, ...expected })
  // Rounding warnings come from core; nothing else may be wrong.
  expect(report.warnings).toEqual(settings.warnings)
}

describe.each(policies)('%s', (_name, policy, expected) => {
  it('client, after connect', async () => {
    const { client } = await pair()
    expectApplied(applyTcpKeepalive(client, policy), client, expected, policy)
  })

  it('client, before connect (applied at connect)', async () => {
    const { port } = await listen()
    const client = own(net.connect(port, '127.0.0.1'))
    const pending = applyTcpKeepalive(client, policy)
    expect(pending).toMatchObject({ pending: true, enabled: false, verified: false, ...expected })
    const report = await pending.ready
    expect(report).not.toBeNull()
    expectApplied(report!, client, expected, policy)
  })

  it('accepted server socket', async () => {
    const { server } = await pair()
    expectApplied(applyTcpKeepalive(server, policy), server, expected, policy)
  })

  it('TLS client and TLS server socket, after the handshake', async () => {
    const { client, server } = await tlsPair()
    expectApplied(applyTcpKeepalive(client, policy), client, expected, policy)
    expectApplied(applyTcpKeepalive(server, policy), server, expected, policy)
  })

  it('TLS client before connect: applied at TCP connect, before the handshake', async () => {
    const { key, cert } = testCertificate()
    const { port } = await listen(tls.createServer({ key, cert }))
    const client = own(tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }))
    const pending = applyTcpKeepalive(client, policy)
    expect(pending.pending).toBe(true)
    const report = await pending.ready
    expectApplied(report!, client, expected, policy)
    await once(client, 'secureConnect')
    expect(readTcpKeepalive(client)).toEqual({ enabled: true, ...expected })
  })
})

describe('other socket shapes', () => {
  it('TLS over an existing net.Socket (tls.connect({ socket })), applied to either', async () => {
    const { key, cert } = testCertificate()
    const { port } = await listen(tls.createServer({ key, cert }))
    const raw = own(net.connect(port, '127.0.0.1'))
    await once(raw, 'connect')
    const secure = own(tls.connect({ socket: raw, rejectUnauthorized: false }))
    await once(secure, 'secureConnect')
    const expected = { idle: 5000, interval: 1000, probes: 3, userTimeout: 8000 }
    expectApplied(applyTcpKeepalive(secure, 'fast'), secure, expected, 'fast')
    expect(readTcpKeepalive(raw)).toEqual({ enabled: true, ...expected })
  })

  it('TLS wrapping a socket that is still connecting: applied at the inner connect', async () => {
    const { key, cert } = testCertificate()
    const { port } = await listen(tls.createServer({ key, cert }))
    const raw = own(net.connect(port, '127.0.0.1'))
    const secure = own(tls.connect({ socket: raw, rejectUnauthorized: false }))
    const pending = applyTcpKeepalive(secure, 'fast')
    expect(pending.pending).toBe(true)
    const report = await pending.ready
    expect(report).toMatchObject({ idle: 5000, interval: 1000, probes: 3, userTimeout: 8000, verified: true })
    await once(secure, 'secureConnect')
  })

  it('a fresh new net.Socket(), connected later', async () => {
    const { port } = await listen()
    const socket = own(new net.Socket())
    const pending = applyTcpKeepalive(socket, 'fast')
    expect(pending.pending).toBe(true)
    socket.connect(port, '127.0.0.1')
    const report = await pending.ready
    expect(report).toMatchObject({ idle: 5000, interval: 1000, probes: 3, userTimeout: 8000, verified: true })
  })

  it('readTcpKeepalive: null before connect, the OS defaults on an untouched socket', async () => {
    const { port } = await listen()
    const client = own(net.connect(port, '127.0.0.1'))
    expect(readTcpKeepalive(client)).toBeNull()
    await once(client, 'connect')
    const values = readTcpKeepalive(client)
    expect(values).toMatchObject({ enabled: false, userTimeout: 0 })
  })
})

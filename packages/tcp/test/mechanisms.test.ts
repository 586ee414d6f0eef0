/**
 * The three mechanisms on real loopback sockets, with hand-made settings (so these tests do not depend on the policy
 * arithmetic): auto picks 'ffi' on Node 20 and 'native' on Node 24.21+, every mechanism is read back from the kernel,
 * partial says exactly what it did not set, and an FFI failure is a warning and a fallback, never a crash.
 */
import net from 'node:net'
import { TcpUnsupportedError } from '@keepalive/tcp'
import { describe, expect, it } from 'vitest'
import { applySettings } from '../src/apply.js'
import { readTcpKeepalive } from '../src/kernel.js'
import { nativeKeepaliveLikely } from '../src/mechanisms.js'
import { expectedMechanism, pair, settings } from './helpers.js'

describe('mechanism selection', () => {
  it(`auto picks '${expectedMechanism()}' on Node ${process.version}`, async () => {
    const { client } = await pair()
    const report = applySettings(client, settings(3, 2, 4), {})
    expect(report.mechanism).toBe(expectedMechanism())
    expect(report).toMatchObject({
      enabled: true,
      idle: 3000,
      interval: 2000,
      probes: 4,
      userTimeout: 11_000,
    })
    expect(report.verified).toBe(true)
    expect(report.pending).toBe(false)
    expect(report.warnings).toEqual([])
    expect(readTcpKeepalive(client)).toEqual({
      enabled: true,
      idle: 3000,
      interval: 2000,
      probes: 4,
      userTimeout: 11_000,
    })
    await expect(report.ready).resolves.toBe(report)
    // `ready` is there but not enumerable: logs and JSON show the values.
    expect(Object.keys(report)).not.toContain('ready')
    expect(JSON.parse(JSON.stringify(report))).toMatchObject({ idle: 3000, mechanism: expectedMechanism() })
  })

  it('forced ffi sets every value by setsockopt, on any Node', async () => {
    const { client } = await pair()
    const report = applySettings(client, settings(9, 4, 7), { mechanism: 'ffi' })
    expect(report).toMatchObject({ mechanism: 'ffi', verified: true, idle: 9000, interval: 4000, probes: 7 })
    expect(report.userTimeout).toBe(37_000)
    expect(report.warnings).toEqual([])
  })

  it.runIf(expectedMechanism() === 'native')(
    'forced native sets idle/interval/count with Node itself',
    async () => {
      const { client } = await pair()
      const report = applySettings(client, settings(8, 3, 5), { mechanism: 'native' })
      expect(report).toMatchObject({
        mechanism: 'native',
        verified: true,
        idle: 8000,
        interval: 3000,
        probes: 5,
      })
      expect(report.userTimeout).toBe(23_000)
    },
  )

  it.runIf(expectedMechanism() === 'ffi')(
    'forced native on a Node without it throws TcpUnsupportedError',
    async () => {
      const { client } = await pair()
      expect(nativeKeepaliveLikely()).toBe(false)
      expect(() => applySettings(client, settings(8, 3, 5), { mechanism: 'native' })).toThrow(
        TcpUnsupportedError,
      )
      expect(() => applySettings(client, settings(8, 3, 5), { mechanism: 'native' })).toThrow(
        /24\.21\+ or 26\.4\+/,
      )
    },
  )

  it('forced ffi with the FFI disabled throws TcpUnsupportedError', async () => {
    const { client } = await pair()
    expect(() => applySettings(client, settings(8, 3, 5), { mechanism: 'ffi', ffi: false })).toThrow(
      TcpUnsupportedError,
    )
  })
})

describe('partial', () => {
  it('sets only the idle time and lists exactly what it did not set', async () => {
    const { client } = await pair()
    const report = applySettings(client, settings(5, 2, 3), { mechanism: 'partial' })
    expect(report.mechanism).toBe('partial')
    // Read back: Node/libuv's fixed 1 s interval and 10 probes, no user timeout.
    expect(report).toMatchObject({ verified: true, enabled: true, idle: 5000, interval: 1000, probes: 10 })
    expect(report.userTimeout).toBe(0)
    expect(report.warnings).toEqual([
      "partial: only the idle time was set, with Node's setKeepAlive (forced by the mechanism option)",
      'TCP_KEEPINTVL not set: Node/libuv uses 1 s',
      'TCP_KEEPCNT not set: Node/libuv uses 10 probes',
      'TCP_USER_TIMEOUT not set: a peer that vanishes while sent data is unacknowledged is detected only when retransmissions give up (~15 min on Linux)',
    ])
  })

  it('without any FFI: not read back, and says so', async () => {
    const { client } = await pair()
    const report = applySettings(client, settings(5, 2, 3), { mechanism: 'partial', ffi: false })
    expect(report).toMatchObject({ verified: false, idle: 5000, interval: 1000, probes: 10, userTimeout: 0 })
    expect(report.warnings.at(-1)).toMatch(
      /values not read back from the kernel \(FFI disabled by the ffi option\)/,
    )
    // What Node did is still real: read it with the FFI.
    expect(readTcpKeepalive(client)).toMatchObject({ enabled: true, idle: 5000, interval: 1000, probes: 10 })
  })

  it('auto without FFI picks what this Node can do', async () => {
    const { client } = await pair()
    const report = applySettings(client, settings(6, 2, 3), { ffi: false })
    if (expectedMechanism() === 'native') {
      expect(report.mechanism).toBe('native')
      expect(report.warnings[0]).toMatch(/^TCP_USER_TIMEOUT not set \(FFI disabled by the ffi option\)/)
      expect(readTcpKeepalive(client)).toEqual({
        enabled: true,
        idle: 6000,
        interval: 2000,
        probes: 3,
        userTimeout: 0,
      })
    } else {
      expect(report.mechanism).toBe('partial')
      expect(readTcpKeepalive(client)).toMatchObject({
        idle: 6000,
        interval: 1000,
        probes: 10,
        userTimeout: 0,
      })
    }
  })
})

describe('FFI failure', () => {
  it('an errno from setsockopt is a warning and a fallback to Node, not a crash', async () => {
    const { client } = await pair()
    // Make the FFI see a descriptor that is not open: every setsockopt/getsockopt fails with EBADF.
    const handle = (client as unknown as { _handle: object })._handle
    Object.defineProperty(handle, 'fd', { value: 1_000_000, configurable: true })
    const report = applySettings(client, settings(4, 2, 3), { mechanism: 'ffi' })
    expect(report.mechanism).toBe('partial')
    expect(report.verified).toBe(false)
    expect(report.warnings).toContain('setsockopt(SO_KEEPALIVE, 1) failed: EBADF (errno 9)')
    expect(report.warnings).toContain('fell back to partial: setsockopt(SO_KEEPALIVE) failed')
    expect(
      report.warnings.some((w) =>
        w.startsWith('values not read back: getsockopt(SO_KEEPALIVE) failed: EBADF'),
      ),
    ).toBe(true)
    // The fallback really ran on the real socket: Node set the idle time.
    delete (handle as { fd?: number }).fd
    expect(readTcpKeepalive(client)).toMatchObject({ enabled: true, idle: 4000 })
  })

  it('a value the kernel refuses is a warning naming the option and errno; the rest is applied', async () => {
    const { client } = await pair()
    // TCP_KEEPCNT is at least 1 on Linux (core's tcpSettings never asks for 0; hand-made settings can).
    const report = applySettings(client, settings(4, 2, 0), { mechanism: 'ffi' })
    expect(report.mechanism).toBe('ffi')
    expect(report.warnings).toContain('setsockopt(TCP_KEEPCNT, 0) failed: EINVAL (errno 22)')
    expect(report.warnings.some((w) => w.startsWith('the kernel holds probes'))).toBe(true)
    expect(report).toMatchObject({ idle: 4000, interval: 2000 })
  })

  it('a refused value with the native mechanism falls to FFI, which names it', async () => {
    const { client } = await pair()
    const report = applySettings(client, settings(4, 2, 0), {})
    expect(report.warnings).toContain('setsockopt(TCP_KEEPCNT, 0) failed: EINVAL (errno 22)')
    expect(report).toMatchObject({ idle: 4000, interval: 2000 })
  })

  it("a value above the platform's maximum is passed as core's tcpPlatformValues caps it, and the report says so", async () => {
    const { client } = await pair()
    // TCP_KEEPCNT is at most 127 on Linux.
    const report = applySettings(client, settings(4, 2, 200), { mechanism: 'ffi' })
    expect(report).toMatchObject({
      mechanism: 'ffi',
      verified: true,
      idle: 4000,
      interval: 2000,
      probes: 127,
    })
    expect(report.warnings).toContain('the kernel holds probes 127, asked 200')
  })
})

describe('re-applying', () => {
  it('a second policy replaces the first, whatever Node cached', async () => {
    const { client } = await pair()
    applySettings(client, settings(5, 2, 3), { mechanism: 'ffi' })
    // Node's setKeepAlive caches its last arguments and skips identical calls: read-back catches what it skipped.
    client.setKeepAlive(true, 7000)
    const report = applySettings(client, settings(5, 2, 3), {})
    expect(report).toMatchObject({
      idle: 5000,
      interval: 2000,
      probes: 3,
      userTimeout: 11_000,
      verified: true,
    })
    expect(readTcpKeepalive(client)).toMatchObject({ idle: 5000, interval: 2000, probes: 3 })
  })

  it('userTimeout: false leaves TCP_USER_TIMEOUT alone', async () => {
    const { client } = await pair()
    const report = applySettings(client, settings(5, 2, 3), { userTimeout: false })
    expect(report.userTimeout).toBe(0)
    expect(report.warnings).toEqual([])
  })
})

describe('accepted sockets', () => {
  it('work like client sockets', async () => {
    const { server } = await pair()
    expect(server).toBeInstanceOf(net.Socket)
    const report = applySettings(server, settings(2, 1, 6), {})
    expect(report).toMatchObject({ mechanism: expectedMechanism(), idle: 2000, interval: 1000, probes: 6 })
    expect(report.userTimeout).toBe(8000)
  })
})

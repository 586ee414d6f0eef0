import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, expect, inject, it } from 'vitest'
import {
  assertNoLeakedResources,
  createNetnsLink,
  findLeftovers,
  harnessFixture,
  listHarnessNamespaces,
  missingPrerequisites,
  ownNamespaces,
  snapshotResources,
  spawnNode,
  waitForTcp,
} from './harness/index.js'
import { isAlive, listProcessRecords } from './harness/state.js'

interface UserReady {
  type: 'ready'
  namespaces: string[]
  pids: number[]
  port: number | undefined
  tempDir: string
}

async function accepts(port: number | undefined): Promise<boolean> {
  if (port === undefined) return false
  return waitForTcp('127.0.0.1', port, 50).then(
    () => true,
    () => false,
  )
}

describe('hygiene', () => {
  it('starts clean: whatever an interrupted earlier run left behind was removed before this run', () => {
    // Each run fails itself if it leaves anything behind (global-setup.ts teardown), so what the global setup finds
    // at start can only come from a run that was killed before its teardown (a crashed worker, a stopped session).
    // That is reported, not failed on; what must hold is that nothing is left now.
    const sweptAtStart = inject('harnessLeftoversAtStart') ?? []
    if (sweptAtStart.length > 0) console.info(`[harness] swept at start:\n  ${sweptAtStart.join('\n  ')}`)
    expect(findLeftovers().map((l) => l.description)).toEqual([])
  })

  it('the leak checker sees a listener and timers that were not closed', async () => {
    const before = snapshotResources()
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    // Three timers: vitest's own timers come and go while a test runs, which can hide one of ours from a count.
    const timers = [1, 2, 3].map(() => setTimeout(() => {}, 60_000))
    await expect(assertNoLeakedResources(before, 50)).rejects.toThrow(/more TCPServerWrap/)
    await expect(assertNoLeakedResources(before, 50)).rejects.toThrow(/more Timeout/)
    for (const timer of timers) clearTimeout(timer)
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await assertNoLeakedResources(before)
  })

  describe.skipIf(missingPrerequisites('root', 'netns'))('namespaces and processes', () => {
    let failedTestNamespaces: string[] = []

    it.fails('a test that fails after creating a namespace (expected to fail)', async () => {
      const link = await createNetnsLink()
      failedTestNamespaces = [link.clientNs, link.serverNs]
      throw new Error('failing on purpose')
    })

    it('…still had its namespaces removed by the cleanup after it', () => {
      expect(failedTestNamespaces).toHaveLength(2)
      const existing = listHarnessNamespaces()
      for (const ns of failedTestNamespaces) expect(existing).not.toContain(ns)
      expect(ownNamespaces()).toEqual([])
    })

    it('a process that exits without cleaning up still removes its namespaces and children — twice in a row', async () => {
      for (let run = 1; run <= 2; run++) {
        const user = spawnNode(harnessFixture('harness-user.ts'), { label: `harness-user run ${run}` })
        const ready = await user.next<UserReady>('ready', 20_000)
        expect(listHarnessNamespaces()).toEqual(expect.arrayContaining(ready.namespaces))
        user.send({ type: 'die' })
        expect((await user.exited).code).toBe(3)
        const existing = listHarnessNamespaces()
        for (const ns of ready.namespaces) expect(existing).not.toContain(ns)
        for (const pid of ready.pids) expect(isAlive(pid)).toBe(false)
        expect(await accepts(ready.port)).toBe(false)
        expect(existsSync(ready.tempDir)).toBe(false)
        expect(listProcessRecords().filter((r) => r.owner === user.pid)).toEqual([])
      }
    })

    it('what a killed process leaves behind is found (and removed) as the global teardown does', async () => {
      const user = spawnNode(harnessFixture('harness-user.ts'), { label: 'harness-user SIGKILL' })
      const ready = await user.next<UserReady>('ready', 20_000)
      await user.kill()
      // SIGKILL runs no exit hook: the namespaces and the broker outlive their owner.
      expect(listHarnessNamespaces()).toEqual(expect.arrayContaining(ready.namespaces))
      const found = findLeftovers({ remove: true }).map((l) => l.description)
      console.info(`[harness] leftovers of a SIGKILLed worker, now removed:\n  ${found.join('\n  ')}`)
      for (const ns of ready.namespaces) expect(found).toContain(`network namespace ${ns}`)
      const existing = listHarnessNamespaces()
      for (const ns of ready.namespaces) expect(existing).not.toContain(ns)
      // The node child left on its own (its IPC channel closed); the broker was killed by findLeftovers.
      const deadline = performance.now() + 2000
      while (ready.pids.some(isAlive) && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      for (const pid of ready.pids) expect(isAlive(pid)).toBe(false)
      expect(await accepts(ready.port)).toBe(false)
    })
  })
})

/**
 * vitest setupFiles entry for projects that use the harness: undoes what each test registered (newest first)
 * after it — also when it failed or timed out — and what a file registered after the file; then checks that no
 * namespace or child process the test created is left.
 */
import { afterAll, afterEach, beforeEach } from 'vitest'
import { beginTestScope, endTestScope, runCleanups } from './cleanup.js'
import { diffResources, snapshotResources } from './leaks.js'

let before: ReturnType<typeof snapshotResources> | undefined

beforeEach(() => {
  beginTestScope()
  before = snapshotResources()
})

afterEach(async () => {
  await endTestScope()
  if (!before) return
  // Only namespaces and processes here: handle counts are asserted by tests that ask for it (expectNoLeaks),
  // because libraries under test may legitimately keep a timer until their own close completes.
  const problems = diffResources({ ...before, counts: {} }, { ...snapshotResources(), counts: {} })
  before = undefined
  if (problems.length > 0) throw new Error(`the test left behind:\n  ${problems.join('\n  ')}`)
})

afterAll(async () => {
  await runCleanups(0)
})

// The harness's public surface, export by export (test/README.md describes each helper).

export type { Undo } from './cleanup.js'
export {
  beginTestScope,
  endTestScope,
  pendingCleanups,
  registerCleanup,
  registerExitHook,
  runCleanups,
  track,
} from './cleanup.js'
export type { ExecResult } from './exec.js'
export { run } from './exec.js'
export type { ResourceSnapshot } from './leaks.js'
export {
  assertNoLeakedResources,
  diffResources,
  expectNoLeaks,
  ownNamespaces,
  ownProcesses,
  snapshotResources,
  TRACKED_RESOURCES,
} from './leaks.js'
export type { Leftover } from './leftovers.js'
export { findLeftovers } from './leftovers.js'
export type { NetnsLink } from './netns.js'
export { createNetnsLink, listHarnessNamespaces, NETNS_PREFIX } from './netns.js'
export type { ExitInfo, FixtureMessage, NodeProcess, SpawnNodeOptions } from './node-process.js'
export { spawnNode } from './node-process.js'
export { harnessFixture, REPO_ROOT } from './paths.js'
export type { Prerequisite } from './prerequisites.js'
export { findBinary, missingPrerequisites, requireBinary } from './prerequisites.js'
export { processState } from './process-state.js'
export type { TempDir } from './tmp.js'
export { makeTempDir } from './tmp.js'

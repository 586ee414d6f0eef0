/**
 * One vitest project per package, derived from `packages/<name>/package.json` (the tRPC habit), plus `integration`
 * for the harness's own tests under test/. Adding a package needs no edit here.
 *
 * Tests import every package by its public name; the `@keepalive/source` export condition points the names at
 * src/, so nothing needs building first. A package that lists `@keepalive/test-harness` in its devDependencies uses
 * real peers and measures real deadlines: it gets the harness's per-test undo and run-level leftover check
 * (test/README.md), runs one file at a time, and runs in a group of its own, after the CPU-heavy unit tests, so
 * that no other project shares the machine's cores while it measures.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { defineConfig, type TestProjectConfiguration } from 'vitest/config'

const resolve = { conditions: ['@keepalive/source'] }
const harnessHooks = {
  setupFiles: ['test/harness/vitest-setup.ts'],
  globalSetup: ['test/harness/global-setup.ts'],
  fileParallelism: false,
  testTimeout: 60_000,
  hookTimeout: 60_000,
}

interface Manifest {
  devDependencies?: Record<string, string>
}

const packageNames = readdirSync('packages', { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`packages/${entry.name}/test`))
  .map((entry) => entry.name)
  .sort((a, b) => (a === 'core' ? -1 : b === 'core' ? 1 : a.localeCompare(b)))

let group = 0
const packageProjects: TestProjectConfiguration[] = packageNames.map((name) => {
  const manifest = JSON.parse(readFileSync(`packages/${name}/package.json`, 'utf8')) as Manifest
  const realPeers = manifest.devDependencies?.['@keepalive/test-harness'] !== undefined
  return {
    resolve,
    ssr: { resolve },
    test: {
      name,
      include: [`packages/${name}/test/**/*.test.ts`],
      environment: 'node',
      sequence: { groupOrder: realPeers ? ++group : 0 },
      // A hang guard, not a deadline (deadlines are asserted inside tests, against measured times). Core's property
      // tests check thousands of generated cases, about 1 s of CPU each here; vitest's 5 s default was hit (5.2 s)
      // when other jobs shared both cores.
      testTimeout: 30_000,
      ...(realPeers ? harnessHooks : {}),
    },
  }
})

export default defineConfig({
  test: {
    // A skipped test must be visible; CI turns missing prerequisites into failures (test/harness/prerequisites.ts).
    reporters: process.env.CI ? ['verbose'] : ['default'],
    projects: [
      ...packageProjects,
      {
        resolve,
        ssr: { resolve },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          sequence: { groupOrder: ++group },
          ...harnessHooks,
        },
      },
    ],
  },
})

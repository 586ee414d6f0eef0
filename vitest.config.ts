import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests import each package by its public name; these aliases point the names at src/,
// so no build is needed before testing (the tRPC habit).
const alias = {
  '@keepalive/core': fileURLToPath(new URL('./packages/core/src/index.ts', import.meta.url)),
  '@keepalive/tcp': fileURLToPath(new URL('./packages/tcp/src/index.ts', import.meta.url)),
  '@keepalive/ssh': fileURLToPath(new URL('./packages/ssh/src/index.ts', import.meta.url)),
}

export default defineConfig({
  resolve: { alias },
  test: {
    // A skipped test must be visible; CI turns missing prerequisites into failures (see test/harness/prerequisites.ts).
    reporters: process.env.CI ? ['verbose'] : ['default'],
    projects: [
      {
        resolve: { alias },
        // Projects run one group after another (sequence.groupOrder): the CPU-heavy unit tests must not share
        // this 2-core machine with the tcp and integration tests that measure real deadlines.
        test: {
          name: 'core',
          include: ['packages/core/test/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'tcp',
          include: ['packages/tcp/test/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          // Namespace tests use the harness: per-test undo and the run-level leftover check (test/README.md).
          setupFiles: ['test/harness/vitest-setup.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          // Real sockets and network namespaces: one file at a time so timings are not disturbed.
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'ssh',
          include: ['packages/ssh/test/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          setupFiles: ['test/harness/vitest-setup.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 30_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          sequence: { groupOrder: 2 },
          // The harness: undo each test's namespaces, processes, servers and faults after it (also on failure),
          // and fail the run if anything outlives it (test/README.md).
          setupFiles: ['test/harness/vitest-setup.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
})

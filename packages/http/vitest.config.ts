import { fileURLToPath } from 'node:url'
import { defineProject } from 'vitest/config'
import { undiciAlias } from './test/undici-version.js'

const src = (name: string) => fileURLToPath(new URL(`../${name}/src/index.ts`, import.meta.url))

// Real sockets, real faults: one file at a time, the harness's per-test cleanup and run-level leftover check.
// undici 8 needs Node >= 22.19 and cannot be a devDependency under engine-strict: on such a Node the tests use the
// copy test/undici-version.ts installs under node_modules/.cache.
export default defineProject({
  resolve: {
    alias: [
      { find: /^@keepalive\/core$/, replacement: src('core') },
      { find: /^@keepalive\/tcp$/, replacement: src('tcp') },
      { find: /^@keepalive\/http$/, replacement: src('http') },
      ...undiciAlias(),
    ],
  },
  test: {
    name: 'http',
    include: ['test/**/*.test.ts'],
    sequence: { groupOrder: 1 },
    setupFiles: ['../../test/harness/vitest-setup.ts'],
    globalSetup: ['../../test/harness/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
})

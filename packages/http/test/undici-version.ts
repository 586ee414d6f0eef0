/**
 * Which undici the tests run against: undici 7 (the root devDependency) on Node < 22.19, undici 8 on newer Nodes.
 * undici 8 requires Node >= 22.19, so under engine-strict it cannot be a devDependency; it is installed on demand into
 * node_modules/.cache/keepalive-undici8 (as scripts/with-node.sh does for Node binaries) and loaded from there. Tests
 * import `undici` from this module, never from 'undici' directly, and assert the major they got.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export const UNDICI8_RANGE = '^8.13.1'
const prefix = fileURLToPath(new URL('../../../node_modules/.cache/keepalive-undici8', import.meta.url))
const packageDir = `${prefix}/node_modules/undici`

/** True when this Node can run undici 8 (its engines field: >= 22.19). */
export function nodeRunsUndici8(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > 22 || (major === 22 && minor >= 19)
}

/** The undici major the tests on this Node use. */
export function expectedUndiciMajor(): number {
  return nodeRunsUndici8() ? 8 : 7
}

/** The entry file of undici 8 in the cache, installed now if missing. */
export function undici8Entry(): string {
  const installed = existsSync(`${packageDir}/package.json`)
    ? (JSON.parse(readFileSync(`${packageDir}/package.json`, 'utf8')) as { version: string }).version
    : undefined
  if (!installed?.startsWith('8.')) {
    process.stderr.write(`[http tests] installing undici@${UNDICI8_RANGE} into ${prefix}\n`)
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `undici@${UNDICI8_RANGE}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    )
  }
  return `${packageDir}/index.js`
}

const require = createRequire(import.meta.url)
/** The undici module for this Node (7 or 8). */
export const undici: typeof import('undici') = nodeRunsUndici8() ? require(undici8Entry()) : require('undici')
/** Its version, from its package.json. */
export const undiciVersion: string = (
  JSON.parse(
    readFileSync(
      nodeRunsUndici8() ? `${packageDir}/package.json` : require.resolve('undici/package.json'),
      'utf8',
    ),
  ) as { version: string }
).version

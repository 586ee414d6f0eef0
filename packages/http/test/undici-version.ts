/**
 * Which undici the tests run against: undici 7 (the devDependency) on Node < 22.19, undici 8 on newer Nodes. undici 8
 * requires Node >= 22.19, so under engine-strict it cannot be a devDependency; it is installed on demand into
 * node_modules/.cache/keepalive-undici8 (like scripts/with-node24.sh does for Node binaries) and the tests' `undici`
 * import is aliased to it. The tests assert the major they got (test/dispatcher.test.ts).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const UNDICI8_VERSION = '^8.13.1'
const prefix = fileURLToPath(new URL('../../../node_modules/.cache/keepalive-undici8', import.meta.url))
const entry = `${prefix}/node_modules/undici/index.js`

/** True when this Node can run undici 8 (its engines field: >= 22.19). */
export function nodeRunsUndici8(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > 22 || (major === 22 && minor >= 19)
}

/** The undici major the tests on this Node use. */
export function expectedUndiciMajor(): number {
  return nodeRunsUndici8() ? 8 : 7
}

/** The vitest alias: none on old Nodes; undici 8 from the cache (installed now if missing) on new ones. */
export function undiciAlias(): Array<{ find: RegExp; replacement: string }> {
  if (!nodeRunsUndici8()) return []
  const installed = existsSync(entry)
    ? (JSON.parse(readFileSync(`${prefix}/node_modules/undici/package.json`, 'utf8')) as { version: string })
        .version
    : undefined
  if (!installed?.startsWith('8.')) {
    process.stderr.write(`[http tests] installing undici@${UNDICI8_VERSION} into ${prefix}\n`)
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
        `undici@${UNDICI8_VERSION}`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    )
  }
  return [{ find: /^undici$/, replacement: entry }]
}

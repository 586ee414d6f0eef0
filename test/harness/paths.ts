import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The repository root (this file is test/harness/paths.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** tsx's ESM loader, as `scripts/run-ts.sh` uses it. */
export const TSX_LOADER_URL = pathToFileURL(resolve(REPO_ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href

/** Absolute path of a file in test/fixtures/. */
export function harnessFixture(name: string): string {
  return resolve(REPO_ROOT, 'test/fixtures', name)
}

/** A script given as a URL, an absolute path, or a path relative to the repository root. */
export function resolveScript(script: string | URL): string {
  if (script instanceof URL) return fileURLToPath(script)
  if (script.startsWith('file:')) return fileURLToPath(script)
  return isAbsolute(script) ? script : resolve(REPO_ROOT, script)
}

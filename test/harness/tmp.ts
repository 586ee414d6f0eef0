import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { registerExitHook, track } from './cleanup.js'

export interface TempDir {
  path: string
  remove(): Promise<void>
}

/** A fresh directory under the OS temp dir, removed at cleanup (and on process exit as a last resort). */
export function makeTempDir(prefix = 'ka-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix))
  const removeSync = (): void => rmSync(path, { recursive: true, force: true })
  const unregisterExit = registerExitHook(`temp dir ${path}`, removeSync)
  const remove = track(`temp dir ${path}`, async () => {
    removeSync()
    unregisterExit()
  })
  return { path, remove }
}

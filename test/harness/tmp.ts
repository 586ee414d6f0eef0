import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { registerExitHook, track } from './cleanup.js'

/** Temp dirs are named `ka-<pid of the creating process>-<label>-XXXXXX`, so a leftover names its owner. */
export const TEMP_DIR_PATTERN = /^ka-(\d+)-[a-z0-9]+-[A-Za-z0-9]{6}$/

export interface TempDir {
  path: string
  remove(): Promise<void>
}

/** A fresh directory under the OS temp dir, removed at cleanup (and on process exit as a last resort). */
export function makeTempDir(label = 'tmp'): TempDir {
  const path = mkdtempSync(join(tmpdir(), `ka-${process.pid}-${label}-`))
  const removeSync = (): void => rmSync(path, { recursive: true, force: true })
  const unregisterExit = registerExitHook(`temp dir ${path}`, removeSync)
  const remove = track(`temp dir ${path}`, async () => {
    removeSync()
    unregisterExit()
  })
  return { path, remove }
}

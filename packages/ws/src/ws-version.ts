/**
 * The installed ws must be major 8: the watcher taps `_socket` / the upgrade response's socket and reads
 * `_isServer`, which ws 8 has (checked by this package's tests against the installed ws). Read once, from the
 * ws this package resolves (its peer dependency); when ws cannot be resolved from here (a bundle), the shape
 * checks in ./watch.ts are all there is.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { WsUnsupportedError } from './errors.js'

let checked: string | undefined | null = null

/** The installed ws version, or undefined when it cannot be read. */
export function installedWsVersion(): string | undefined {
  if (checked !== null) return checked
  try {
    const require = createRequire(import.meta.url)
    const manifest = JSON.parse(readFileSync(require.resolve('ws/package.json'), 'utf8')) as {
      version?: unknown
    }
    checked = typeof manifest.version === 'string' ? manifest.version : undefined
  } catch {
    checked = undefined
  }
  return checked
}

/** Throws WsUnsupportedError when the installed ws is not major 8. */
export function checkWsVersion(version: string | undefined = installedWsVersion()): void {
  if (version === undefined) return
  const major = Number.parseInt(version, 10)
  if (major !== 8) {
    throw new WsUnsupportedError(
      `@keepalive/ws supports ws 8 (its peer dependency ^8.0.0); the installed ws is ${version}`,
    )
  }
}

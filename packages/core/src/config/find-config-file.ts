/**
 * Which config file applies, and reading it. The one named (the `file` option, else KEEPALIVE_CONFIG), else
 * the first of keepalive.config.json, .yaml, .yml found from the working directory upwards to the root.
 * Only a missing name is skipped: anything else carrying a config name (a directory, a FIFO, a dangling or
 * looping symlink) is an error, because skipping it would load a parent's file without a word. A file is
 * opened non-blocking and checked with fstat before a byte is read, so a FIFO or a device never hangs or
 * floods the process, and at most MAX_CONFIG_BYTES are read.
 */
import { constants, type Stats } from 'node:fs'
import { lstat, open, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { ConfigNotFoundError, ConfigParseError, InvalidArgumentError } from '../errors.js'
import { describeValue } from '../schema/describe-value.js'
import { MAX_CONFIG_BYTES } from '../schema/limits.js'
import { ENV } from './env-overrides.js'

/** The file names looked for in each directory, in order of preference. */
export const CONFIG_FILE_NAMES = [
  'keepalive.config.json',
  'keepalive.config.yaml',
  'keepalive.config.yml',
] as const

/** How the config file was chosen, for messages ("named by KEEPALIVE_CONFIG"). */
export type ConfigFileOrigin = 'option' | 'env' | 'search'

export interface ConfigFileChoice {
  readonly file: string
  readonly origin: ConfigFileOrigin
}

/** The working directory the search starts from: it must exist and be a directory. */
export async function checkWorkingDirectory(cwd: string): Promise<void> {
  let stats: Stats
  try {
    stats = await stat(cwd)
  } catch (cause) {
    throw new InvalidArgumentError(`loadConfig: cwd ${describeValue(cwd)} ${problemOf(cause)}`, { cause })
  }
  if (!stats.isDirectory()) {
    throw new InvalidArgumentError(
      `loadConfig: cwd ${describeValue(cwd)} is ${kindOf(stats)}, not a directory`,
    )
  }
}

/** The named file (resolved against `cwd`), or the first found upwards, or undefined when there is none. */
export async function chooseConfigFile(
  named: string | undefined,
  origin: Exclude<ConfigFileOrigin, 'search'>,
  cwd: string,
): Promise<ConfigFileChoice | undefined> {
  if (named !== undefined) return { file: resolve(cwd, named), origin }
  const found = await findConfigFileUpwards(cwd)
  return found === undefined ? undefined : { file: found, origin: 'search' }
}

export async function findConfigFileUpwards(cwd: string): Promise<string | undefined> {
  let directory = resolve(cwd)
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = join(directory, name)
      if (await isConfigFile(candidate)) return candidate
    }
    const parent = dirname(directory)
    if (parent === directory) return undefined
    directory = parent
  }
}

/** False when nothing carries the name; true for a regular file (or a link to one); an error for anything else. */
async function isConfigFile(path: string): Promise<boolean> {
  const choice: ConfigFileChoice = { file: path, origin: 'search' }
  let stats: Stats
  try {
    stats = await lstat(path)
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException)?.code
    if (code === 'ENOENT' || code === 'ENOTDIR') return false
    throw unreadable(choice, `cannot be checked (${code ?? String(cause)})`, cause)
  }
  if (stats.isSymbolicLink()) {
    try {
      stats = await stat(path)
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException)?.code
      const problem =
        code === 'ENOENT'
          ? 'is a symbolic link to a missing file'
          : code === 'ELOOP'
            ? 'is a symbolic link loop'
            : `is a symbolic link that cannot be followed (${code ?? String(cause)})`
      throw unreadable(choice, problem, cause)
    }
  }
  if (!stats.isFile()) throw unreadable(choice, `is ${kindOf(stats)}, not a regular file`)
  return true
}

/** The file's text. Throws ConfigNotFoundError (missing, unreadable, not a regular file) or ConfigParseError (too large). */
export async function readConfigFile(choice: ConfigFileChoice): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer, and nothing can end that wait.
    handle = await open(choice.file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0))
  } catch (cause) {
    throw unreadable(choice, problemOf(cause), cause)
  }
  try {
    const stats = await handle.stat()
    if (!stats.isFile()) throw unreadable(choice, `is ${kindOf(stats)}, not a regular file`)
    if (stats.size > MAX_CONFIG_BYTES) throw tooLarge(choice.file)
    // One byte more than allowed tells a file that grew since fstat from one that fits.
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1)
    let length = 0
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null)
      if (bytesRead === 0) break
      length += bytesRead
      if (length > MAX_CONFIG_BYTES) throw tooLarge(choice.file)
    }
    return buffer.toString('utf8', 0, length)
  } catch (cause) {
    if (cause instanceof ConfigNotFoundError || cause instanceof ConfigParseError) throw cause
    throw unreadable(choice, problemOf(cause), cause)
  } finally {
    await handle.close()
  }
}

/** A config larger than MAX_CONFIG_BYTES is refused before it is parsed. */
export function tooLarge(label: string): ConfigParseError {
  return new ConfigParseError(
    `Cannot parse ${label}: it is larger than ${MAX_CONFIG_BYTES} bytes (64 KiB, MAX_CONFIG_BYTES), far more than any keepalive config`,
  )
}

function unreadable(choice: ConfigFileChoice, problem: string, cause?: unknown): ConfigNotFoundError {
  const why =
    choice.origin === 'option'
      ? 'named by the `file` option'
      : choice.origin === 'env'
        ? `named by ${ENV.config}`
        : 'found in the upward search'
  return new ConfigNotFoundError(
    `Config file ${choice.file} (${why}) ${problem}`,
    cause === undefined ? undefined : { cause },
  )
}

function problemOf(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException)?.code
  return code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(cause)})`
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory'
  if (stats.isFIFO()) return 'a FIFO'
  if (stats.isCharacterDevice()) return 'a character device'
  if (stats.isBlockDevice()) return 'a block device'
  if (stats.isSocket()) return 'a socket'
  if (stats.isSymbolicLink()) return 'a symbolic link'
  return 'a regular file'
}

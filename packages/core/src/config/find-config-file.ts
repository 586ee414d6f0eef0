/**
 * Which config file applies: the one named (the `file` option, else KEEPALIVE_CONFIG), else the
 * first of keepalive.config.json, .yaml, .yml found from the working directory upwards to the root.
 */
import { stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'

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
      if (await isFile(candidate)) return candidate
    }
    const parent = dirname(directory)
    if (parent === directory) return undefined
    directory = parent
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    // Missing, or a directory we may not look into: either way, not a config file here.
    return false
  }
}

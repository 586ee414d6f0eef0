/**
 * setsockopt/getsockopt through koffi (an optional dependency with prebuilt binaries: no compiler needed).
 * Loaded lazily and at most once: a missing or broken koffi makes `loadSockopt()` return undefined with the reason,
 * and the caller falls back. Nothing here throws on a failed call: results carry errno instead.
 */
import { createRequire } from 'node:module'
import { constants as osConstants } from 'node:os'
import { type TcpPlatformOptions, tcpPlatformOptions } from '@keepalive/core/internal'

/**
 * Where setsockopt/getsockopt live, per platform; the option numbers and units are core's `tcpPlatformOptions`.
 * Android is left out on purpose: core knows its options (Linux's), but its libc is untested here.
 */
const libraries: Readonly<Partial<Record<NodeJS.Platform, SockoptLibrary>>> = {
  linux: { path: 'libc.so.6', errnoFrom: 'errno' },
  darwin: { path: 'libSystem.B.dylib', errnoFrom: 'errno' },
  freebsd: { path: 'libc.so.7', errnoFrom: 'errno' },
  win32: { path: 'ws2_32.dll', errnoFrom: 'WSAGetLastError' },
}

interface SockoptLibrary {
  readonly path: string
  /** How errno is read after a failed call: koffi's errno, or WSAGetLastError on Windows. */
  readonly errnoFrom: 'errno' | 'WSAGetLastError'
}

/** The sliver of koffi's API used here (declared locally so the types do not depend on an optional package). */
interface KoffiLike {
  load(path: string): { func(definition: string): (...args: unknown[]) => number }
  errno(): number
}

export interface Sockopt {
  /** The `process.platform` the functions were loaded for. */
  readonly platform: string
  /** core's keepalive socket options for that platform: level, option, unit and maximum of each. */
  readonly options: TcpPlatformOptions
  /** setsockopt with a 4-byte int; 0 on success, else errno. */
  set(fd: number, level: number, name: number, value: number): number
  /** getsockopt of a 4-byte int: the value, or `{ errno }`. */
  get(fd: number, level: number, name: number): number | { errno: number }
}

let loaded: Sockopt | undefined
let failure: string | undefined
let tried = false

/** The FFI sockopt functions for this platform, or undefined (see `sockoptUnavailableReason()`). */
export function loadSockopt(): Sockopt | undefined {
  if (tried) return loaded
  tried = true
  try {
    loaded = create()
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error)
  }
  return loaded
}

/** Why the FFI path is unavailable, once `loadSockopt()` returned undefined. */
export function sockoptUnavailableReason(): string | undefined {
  return failure
}

function create(): Sockopt {
  const platform = process.platform
  const options = tcpPlatformOptions[platform]
  const library = libraries[platform]
  if (options === undefined || library === undefined) {
    throw new Error(`no socket option table for platform '${platform}'`)
  }
  // createRequire keeps koffi out of the static import graph: without it installed, this package still loads.
  const require = createRequire(import.meta.url)
  let koffi: KoffiLike
  try {
    koffi = require('koffi') as KoffiLike
  } catch (error) {
    throw new Error(`the optional dependency koffi could not be loaded (${(error as Error).message})`)
  }
  const lib = koffi.load(library.path)
  const windows = library.errnoFrom === 'WSAGetLastError'
  const setsockopt = windows
    ? lib.func(
        'int __stdcall setsockopt(uintptr_t s, int level, int optname, const void *optval, int optlen)',
      )
    : lib.func('int setsockopt(int fd, int level, int optname, const void *optval, uint32_t optlen)')
  const getsockopt = windows
    ? lib.func(
        'int __stdcall getsockopt(uintptr_t s, int level, int optname, _Out_ void *optval, _Inout_ int *optlen)',
      )
    : lib.func('int getsockopt(int fd, int level, int optname, _Out_ void *optval, _Inout_ uint32_t *optlen)')
  const lastError = windows ? lib.func('int __stdcall WSAGetLastError()') : () => koffi.errno()
  // One value buffer and one length buffer, reused: calls are synchronous, so nothing can interleave. Plain `void *`
  // Buffers are passed by address; koffi's `_Out_`/`_Inout_` marshalling would double the cost of each getsockopt.
  const value = Buffer.alloc(4)
  const length = Buffer.alloc(4)
  return {
    platform,
    options,
    set(fd, level, name, v) {
      value.writeInt32LE(v | 0, 0)
      return setsockopt(fd, level, name, value, 4) === 0 ? 0 : lastError() || -1
    },
    get(fd, level, name) {
      length.writeUInt32LE(4, 0)
      if (getsockopt(fd, level, name, value, length) !== 0) return { errno: lastError() || -1 }
      return value.readInt32LE(0)
    },
  }
}

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, code]) => [code as number, name]),
)

/** `EBADF (errno 9)`: errno as the name a user would search for, with the number. */
export function describeErrno(errno: number): string {
  return `${errnoNames.get(errno) ?? 'unknown error'} (errno ${errno})`
}

/**
 * Node's own setKeepAlive(enable, initialDelay, interval, count): present on Node 24.21+ and 26.4+ (libuv 1.52's
 * uv_tcp_keepalive_ex). Older Nodes accept the extra arguments and silently ignore them, so the signature alone
 * proves nothing: the first socket that uses it is read back, and the verdict is remembered.
 */
import { Socket } from 'node:net'

/** undefined until a read-back has confirmed or refuted the native path. */
let verdict: boolean | undefined

/** Whether Node's setKeepAlive is believed to set interval and count. */
export function nativeKeepaliveLikely(): boolean {
  // Node 20's setKeepAlive(enable, initialDelay) has length 2; the four-argument form has length 4.
  return verdict ?? Socket.prototype.setKeepAlive.length >= 4
}

/** Records what a read-back showed after a native call. Only the first observation counts. */
export function recordNativeVerdict(worked: boolean): void {
  verdict ??= worked
}

/** For tests: forget the verdict. */
export function resetNativeVerdict(): void {
  verdict = undefined
}

type FourArgSetKeepAlive = (
  enable: boolean,
  initialDelayMs: number,
  intervalMs: number,
  count: number,
) => Socket

/**
 * Calls Node's setKeepAlive with interval and count. Values are whole seconds in ms: Node floors ms to seconds and a
 * result of 0 becomes EINVAL in libuv, which Node swallows (keepalive then stays at the OS defaults).
 */
export function setNativeKeepalive(socket: Socket, idleS: number, intervalS: number, probes: number): void {
  ;(socket.setKeepAlive as unknown as FourArgSetKeepAlive)(true, idleS * 1000, intervalS * 1000, probes)
}

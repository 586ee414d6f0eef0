import { run } from './exec.js'
import { requireBinary } from './prerequisites.js'

export interface TcpSocketInfo {
  /** ss's state name: ESTAB, FIN-WAIT-2, CLOSE-WAIT, … */
  state: string
  recvQ: number
  sendQ: number
  local: string
  peer: string
  /** `key:value` fields of `ss -i` (bytes_acked, unacked, rto, retrans…) as strings. */
  info: Record<string, string>
  /** `ss -o`'s timer, e.g. `keepalive,6.984ms,0` (ss prints seconds with an "ms" suffix there). */
  timer: string | undefined
}

/**
 * What the kernel says about the TCP socket bound to `localPort` (on loopback, or in `netns`): lets a test check
 * that a connection is still established and its bytes were ACKed, independently of what Node reports.
 */
export async function tcpSocketInfo(
  localPort: number,
  options: { netns?: string } = {},
): Promise<TcpSocketInfo[]> {
  const ss = requireBinary('ss')
  const argv = [ss, '-Htnoi', `sport = :${localPort}`]
  const { stdout } = await run(
    options.netns ? [requireBinary('ip'), 'netns', 'exec', options.netns, ...argv] : argv,
  )
  const sockets: TcpSocketInfo[] = []
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue
    if (/^\s/.test(line) && sockets.length > 0) {
      // The -i details of the socket on the line above.
      const current = sockets[sockets.length - 1] as TcpSocketInfo
      for (const token of line.trim().split(/\s+/)) {
        const colon = token.indexOf(':')
        if (colon > 0) current.info[token.slice(0, colon)] = token.slice(colon + 1)
      }
      continue
    }
    const [state = '', recvQ = '0', sendQ = '0', local = '', peer = '', ...rest] = line.trim().split(/\s+/)
    const timer = /timer:\(([^)]*)\)/.exec(rest.join(' '))?.[1]
    sockets.push({ state, recvQ: Number(recvQ), sendQ: Number(sendQ), local, peer, info: {}, timer })
  }
  return sockets
}

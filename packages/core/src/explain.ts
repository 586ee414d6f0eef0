/**
 * explain(): what each protocol's adapter will do with a policy, computed by the same pure functions
 * the adapters call (./protocols/), so `keepalive explain` needs none of the protocol libraries.
 * The result is plain data: deterministic and JSON-serialisable (the CLI's `--json` prints it).
 */
import { InvalidArgumentError } from './errors.js'
import { definePolicy, detectionTimeOf } from './policy.js'
import { human, perHour } from './protocols/common.js'
import { httpClientSettings, httpServerTimeouts } from './protocols/http.js'
import { mqttSettings } from './protocols/mqtt.js'
import { sshSettings } from './protocols/ssh.js'
import { tcpSettings } from './protocols/tcp.js'
import { describeValue } from './schema/describe-value.js'
import { readOptions } from './schema/read-options.js'
import type { Policy, PolicyLike, Protocol } from './types.js'

export interface ExplainOptions {
  /** Only these protocols (default: all), always listed in the order tcp, http, mqtt, ssh. */
  protocols?: readonly Protocol[]
  /** The shortest idle timeout on the path (ms), e.g. from config.path.idleTimeout. */
  pathIdleTimeout?: number
}

export interface ProtocolExplanation {
  readonly protocol: Protocol
  /** The native settings the adapter will use, by their native names and units. */
  readonly settings: Readonly<Record<string, number | string | boolean>>
  /** The detection time these settings really give, in ms. */
  readonly detectionTime: number
  /** How much later than the policy's detection time that is, in ms (0 unless a warning says why). */
  readonly lateBy: number
  /** Silence before the first probe (or, for HTTP, before an idle pooled socket is closed), in ms. */
  readonly firstProbeAfter: number
  /** Probes sent per hour on an idle connection whose peer answers. */
  readonly probesPerIdleHour: number
  readonly warnings: readonly string[]
  /** One sentence on what was chosen and why. */
  readonly summary: string
}

export interface Explanation {
  readonly policy: Policy
  /** The policy's detection time, idle + interval × probes, in ms. */
  readonly detectionTime: number
  /** The path's idle timeout the explanation was checked against, in ms, or null. */
  readonly pathIdleTimeout: number | null
  readonly protocols: readonly ProtocolExplanation[]
}

const ALL: readonly Protocol[] = ['tcp', 'http', 'mqtt', 'ssh']
const EXPLAIN_OPTIONS = ['protocols', 'pathIdleTimeout'] as const

const LB_WARNING =
  'TCP keepalive probes keep NATs and firewalls open but not load balancers or proxies that terminate TCP (AWS ALB and Classic LB ignore them): behind one, only application traffic keeps the connection.'

/**
 * Explains, per protocol, the native settings an adapter will use for the policy, the detection time
 * they really give, the probes they cost on an idle connection, and every compromise made.
 * Throws InvalidPolicyError for a bad policy and InvalidArgumentError for bad options.
 */
export function explain(policyLike?: PolicyLike, options: ExplainOptions = {}): Explanation {
  const policy = definePolicy(policyLike)
  const { protocols: protocolList, pathIdleTimeout } = readOptions('explain', options, EXPLAIN_OPTIONS)
  const path = checkPath(pathIdleTimeout)
  const wanted = checkProtocols(protocolList)
  const chosen = ALL.filter((p) => wanted.has(p))

  const protocols = chosen.map((protocol) => {
    const e = EXPLAINERS[protocol](policy, path, wanted)
    const warnings = [...e.warnings]
    if (path !== null && e.firstProbeAfter >= path) {
      warnings.push(
        `${protocol === 'http' ? 'Idle sockets are kept' : 'The first probe comes after'} ${human(e.firstProbeAfter)}, at or above the path's idle timeout of ${human(path)}: a middlebox drops the connection first. Choose an idle below ${human(path)}.`,
      )
    }
    return Object.freeze({ protocol, ...e, warnings: Object.freeze(warnings) })
  })

  return Object.freeze({
    policy,
    detectionTime: detectionTimeOf(policy),
    pathIdleTimeout: path,
    protocols: Object.freeze(protocols),
  })
}

type Explained = Omit<ProtocolExplanation, 'protocol'>
type Explainer = (policy: Policy, path: number | null, wanted: ReadonlySet<Protocol>) => Explained

const EXPLAINERS: Readonly<Record<Protocol, Explainer>> = {
  tcp(policy, path) {
    const t = tcpSettings(policy)
    return {
      settings: {
        TCP_KEEPIDLE: t.idleSeconds,
        TCP_KEEPINTVL: t.intervalSeconds,
        TCP_KEEPCNT: t.probes,
        TCP_USER_TIMEOUT: t.userTimeoutMs,
      },
      detectionTime: t.detectionTime,
      lateBy: t.lateBy,
      firstProbeAfter: t.idleSeconds * 1000,
      probesPerIdleHour: perHour(t.idleSeconds * 1000),
      warnings: path === null ? t.warnings : [...t.warnings, LB_WARNING],
      summary: `TCP probes after ${t.idleSeconds} s of silence, then every ${t.intervalSeconds} s, and drops the connection after ${t.probes} unanswered ${plural(t.probes, 'probe')} (TCP_USER_TIMEOUT ${t.userTimeoutMs} ms agrees): a dead peer is found within ${human(t.detectionTime)}.`,
    }
  },

  http(policy, path, wanted) {
    const client = httpClientSettings(policy, path === null ? {} : { pathIdleTimeout: path })
    const server = httpServerTimeouts(policy, path === null ? {} : { pathIdleTimeout: path })
    const t = client.tcp
    // TCP's own compromises are listed once, under tcp, when tcp is explained too.
    const own = (ws: readonly string[]) =>
      wanted.has('tcp') ? ws.filter((w) => !t.warnings.includes(w)) : ws
    const warnings = [
      ...own(client.warnings),
      ...own(server.warnings).filter((w) => !client.warnings.includes(w)),
    ]
    if (wanted.has('tcp') && t.lateBy > 0) {
      warnings.push(
        `TCP keepalive, which guards in-flight requests, detects ${human(t.lateBy)} later than the policy's ${human(detectionTimeOf(policy))} (see tcp).`,
      )
    }
    if (path !== null) warnings.push(LB_WARNING)
    const why = {
      policy: "the policy's idle",
      server: "2 s before the server's idle timeout",
      hint: "2 s before the server's Keep-Alive timeout",
      path: "safely below the path's idle timeout",
    }[client.limitedBy]
    const reuse = client.reuseSockets
      ? `Pooled sockets are closed after ${human(client.freeSocketTimeout)} idle (${why})`
      : 'Sockets are not reused'
    return {
      settings: {
        freeSocketTimeout: client.freeSocketTimeout,
        reuseSockets: client.reuseSockets,
        'undici.keepAliveTimeout': client.undici.keepAliveTimeout,
        'undici.keepAliveMaxTimeout': client.undici.keepAliveMaxTimeout,
        'undici.keepAliveTimeoutThreshold': client.undici.keepAliveTimeoutThreshold,
        'server.keepAliveTimeout': server.keepAliveTimeout,
        'server.headersTimeout': server.headersTimeout,
        'server.requestTimeout': server.requestTimeout,
        TCP_KEEPIDLE: t.idleSeconds,
        TCP_KEEPINTVL: t.intervalSeconds,
        TCP_KEEPCNT: t.probes,
        TCP_USER_TIMEOUT: t.userTimeoutMs,
      },
      detectionTime: client.detectionTime,
      lateBy: client.lateBy,
      firstProbeAfter: client.freeSocketTimeout,
      probesPerIdleHour: client.probesPerIdleHour,
      warnings,
      summary: `${reuse} and servers keep idle connections ${human(server.keepAliveTimeout)}, so the client always closes first; HTTP sends no probes of its own, and a dead server under an in-flight request is found by TCP keepalive within ${human(client.detectionTime)}.`,
    }
  },

  mqtt(policy) {
    const m = mqttSettings(policy)
    const broker = m.brokerDetectionTime ?? 0
    return {
      settings: {
        keepalive: m.keepalive,
        'monitor.idle': m.monitor.idle,
        'monitor.pingrespTimeout': m.pingrespTimeout,
        'monitor.probes': m.probes,
        brokerTimeout: broker,
      },
      detectionTime: m.detectionTime,
      lateBy: m.lateBy,
      firstProbeAfter: m.monitor.idle,
      probesPerIdleHour: m.probesPerIdleHour,
      warnings: m.warnings,
      summary: `The client asks for Keep Alive ${m.keepalive} s, sends PINGREQ after ${human(m.monitor.idle)} of silence and gives up after ${m.probes} ${plural(m.probes, 'PINGRESP')} missed ${human(m.pingrespTimeout)} apart: a dead broker is found within ${human(m.detectionTime)}, and the broker drops a silent client after ${human(broker)} (1.5 × Keep Alive).`,
    }
  },

  ssh(policy) {
    const s = sshSettings(policy)
    const o = s.openSsh
    return {
      settings: {
        keepaliveInterval: s.client.keepaliveInterval,
        keepaliveCountMax: s.client.keepaliveCountMax,
        ServerAliveInterval: o.intervalSeconds,
        ServerAliveCountMax: o.countMax,
        ClientAliveInterval: o.intervalSeconds,
        ClientAliveCountMax: o.countMax,
      },
      // The numbers are what watchSsh (@keepalive/ssh) does: it follows the policy to the millisecond. The settings
      // are for ssh2's own keepalive and OpenSSH, which have one interval: the summary and warnings say how they differ.
      detectionTime: detectionTimeOf(policy),
      lateBy: 0,
      firstProbeAfter: policy.idle,
      probesPerIdleHour: perHour(policy.idle),
      warnings: s.warnings.map(
        (w) => `Without watchSsh (ssh2's keepaliveInterval, OpenSSH's *AliveInterval): ${w}`,
      ),
      summary: `With watchSsh, a keepalive@openssh.com request goes out after ${human(policy.idle)} of silence, then every ${human(policy.interval)}, and a dead peer is found after ${policy.probes} unanswered ${plural(policy.probes, 'probe')}, within ${human(detectionTimeOf(policy))}. ssh2's own keepalive and OpenSSH have one interval: with the settings below they probe after every ${human(s.intervalMs)} of silence and find a dead peer within ${s.probes + 1} × ${human(s.intervalMs)} = ${human(s.detectionTime)} (OpenSSH, in whole seconds: ${o.intervalSeconds} s × ${o.countMax}, ${human(o.detectionTime)}).`,
    }
  },
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`
}

function checkPath(value: unknown): number | null {
  if (value === undefined) return null
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      `pathIdleTimeout must be a positive number of milliseconds, got ${describeValue(value)}`,
    )
  }
  return value
}

function checkProtocols(value: unknown): ReadonlySet<Protocol> {
  if (value === undefined) return new Set(ALL)
  let list: unknown[]
  try {
    // Copied once: a Proxy or an array with throwing getters is read here, inside the try, and nowhere else.
    list = Array.isArray(value) ? Array.from(value as unknown[]) : []
  } catch (cause) {
    throw new InvalidArgumentError(`explain: could not read options.protocols (${describeValue(value)})`, {
      cause,
    })
  }
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError(
      `protocols must be an array of ${ALL.join(', ')}, got ${describeValue(value)}`,
    )
  }
  for (const p of list) {
    if (!ALL.includes(p as Protocol)) {
      throw new InvalidArgumentError(
        `protocols: unknown protocol ${describeValue(p)}; known: ${ALL.join(', ')}`,
      )
    }
  }
  return new Set(list as Protocol[])
}

// What users of @keepalive/core call, by concept. The glue that only the @keepalive/* adapters use (diagnostics
// channels, socket-option tables, the per-policy cache, the error factory) is in `@keepalive/core/internal`.

export type {
  HttpSection,
  MqttSection,
  PolicyOverrides,
  SshSection,
  TcpSection,
} from './config/config-types.js'
export type { KeepaliveConfig, LoadConfigOptions, PathConfig } from './config/load-config.js'
// The shared config file.
export { loadConfig, policyFor } from './config/load-config.js'
export type { ParseConfigOptions } from './config/parse-config.js'
export { parseConfig } from './config/parse-config.js'
// Diagnostics channels (`keepalive:monitor:*`, `keepalive:config:*`), as each adapter exports its own.
export { coreChannels } from './diagnostics.js'
export { formatDuration, parseDuration } from './duration.js'
export type { KeepaliveErrorCode, KeepaliveErrorOptions } from './errors.js'
// Errors: match on `code`.
export {
  ConfigInvalidError,
  ConfigNotFoundError,
  ConfigParseError,
  InvalidArgumentError,
  InvalidPolicyError,
  isKeepaliveError,
  KeepaliveError,
  ProbeFailedError,
  ProbeTimeoutError,
} from './errors.js'
export type { ExplainOptions, Explanation, ProtocolExplanation } from './explain.js'
// What each protocol will do with a policy, and why.
export { explain } from './explain.js'
export type { SchedulerInfo, SchedulerOptions } from './monitor/configure.js'
// The liveness monitor and its shared scheduler.
export { configureScheduler, schedulerInfo } from './monitor/configure.js'
export { createMonitor } from './monitor/monitor.js'
export type {
  AliveEvent,
  DeadEvent,
  Monitor,
  MonitorEvents,
  MonitorOptions,
  MonitorState,
  ProbeContext,
  ProbeErrorEvent,
  ProbeEvent,
} from './monitor/types.js'
// The policy: three numbers, presets, durations.
export { definePolicy, detectionTime, presets } from './policy.js'
export type {
  HttpClientSettings,
  HttpClientSettingsOptions,
  HttpIdleBound,
  HttpServerTimeouts,
  HttpServerTimeoutsOptions,
  KeepAliveHint,
} from './protocols/http.js'
export {
  httpClientSettings,
  httpServerTimeouts,
  MIN_SERVER_MARGIN,
  parseKeepAliveHeader,
  rttSafetyMargin,
  SERVER_TIMEOUT_THRESHOLD,
} from './protocols/http.js'
export type { MqttSettings } from './protocols/mqtt.js'
export { MQTT_MAX_KEEPALIVE, mqttSettings, mqttSettingsForServerKeepAlive } from './protocols/mqtt.js'
export type { PoolSettings, PoolSettingsOptions } from './protocols/pg.js'
export { PG_POOL_IDLE_TIMEOUT, poolSettings } from './protocols/pg.js'
export type { OpenSshKeepalive, Ssh2KeepaliveOptions, SshSettings } from './protocols/ssh.js'
export { sshSettings } from './protocols/ssh.js'
export type { TcpSettings } from './protocols/tcp.js'
export { tcpSettings } from './protocols/tcp.js'
export type { SocketIoSettings, WsSettings } from './protocols/ws.js'
export { socketIoSettings, wsSettings } from './protocols/ws.js'
export { configJsonSchema } from './schema/json-schema.js'
export { MAX_CONFIG_BYTES, MAX_DURATION_MS, MAX_JITTER, MAX_PROBES } from './schema/limits.js'
export type { DurationInput, Policy, PolicyInput, PolicyLike, PresetName, Protocol } from './types.js'
export type { Watcher, WatcherDeadEvent, WatcherEvents, WatcherState } from './watcher.js'
// The watcher contract: what every adapter's watch* function returns.
export { WATCHER_EVENTS, WATCHER_STATES } from './watcher.js'

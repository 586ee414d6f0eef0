// The public surface of @keepalive/core, named export by export.

export type {
  HttpSection,
  MqttSection,
  PolicyOverrides,
  SshSection,
  TcpSection,
} from './config/config-types.js'
export type { KeepaliveConfig, LoadConfigOptions, PathConfig } from './config/load-config.js'
export { loadConfig, policyFor } from './config/load-config.js'
export type { ParseConfigOptions } from './config/parse-config.js'
export { parseConfig } from './config/parse-config.js'
export type { ChannelName } from './diagnostics.js'
export { channels } from './diagnostics.js'
export { formatDuration, parseDuration } from './duration.js'
export type { KeepaliveErrorCode, KeepaliveErrorOptions } from './errors.js'
export {
  ConfigInvalidError,
  ConfigNotFoundError,
  ConfigParseError,
  errorCodes,
  InvalidArgumentError,
  InvalidPolicyError,
  isKeepaliveError,
  KeepaliveError,
  ProbeFailedError,
  ProbeTimeoutError,
  TcpNotTcpError,
  TcpSocketClosedError,
  TcpSockoptError,
  TcpUnsupportedError,
} from './errors.js'
export type { ExplainOptions, Explanation, ProtocolExplanation } from './explain.js'
export { explain } from './explain.js'
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
  SchedulerInfo,
  SchedulerOptions,
} from './monitor/monitor.js'
export { configureScheduler, createMonitor, schedulerInfo } from './monitor/monitor.js'
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
export type { OpenSshKeepalive, Ssh2KeepaliveOptions, SshSettings } from './protocols/ssh.js'
export { sshSettings } from './protocols/ssh.js'
export type {
  TcpKeepaliveValsSpec,
  TcpOptionUnit,
  TcpPlatformOptions,
  TcpPlatformValues,
  TcpSettings,
  TcpSockoptSpec,
  TcpSockoptValue,
} from './protocols/tcp.js'
export { tcpLimits, tcpPlatformOptions, tcpPlatformValues, tcpSettings } from './protocols/tcp.js'
export { configJsonSchema } from './schema/json-schema.js'
export { MAX_DURATION_MS, MAX_JITTER, MAX_PROBES } from './schema/limits.js'
export type { DurationInput, Policy, PolicyInput, PolicyLike, PresetName, Protocol } from './types.js'

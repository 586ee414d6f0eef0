// The public surface of @keepalive/http, named export by export.

export type {
  AgentOptions,
  HttpsAgentOptions,
  KeepaliveAgent,
  KeepaliveAgentExtras,
  KeepaliveHttpsAgent,
} from './agent.js'
export { createAgent, createHttpsAgent } from './agent.js'
export type { DispatcherOptions, KeepaliveDispatcher } from './dispatcher.js'
export { createDispatcher, useForGlobalFetch } from './dispatcher.js'
export { UndiciUnsupportedError } from './errors.js'
export type { HttpKeepaliveOptions } from './options.js'
export type { ConfigureServerOptions, ServerConfiguration } from './server.js'
export { configureServer } from './server.js'
export type { HttpPoolStats, NotRetriedReason, ReuseFacts } from './stats.js'
export { getReuseFacts, httpChannels } from './stats.js'

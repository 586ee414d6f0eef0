// The public surface of @keepalive/ssh, named export by export.

export { sshChannels } from './diagnostics.js'
export {
  SshConnectionClosedError,
  SshKeepaliveTimeoutError,
  SshUnsupportedError,
} from './errors.js'
export { openSshConfig } from './openssh-config.js'
export type { Ssh2KeepaliveConfig, WithSsh2Keepalive } from './options.js'
export { sshClientOptions, sshServerOptions } from './options.js'
export type {
  SshCloseEvent,
  SshDeadBy,
  SshDeadEvent,
  SshWatcher,
  SshWatcherEvents,
  SshWatcherState,
} from './watch.js'
export { watchSsh } from './watch.js'

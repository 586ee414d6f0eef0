// The harness's public surface, export by export (test/README.md describes each helper).

export type { AedesPeer } from './aedes.js'
export { startAedes } from './aedes.js'
export type { ChildPeer, ChildPeerOptions } from './child-peer.js'
export { AddressInUseError, startChildPeer } from './child-peer.js'
export type { Undo } from './cleanup.js'
export {
  beginTestScope,
  endTestScope,
  pendingCleanups,
  registerCleanup,
  registerExitHook,
  runCleanups,
  track,
} from './cleanup.js'
export type { SocketEvents, TestClient } from './client.js'
export { connectClient } from './client.js'
export type { DeadlineRecord } from './deadline.js'
export { recordDeadline } from './deadline.js'
export type { DelayProxy, DelayProxyOptions } from './delay-proxy.js'
export { startDelayProxy } from './delay-proxy.js'
export { startEchoServer } from './echo-server.js'
export type { ExecResult } from './exec.js'
export { run } from './exec.js'
export { crashProcess, freezeProcess } from './faults.js'
export type { HttpPeer, HttpServerOptions } from './http-server.js'
export { startHttpServer } from './http-server.js'
export type { IdleClose, IdleClosingPeer, IdleClosingServerOptions } from './idle-closing-server.js'
export { startIdleClosingServer } from './idle-closing-server.js'
export type {
  DroppedConnectionInfo,
  IdleDropProxy,
  IdleDropProxyOptions,
  ProxyTarget,
} from './idle-drop-proxy.js'
export { startIdleDropProxy } from './idle-drop-proxy.js'
export type { ResourceSnapshot } from './leaks.js'
export {
  assertNoLeakedResources,
  diffResources,
  expectNoLeaks,
  ownNamespaces,
  ownProcesses,
  snapshotResources,
  TRACKED_RESOURCES,
} from './leaks.js'
export type { Leftover } from './leftovers.js'
export { findLeftovers } from './leftovers.js'
export type { MosquittoOptions, MosquittoPeer } from './mosquitto.js'
export { startMosquitto } from './mosquitto.js'
export type { NetnsLink } from './netns.js'
export { createNetnsLink, createRoutedLink, listHarnessNamespaces, NETNS_PREFIX } from './netns.js'
export type { ExitInfo, FixtureMessage, NodeProcess, SpawnNodeOptions } from './node-process.js'
export { spawnNode } from './node-process.js'
export { harnessFixture, REPO_ROOT } from './paths.js'
export type { InProcessPeer, Peer, ProcessPeer } from './peer.js'
export { freePort, listen, waitForTcp } from './ports.js'
export type { PostgresOptions, PostgresPeer } from './postgres.js'
export { findPostgresBinary, startPostgres } from './postgres.js'
export type { Prerequisite } from './prerequisites.js'
export { findBinary, missingPrerequisites, requireBinary } from './prerequisites.js'
export { processState, processTree } from './process-state.js'
export type { RedisOptions, RedisPeer } from './redis.js'
export { startRedis } from './redis.js'
export type { SilenceProxy } from './silence-proxy.js'
export { startSilenceProxy } from './silence-proxy.js'
export type { TcpSocketInfo } from './ss.js'
export { tcpSocketInfo } from './ss.js'
export type { ExecHandler, Ssh2ServerOptions, Ssh2ServerPeer } from './ssh2-server.js'
export { generateEd25519KeyPair, startSsh2Server } from './ssh2-server.js'
export type { SshdOptions, SshdPeer } from './sshd.js'
export { sshdVersion, startSshd } from './sshd.js'
export type { TempDir } from './tmp.js'
export { makeTempDir } from './tmp.js'

/**
 * Service 1, an HTTP API: its server timeouts come from the shared config's `http` policy (`configureServer`).
 * Reads the config as a deployed service would: `loadConfig` searches upwards from its working directory.
 */
import http from 'node:http'
import type net from 'node:net'
import { loadConfig, policyFor } from '@keepalive/core'
import { configureServer } from '@keepalive/http'

export async function startApi(
  cwd: string,
): Promise<{ port: number; configFile: string | undefined; close(): void }> {
  const config = await loadConfig({ cwd })
  const policy = policyFor(config, 'http')
  const server = http.createServer((_request, response) => response.end(JSON.stringify({ policy })))
  const { keepAliveTimeout } = configureServer(server, policy)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  console.log(
    `api: ${config.source.file}: http idle ${policy.idle} ms → server keepAliveTimeout ${keepAliveTimeout} ms`,
  )
  return {
    port: (server.address() as net.AddressInfo).port,
    configFile: config.source.file,
    close: () => server.close(),
  }
}

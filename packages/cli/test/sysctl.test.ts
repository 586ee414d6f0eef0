import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { expectOneLineError, runCli } from './run-cli.js'

const sysctlJsonSchema = z.strictObject({
  source: z.string(),
  settings: z
    .array(
      z.strictObject({
        key: z.enum([
          'net.ipv4.tcp_keepalive_time',
          'net.ipv4.tcp_keepalive_intvl',
          'net.ipv4.tcp_keepalive_probes',
        ]),
        host: z.number().int().positive(),
        policy: z.number().int().positive(),
        unit: z.string(),
        differs: z.boolean(),
      }),
    )
    .length(3),
  userTimeoutMs: z.number().int().positive(),
  hostDetectionTime: z.number().positive(),
  policyDetectionTime: z.number().positive(),
  sysctlConf: z.string(),
  warnings: z.array(z.string()),
})

const proc = (key: string) => Number(readFileSync(`/proc/sys/net/ipv4/${key}`, 'utf8').trim())

describe('keepalive sysctl', () => {
  it("--json holds this host's values beside the policy's, and the sysctl.conf lines", async () => {
    const run = await runCli(['sysctl', '--policy', 'fast', '--json'])
    expect(run.code, run.stderr).toBe(0)
    const report = sysctlJsonSchema.parse(JSON.parse(run.stdout))
    expect(report.settings.map((s) => s.host)).toEqual([
      proc('tcp_keepalive_time'),
      proc('tcp_keepalive_intvl'),
      proc('tcp_keepalive_probes'),
    ])
    expect(report.settings.map((s) => s.policy)).toEqual([5, 1, 3])
    expect(report.sysctlConf).toBe(
      'net.ipv4.tcp_keepalive_time = 5\nnet.ipv4.tcp_keepalive_intvl = 1\nnet.ipv4.tcp_keepalive_probes = 3\n',
    )
    expect(report.policyDetectionTime).toBe(8000)
  })

  it('prints the table and the commands that change the defaults', async () => {
    const run = await runCli(['sysctl', '--policy', 'balanced'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(
      new RegExp(`^net\\.ipv4\\.tcp_keepalive_time +${proc('tcp_keepalive_time')}s +30s$`, 'm'),
    )
    if (proc('tcp_keepalive_time') !== 30) {
      expect(run.stdout).toContain(
        'sysctl -w net.ipv4.tcp_keepalive_time=30 net.ipv4.tcp_keepalive_intvl=10 net.ipv4.tcp_keepalive_probes=3',
      )
    }
  })

  it('bad options: one line, exit 2', async () => {
    expectOneLineError(await runCli(['sysctl', '--policy', '1s/1s/x']), 2, /probes/)
  })
})

import { detectionTime, explain, presets } from '@keepalive/core'
import { describe, expect, it } from 'vitest'
import * as z from 'zod'
import { expectOneLineError, runCli } from './run-cli.js'

const settingValue = z.union([z.number(), z.string(), z.boolean()])
const policySchema = z.strictObject({
  idle: z.number().int().positive(),
  interval: z.number().int().positive(),
  probes: z.number().int().positive(),
  jitter: z.number().min(0),
  preset: z.enum(['fast', 'balanced', 'battery', 'linux-default']).optional(),
})
export const explainJsonSchema = z.strictObject({
  source: z.string(),
  pathIdleTimeout: z.number().nullable(),
  protocols: z
    .array(
      z.strictObject({
        protocol: z.enum(['tcp', 'http', 'mqtt', 'ssh']),
        settings: z.record(z.string(), settingValue),
        detectionTime: z.number().positive(),
        lateBy: z.number().min(0),
        firstProbeAfter: z.number().min(0),
        probesPerIdleHour: z.number().min(0),
        warnings: z.array(z.string()),
        summary: z.string().min(1),
        policy: policySchema,
        askedDetectionTime: z.number().positive(),
      }),
    )
    .min(1),
})

describe('keepalive explain', () => {
  it('--json gives core explain() for all four protocols, valid against the schema', async () => {
    const run = await runCli(['explain', '--policy', 'fast', '--json'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toBe('')
    const report = explainJsonSchema.parse(JSON.parse(run.stdout))
    expect(report.protocols.map((p) => p.protocol)).toEqual(['tcp', 'http', 'mqtt', 'ssh'])
    const core = explain('fast')
    for (const [i, p] of report.protocols.entries()) {
      expect(p.settings).toEqual(core.protocols[i]!.settings)
      expect(p.detectionTime).toBe(core.protocols[i]!.detectionTime)
      expect(p.askedDetectionTime).toBe(detectionTime(presets.fast))
    }
  })

  it('idle/interval/probes and --protocol select one protocol', async () => {
    const run = await runCli(['explain', '--policy', '10s/2s/4', '--protocol', 'ssh', '--json'])
    expect(run.code, run.stderr).toBe(0)
    const report = explainJsonSchema.parse(JSON.parse(run.stdout))
    expect(report.protocols).toHaveLength(1)
    expect(report.protocols[0]!.policy).toMatchObject({ idle: 10_000, interval: 2_000, probes: 4 })
    expect(report.protocols[0]!.settings).toMatchObject({ keepaliveInterval: 3600, keepaliveCountMax: 4 })
  })

  it('prints settings, detection time and warnings for people', async () => {
    const run = await runCli(['explain', '--policy', '{"idle":"5s","interval":"500ms","probes":3}'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('TCP_KEEPIDLE=5  TCP_KEEPINTVL=1  TCP_KEEPCNT=1  TCP_USER_TIMEOUT=6000')
    expect(run.stdout).toMatch(/^TCP {2}idle 5s, interval 500ms, probes 3$/m)
    expect(run.stdout).toMatch(/! .*interval/)
  })

  it('without --policy uses the shared config as a service finds it (KEEPALIVE_POLICY applies)', async () => {
    const run = await runCli(['explain', '--protocol', 'tcp', '--json'], {
      env: { KEEPALIVE_POLICY: 'battery' },
      cwd: '/',
    })
    expect(run.code, run.stderr).toBe(0)
    const report = explainJsonSchema.parse(JSON.parse(run.stdout))
    expect(report.source).toContain('KEEPALIVE_POLICY')
    expect(report.protocols[0]!.policy).toMatchObject({ idle: 210_000, preset: 'battery' })
  })

  it.concurrent.each([
    [['explain', '--policy', 'nope'], /--policy: .*"nope"/],
    [['explain', '--policy', '5s/1s'], /idle\/interval\/probes/],
    [['explain', '--policy', '{bad json'], /not valid JSON/],
    [['explain', '--policy', '0s/1s/3'], /idle/],
    [['explain', '--protocol', 'smtp'], /--protocol: .*"smtp"/],
    [['explain', '--policy', 'fast', '--config', 'x.yaml'], /exclude each other/],
    [['explain', '--frobnicate'], /unknown option '--frobnicate'/],
  ])('bad arguments %j: one line, exit 2', async (args, pattern) => {
    expectOneLineError(await runCli(args), 2, pattern)
  })

  it('--help documents the options and the exit codes', async () => {
    const run = await runCli(['explain', '--help'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('--policy <policy>')
    expect(run.stdout).toContain('--json')
    const top = await runCli(['--help'])
    expect(top.stdout).toMatch(/Exit codes:\n\s+0 .*\n\s+1 .*\n\s+2 .*\n\s+3 /)
  })
})

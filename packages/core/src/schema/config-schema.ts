/**
 * The schema of the shared config file (keepalive.config.json / .yaml / .yml). The per-protocol
 * sections take the policy fields as overrides plus that protocol's own settings. Unknown keys are
 * errors everywhere. The published JSON Schema (keepalive.schema.json) is generated from this.
 */
import * as z from 'zod'
import { describedDuration, durationOrFalseSchema, policyFields, policyLikeSchema } from './policy-schema.js'

const SECTION_RULE = 'must be a mapping of settings (write {} for none)'

function section<Shape extends z.core.$ZodLooseShape>(description: string, own: Shape) {
  return z.strictObject({ ...policyFields, ...own }, { error: SECTION_RULE }).meta({ description })
}

const MAX_REQUESTS_RULE = 'must be a whole number of at least 1'

export const tcpSectionSchema = section('TCP keepalive: policy overrides plus TCP_USER_TIMEOUT.', {
  userTimeout: durationOrFalseSchema(
    'TCP_USER_TIMEOUT: how long sent data may stay unacknowledged. Defaults to the detection time; false leaves it unset.',
  ).optional(),
})

export const httpSectionSchema = section('HTTP agents and servers: policy overrides plus pool settings.', {
  maxSocketAge: describedDuration(
    'Close a pooled socket after this long, even if busy between requests.',
  ).optional(),
  maxRequestsPerSocket: z
    .number({ error: MAX_REQUESTS_RULE })
    .int({ error: MAX_REQUESTS_RULE })
    .min(1, { error: MAX_REQUESTS_RULE })
    .max(Number.MAX_SAFE_INTEGER, { error: MAX_REQUESTS_RULE })
    .meta({ description: 'Requests served on one socket before it is closed.' })
    .optional(),
  serverKeepAliveTimeout: describedDuration(
    "The server's idle keep-alive timeout (server.keepAliveTimeout): how long it keeps an idle connection.",
  ).optional(),
})

export const mqttSectionSchema = section('MQTT: policy overrides plus PINGRESP wait.', {
  pingrespTimeout: describedDuration(
    'How long to wait for PINGRESP before the broker counts as silent.',
  ).optional(),
})

export const sshSectionSchema = section('SSH (ssh2, OpenSSH): policy overrides.', {})

export const pathSchema = z
  .strictObject(
    {
      idleTimeout: describedDuration(
        'The shortest idle timeout of any NAT, firewall or load balancer on the path. Every idle must stay below it.',
      ).optional(),
    },
    { error: 'must be a mapping { idleTimeout? }' },
  )
  .meta({ description: 'What the network path between the peers does to idle connections.' })

export const configFileSchema = z
  .strictObject(
    {
      $schema: z.string({ error: 'must be a string (the URL or path of the JSON Schema)' }).optional(),
      policy: policyLikeSchema.optional(),
      path: pathSchema.optional(),
      tcp: tcpSectionSchema.optional(),
      http: httpSectionSchema.optional(),
      mqtt: mqttSectionSchema.optional(),
      ssh: sshSectionSchema.optional(),
    },
    { error: 'must be a mapping with the keys policy, path, tcp, http, mqtt, ssh' },
  )
  .meta({
    title: 'keepalive config',
    description:
      'Shared keepalive configuration (@keepalive/core): one policy for TCP, HTTP, MQTT and SSH, with per-protocol overrides.',
  })

/** A config file after validation: durations in ms. The public section types (config-types.ts) derive from these schemas. */
export type ConfigFile = z.output<typeof configFileSchema>

/** Each protocol's section schema, for checking a section on its own (policyFor). */
export const sectionSchemas = {
  tcp: tcpSectionSchema,
  http: httpSectionSchema,
  mqtt: mqttSectionSchema,
  ssh: sshSectionSchema,
} as const

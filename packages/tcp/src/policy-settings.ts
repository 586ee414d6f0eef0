/** core's tcpSettings for any PolicyLike, computed once per policy (core's memoizeByPolicy). */
import { tcpSettings } from '@keepalive/core'
import { memoizeByPolicy } from '@keepalive/core/internal'

/** core's tcpSettings for any PolicyLike; throws InvalidPolicyError from definePolicy, whatever the input. */
export const settingsFor = memoizeByPolicy(tcpSettings)

/** `configureScheduler` and `schedulerInfo`: the public face of the shared scheduler (./scheduler.ts). */
import { InvalidArgumentError } from '../errors.js'
import { describeValue } from '../schema/describe-value.js'
import { readOptions } from '../schema/read-options.js'
import { type SchedulerInfo, type SchedulerOptions, schedulerInfo, setTickMs } from './scheduler.js'

export type { SchedulerInfo, SchedulerOptions }
export { schedulerInfo }

/**
 * Sets the shared scheduler's tick (default 10 ms): the precision of every deadline, and the grid on which monitors
 * due close together share one wake-up. Only while no monitor is running; throws otherwise.
 */
export function configureScheduler(options: SchedulerOptions): SchedulerInfo {
  const { tickMs } = readOptions('configureScheduler', options, ['tickMs'])
  if (tickMs !== undefined) {
    if (typeof tickMs !== 'number' || !Number.isInteger(tickMs) || tickMs < 1 || tickMs > 1000) {
      throw new InvalidArgumentError(
        `configureScheduler: tickMs must be an integer from 1 to 1000 (ms), got ${describeValue(tickMs)}`,
      )
    }
    if (!setTickMs(tickMs)) {
      throw new InvalidArgumentError(
        `configureScheduler: cannot change the tick while ${schedulerInfo().monitors} monitors are running`,
      )
    }
  }
  return schedulerInfo()
}

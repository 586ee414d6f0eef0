/** The demo's scenarios, one module per protocol, in the order of the table. */
import type { Scenario } from '../scenario.js'
import { httpScenario } from './http.js'
import { mqttScenario } from './mqtt.js'
import { sshScenario } from './ssh.js'
import { tcpKernel, tcpMonitor } from './tcp.js'

export const SCENARIOS: readonly Scenario[] = [tcpKernel, tcpMonitor, httpScenario, mqttScenario, sshScenario]

/** Every scenario a child process may be asked to start, adapters and --compare's anchors alike. */
export { ANCHORS } from './anchors.js'

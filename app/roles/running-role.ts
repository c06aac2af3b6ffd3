import type { Logger } from 'pino'
import type { Config } from '../config.js'
import { ApiRole } from './api.js'
import type { PartName } from './control-plane.js'
import { EdgeRole } from './edge.js'
import { ShipperRole } from './shipper.js'
import { WorkerRole } from './worker.js'

/** What a started role listens on (0: not this role's). */
export interface RolePorts {
  readonly mqttPort: number
  readonly mqttsPort: number
  readonly httpPort: number
}

export interface RunningRole {
  start(): Promise<RolePorts>
  stop(): Promise<void>
}

/**
 * One role, or the worker's shipping half, built from the configuration alone: what a thread of
 * `siteward serve` runs. `peers`: the parts beside it whose reports the API gathers.
 */
export function runningRole(
  name: PartName,
  config: Config,
  logger: Logger,
  options: {
    readonly tls: { readonly key: Buffer; readonly cert: Buffer } | null
    readonly consoleDir: string
    readonly peers: readonly PartName[]
    /** The role can no longer do its work (the worker's rules, the shipper's loop). */
    readonly onFatal: (error: Error) => void
  },
): RunningRole {
  switch (name) {
    case 'edge': {
      const edge = new EdgeRole(config, logger, options.tls)
      return {
        start: async () => {
          await edge.start()
          return { ...none, mqttPort: edge.broker.port, mqttsPort: edge.broker.tlsPort }
        },
        stop: () => edge.stop(),
      }
    }
    case 'worker':
      return listeningOnNothing(new WorkerRole(config, logger, options.onFatal))
    case 'shipper':
      return listeningOnNothing(new ShipperRole(config, logger, options.onFatal))
    case 'api': {
      const api = new ApiRole(config, logger, options)
      return {
        start: async () => {
          await api.start()
          return { ...none, httpPort: api.port }
        },
        stop: () => api.stop(),
      }
    }
  }
}

const none: RolePorts = { mqttPort: 0, mqttsPort: 0, httpPort: 0 }

/** The worker's threads: they listen on no port. */
function listeningOnNothing(part: { start(): Promise<void>; stop(): Promise<void> }): RunningRole {
  return {
    start: async () => {
      await part.start()
      return none
    },
    stop: () => part.stop(),
  }
}

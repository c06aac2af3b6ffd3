import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Observable } from 'rxjs'
import type { Reading } from '../domain/reading.js'
import type { Config } from './config.js'
import { projectRoot } from './project-root.js'
import { ApiRole } from './roles/api.js'
import { EdgeRole } from './roles/edge.js'
import { ShipperRole } from './roles/shipper.js'
import { WorkerRole } from './roles/worker.js'

export { registryDatabasePath } from './roles/role-storage.js'

/** `npm run build` writes the console here. */
export const consoleBuildDir = join(projectRoot(), 'dist', 'console')

/** Certificate and key, read once (SITEWARD_TLS_*_FILE). */
export function tlsOf(config: Config): { readonly key: Buffer; readonly cert: Buffer } | null {
  return config.tls === null
    ? null
    : { key: readFileSync(config.tls.keyFile), cert: readFileSync(config.tls.certFile) }
}

/**
 * The three roles (app/roles: edge, worker with its shipper, api) in one thread, sharing nothing
 * but the data folder: the log the edge writes and the worker reads, and the store each opens
 * for itself. This is what the tests and the demo run; `siteward serve` runs each in a thread of
 * its own (app/serve.ts) from the same classes. Started edge, worker, shipper, api; stopped in
 * the order of what must drain: api, edge (every acknowledged message on disk), worker (projects
 * the rest), shipper (ships what the store takes).
 */
export class Engine {
  readonly config: Config
  private readonly logger: Logger
  private roles: { edge: EdgeRole; worker: WorkerRole; shipper: ShipperRole; api: ApiRole } | null = null
  private started = false
  /** Why a role could no longer work; the engine stops (or does not start) with it. */
  private failure: Error | null = null
  private stopping: Promise<void> | null = null

  constructor(config: Config, logger: Logger) {
    this.config = config
    this.logger = logger
  }

  /** Every validated reading, in log order; subscribe before `start` to see the replayed tail too. */
  get readings$(): Observable<Reading> {
    return this.prepare().worker.projector.readings$
  }

  get mqttPort(): number {
    return this.started ? (this.roles?.edge.broker.port ?? 0) : 0
  }

  get mqttsPort(): number {
    return this.started ? (this.roles?.edge.broker.tlsPort ?? 0) : 0
  }

  get httpPort(): number {
    return this.roles?.api.port ?? 0
  }

  get httpApp(): FastifyInstance {
    return this.prepare().api.httpApp
  }

  /** Publishes as the engine (alerts; commands to devices): not subject to the device ACL. */
  publish(packet: { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean }): Promise<void> {
    if (!this.started || this.roles === null) return Promise.reject(new Error('engine is not started'))
    return this.roles.edge.broker.publish(packet)
  }

  /** Listens on the broker as the engine: for diagnostics and the MQTT conformance suite. */
  tap(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>> {
    if (!this.started || this.roles === null) return Promise.reject(new Error('engine is not started'))
    return this.roles.edge.broker.subscribe(filter, onMessage)
  }

  /** Starts every role, or none: a listener that cannot start stops what already runs. */
  async start(): Promise<void> {
    try {
      const { edge, worker, shipper, api } = this.prepare()
      if (this.failure !== null) throw this.failure
      await edge.start()
      this.started = true
      await worker.start()
      await shipper.start()
      await api.start()
      if (this.failure !== null) throw this.failure
    } catch (error) {
      await this.stop().catch((stopError: unknown) =>
        this.logger.error({ err: stopError }, 'stopping after a failed start failed too'),
      )
      throw error
    }
  }

  /** Escalates overdue alerts; deadlines come from stored times, so a restart misses none. */
  escalate(): Promise<number> {
    return this.prepare().worker.escalate()
  }

  /** Once: a role's failure may have begun it before the caller asks. */
  stop(): Promise<void> {
    this.stopping ??= this.stopRoles()
    return this.stopping
  }

  private async stopRoles(): Promise<void> {
    const roles = this.roles
    if (roles !== null) {
      await roles.api.stop()
      await roles.edge.stop()
      await roles.worker.stop()
      await roles.shipper.stop()
    }
    this.started = false
    this.logger.info('engine stopped')
  }

  /** A role can no longer work: no half-alive engine acknowledging what nothing evaluates. */
  private fail(error: Error): void {
    if (this.failure !== null) return
    this.failure = error
    if (this.started)
      void this.stop().catch((stopError: unknown) =>
        this.logger.error({ err: stopError }, 'stopping after a role failed failed too'),
      )
  }

  /** The roles built: the edge first (it opens and repairs the log the worker reads). */
  private prepare() {
    if (this.roles === null) {
      const tls = tlsOf(this.config)
      const edge = new EdgeRole(this.config, this.logger, tls)
      const worker = new WorkerRole(this.config, this.logger, (error) => this.fail(error))
      const shipper = new ShipperRole(this.config, this.logger, (error) => this.fail(error))
      const api = new ApiRole(this.config, this.logger, {
        tls,
        consoleDir: consoleBuildDir,
        peers: ['edge', 'worker', 'shipper'],
      })
      this.roles = { edge, worker, shipper, api }
    }
    return this.roles
  }
}

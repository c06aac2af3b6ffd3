import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Observable } from 'rxjs'
import type { TelemetryStore } from '../domain/ports.js'
import type { Reading } from '../domain/reading.js'
import { Backpressure } from '../ingest/backpressure.js'
import { IngestState } from '../ingest/ingest-state.js'
import { deliveriesReplayStart, projectorConsumer } from '../ingest/projector.js'
import { InfluxTelemetryStore } from '../storage/influx/influx-telemetry-store.js'
import { SegmentLog } from '../storage/log/segment-log.js'
import { openDatabase, type SqliteDatabase } from '../storage/sqlite/database.js'
import { ProjectionRepository } from '../storage/sqlite/projection-repository.js'
import { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import { SettingsRepository } from '../storage/sqlite/settings-repository.js'
import { EmbeddedTelemetryStore } from '../storage/telemetry/embedded-telemetry-store.js'
import { shipperConsumer } from '../storage/telemetry/telemetry-shipper.js'
import type { Config } from './config.js'
import { createMetrics } from './metrics.js'
import { projectRoot } from './project-root.js'
import { readinessChecks } from './readiness.js'
import { ApiRole } from './roles/api.js'
import { EdgeRole } from './roles/edge.js'
import { WorkerRole } from './roles/worker.js'
import { expectedIntervals, loadRuleCatalogue } from './rule-catalogue.js'
import { RuleViews } from './rule-views.js'
import { SettingsService } from './settings-service.js'

/** How often the engine looks for threshold changes made by the CLI. */
const settingsPollMs = 2_000

/** `npm run build` writes the console here. */
const consoleBuildDir = join(projectRoot(), 'dist', 'console')

export const registryDatabasePath = (dataDir: string) => join(dataDir, 'siteward.db')

interface Roles {
  readonly worker: WorkerRole
  readonly edge: EdgeRole
  readonly api: ApiRole
}

/**
 * The composition root of `siteward serve`: the storage the roles share (the write-ahead log and
 * the store), ingest state recovered from them, and the three roles (app/roles: worker, edge,
 * api), started in that order and stopped in reverse. Nothing else calls `new` on a service.
 */
export class Engine {
  readonly config: Config
  private readonly logger: Logger
  private readonly db: SqliteDatabase
  private readonly log: SegmentLog
  private readonly projection: ProjectionRepository
  private readonly registry: RegistryRepository
  private readonly telemetry: TelemetryStore
  private readonly metrics: ReturnType<typeof createMetrics>
  private readonly backpressure: Backpressure
  /** Certificate and key, read once at construction (SITEWARD_TLS_*_FILE). */
  private readonly tls: { readonly key: Buffer; readonly cert: Buffer } | null
  private roles: Roles | null = null
  private started = false
  private settings: SettingsService | null = null
  private settingsTimer: NodeJS.Timeout | null = null

  constructor(config: Config, logger: Logger) {
    this.config = config
    this.logger = logger
    this.db = openDatabase(registryDatabasePath(config.dataDir))
    this.projection = new ProjectionRepository(this.db)
    this.registry = new RegistryRepository(this.db)
    this.log = new SegmentLog({
      dir: join(config.dataDir, 'wal'),
      segmentBytes: config.wal.segmentBytes,
      lingerMs: config.wal.commitMs,
      logger: logger.child({ component: 'wal' }),
    })
    this.telemetry =
      config.influx === null
        ? new EmbeddedTelemetryStore({
            path: join(config.dataDir, 'telemetry.db'),
            retentionDays: config.telemetryRetentionDays,
            logger,
          })
        : new InfluxTelemetryStore(config.influx, logger.child({ component: 'influx' }))
    this.tls =
      config.tls === null
        ? null
        : { key: readFileSync(config.tls.keyFile), cert: readFileSync(config.tls.certFile) }
    this.backpressure = new Backpressure({
      diskBytes: () => this.log.diskBytes,
      maxBytes: config.wal.maxBytes,
    })
    this.metrics = createMetrics({
      logFullness: () => this.backpressure.fullness,
      logDepthBytes: () => ({
        [projectorConsumer]:
          this.log.endPosition - (this.roles?.worker.projector.cursor ?? this.log.endPosition),
        [shipperConsumer]:
          this.log.endPosition - (this.roles?.worker.telemetryShipper?.cursor ?? this.log.endPosition),
      }),
      logDiskBytes: () => this.log.diskBytes,
      shipperLagSeconds: () => this.roles?.worker.telemetryShipper?.lagSeconds() ?? 0,
      connectedClients: () => (this.started ? (this.roles?.edge.broker.connectedClients ?? 0) : 0),
    })
  }

  /** Every validated reading, in log order; subscribe before `start` to see the replayed tail too. */
  get readings$(): Observable<Reading> {
    return this.requireRoles().worker.projector.readings$
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
    return this.requireRoles().api.httpApp
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

  /** Storage and ingest state, recovered from the last snapshot plus the log's tail; the roles built. */
  prepare(): void {
    if (this.roles !== null) return
    this.log.start()
    const state = this.recoverIngestState()
    const rules = loadRuleCatalogue(this.config.rulesDir)
    const settings = new SettingsService(new SettingsRepository(this.db), this.registry, rules)
    this.settings = settings
    settings.applyBaselines(state, Date.now())
    settings.onReload(() => settings.applyBaselines(state, Date.now()))
    const shared = { config: this.config, logger: this.logger, db: this.db, log: this.log }
    const worker = new WorkerRole({
      ...shared,
      projection: this.projection,
      registry: this.registry,
      telemetry: this.telemetry,
      metrics: this.metrics,
      state,
      settings,
      rules,
    })
    const edge = new EdgeRole({
      ...shared,
      registry: this.registry,
      state,
      backpressure: this.backpressure,
      metrics: this.metrics,
      tls: this.tls,
    })
    const api = new ApiRole({
      ...shared,
      tls: this.tls,
      consoleDir: consoleBuildDir,
      services: {
        registry: this.registry,
        state,
        log: this.log,
        backpressure: this.backpressure,
        settings,
        rules: new RuleViews({ rules, registry: this.registry, settings, projection: this.projection }),
        telemetry: this.telemetry,
        escalation: this.config.escalation,
        projection: this.projection,
        expectedIntervalMs: expectedIntervals(rules),
        readiness: () => readinessChecks(this.readinessParts()),
        metrics: { contentType: this.metrics.contentType, render: () => this.metrics.render() },
        credentialsChanged: () => edge.recheckCredentials(),
      },
    })
    // In one process whoever commits an alert change rings the others; apart, they poll.
    for (const alerts of [worker.alerts, api.alerts])
      alerts.changes$.subscribe(() => {
        edge.alertFeed.ring()
        api.alertFeed.ring()
        worker.alertsCommitted()
      })
    this.roles = { worker, edge, api }
  }

  /** Starts every part, or none: a listener that cannot start stops what already runs. */
  async start(): Promise<void> {
    try {
      this.prepare()
      const { worker, edge, api } = this.requireRoles()
      await worker.start()
      await edge.start()
      this.started = true
      await api.start()
      this.settingsTimer = setInterval(() => this.refreshSettings(), settingsPollMs)
      this.settingsTimer.unref()
    } catch (error) {
      await this.stop().catch((stopError: unknown) =>
        this.logger.error({ err: stopError }, 'stopping after a failed start failed too'),
      )
      throw error
    }
  }

  /** Escalates overdue alerts; deadlines come from stored times, so a restart misses none. */
  escalate(): number {
    return this.requireRoles().worker.escalate()
  }

  /** Stops in reverse order: no new messages, flush the log, project and ship what is left. */
  async stop(): Promise<void> {
    if (this.settingsTimer !== null) clearInterval(this.settingsTimer)
    const roles = this.roles
    if (roles !== null) {
      await roles.api.stop()
      await roles.edge.stop() // every acknowledged message on disk (safe on a broker that never listened)
      await roles.worker.stop() // projects and ships the rest
    }
    this.started = false
    await this.log.stop()
    roles?.worker.trimLog()
    await this.telemetry.stop()
    this.db.close()
    this.logger.info('engine stopped')
  }

  /** The delivery memory is saved every few seconds, the pit series with every batch: the log
   * from the memory's snapshot to the projector's cursor replays into the first only. */
  private recoverIngestState(): IngestState {
    const state = new IngestState(
      { deliveries: this.projection.loadDeliveries(), pitPoints: this.projection.loadPitPoints() },
      this.config.pitRateWindow,
    )
    const projected = this.projection.get(projectorConsumer)
    let replayed = 0
    for (let position = Math.min(deliveriesReplayStart(this.projection), projected); ; ) {
      const { records, next } = this.log.readFrom(position, 10_000)
      if (records.length === 0) break
      for (const { record, position: at } of records) {
        if (at < projected) state.replayDeliveries(record)
        else state.replay(record)
      }
      replayed += records.length
      position = next
    }
    if (replayed > 0)
      this.logger.info({ records: replayed }, 'replayed the write-ahead log tail into ingest state')
    return state
  }

  /** Threshold changes another connection (the CLI) committed. */
  private refreshSettings(): void {
    try {
      if (this.settings?.refreshIfChanged() === true) this.logger.info('threshold settings changed; reloaded')
    } catch (error) {
      this.logger.error({ err: error }, 'reloading settings failed; will retry')
    }
  }

  private requireRoles(): Roles {
    if (this.roles === null) throw new Error('engine is not prepared')
    return this.roles
  }

  private readinessParts() {
    const { log, backpressure, db, telemetry } = this
    const broker = this.started ? (this.roles?.edge.broker ?? null) : null
    const shipper = this.roles?.worker.telemetryShipper ?? null
    return { broker, log, backpressure, db, shipper, telemetry }
  }
}

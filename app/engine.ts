import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Observable } from 'rxjs'
import { AlertFeed } from '../alerts/alert-feed.js'
import { AlertPublication } from '../alerts/alert-publication.js'
import { AlertService } from '../alerts/alert-service.js'
import { buildApi } from '../api/app.js'
import { ListenerError } from '../domain/errors.js'
import type { TelemetryStore } from '../domain/ports.js'
import type { Reading } from '../domain/reading.js'
import type { Rule } from '../domain/rules.js'
import { Backpressure } from '../ingest/backpressure.js'
import { Broker } from '../ingest/broker.js'
import { deadLetterRetention } from '../ingest/dead-letter-budget.js'
import { DeviceAuthenticator } from '../ingest/device-auth.js'
import { IngestState } from '../ingest/ingest-state.js'
import { deliveriesReplayStart, Projector, projectorConsumer } from '../ingest/projector.js'
import { evaluateRules } from '../rules/pipeline.js'
import { RuleStates, type StoredRuleState } from '../rules/rule-states.js'
import { InfluxTelemetryStore } from '../storage/influx/influx-telemetry-store.js'
import { SegmentLog } from '../storage/log/segment-log.js'
import { AlertRepository } from '../storage/sqlite/alert-repository.js'
import { AlertTimelinePoints } from '../storage/sqlite/alert-timeline-points.js'
import { openDatabase, type SqliteDatabase } from '../storage/sqlite/database.js'
import { ProjectionRepository } from '../storage/sqlite/projection-repository.js'
import { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import { RuleStateRepository } from '../storage/sqlite/rule-state-repository.js'
import { SettingsRepository } from '../storage/sqlite/settings-repository.js'
import { AlertEventShipper } from '../storage/telemetry/alert-event-shipper.js'
import { EmbeddedTelemetryStore } from '../storage/telemetry/embedded-telemetry-store.js'
import { shipperConsumer, TelemetryShipper } from '../storage/telemetry/telemetry-shipper.js'
import { apiServicesOf } from './api-services.js'
import type { Config } from './config.js'
import { createMetrics } from './metrics.js'
import { projectRoot } from './project-root.js'
import { readinessChecks } from './readiness.js'
import { expectedIntervals, loadRuleCatalogue } from './rule-catalogue.js'
import { markNotYetReconnected, ruleEnvironment } from './rule-environment.js'
import { RuleViews } from './rule-views.js'
import { SettingsService } from './settings-service.js'

/** Trimming is cheap (whole segments, by cursor) and frees room for backpressure to ease. */
const trimIntervalMs = 1_000
const escalationCheckMs = 5_000
/** How often the engine looks for threshold changes made by the CLI. */
const settingsPollMs = 2_000

/** `npm run build` writes the console here. */
const consoleBuildDir = join(projectRoot(), 'dist', 'console')

export const registryDatabasePath = (dataDir: string) => join(dataDir, 'siteward.db')

/**
 * The composition root: builds every service and starts them in order (storage → shipper →
 * projector → broker → API), stopping them in reverse. Nothing else calls `new` on a service.
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
  private readonly alertStore: AlertRepository
  private readonly ruleStateStore: RuleStateRepository
  private ruleStates = new RuleStates()
  private alerts: AlertService | null = null
  private rules: Rule[] = []
  private ruleSubscription: { unsubscribe(): void } | null = null
  private escalationTimer: NodeJS.Timeout | null = null
  private settingsTimer: NodeJS.Timeout | null = null
  private settings: SettingsService | null = null
  private state: IngestState | null = null
  private projector: Projector | null = null
  private shipper: TelemetryShipper | null = null
  private alertShipper: AlertEventShipper | null = null
  private alertFeed: AlertFeed | null = null
  private alertRings: { unsubscribe(): void } | null = null
  private alertPublication: AlertPublication | null = null
  private alertShipperWake: { unsubscribe(): void } | null = null
  private broker: Broker | null = null
  private api: FastifyInstance | null = null
  private trimTimer: NodeJS.Timeout | null = null
  private prunedAt = 0
  private registryVersion = -1

  constructor(config: Config, logger: Logger) {
    this.config = config
    this.logger = logger
    this.db = openDatabase(registryDatabasePath(config.dataDir))
    this.projection = new ProjectionRepository(this.db)
    this.registry = new RegistryRepository(this.db)
    this.alertStore = new AlertRepository(this.db)
    this.ruleStateStore = new RuleStateRepository(this.db)
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
        [projectorConsumer]: this.log.endPosition - (this.projector?.cursor ?? this.log.endPosition),
        [shipperConsumer]: this.log.endPosition - (this.shipper?.cursor ?? this.log.endPosition),
      }),
      logDiskBytes: () => this.log.diskBytes,
      shipperLagSeconds: () => this.shipper?.lagSeconds() ?? 0,
      connectedClients: () => this.broker?.connectedClients ?? 0,
    })
  }

  /** Every validated reading, in log order; subscribe before `start` to see the replayed tail too. */
  get readings$(): Observable<Reading> {
    if (this.projector === null) throw new Error('engine is not prepared')
    return this.projector.readings$
  }

  get mqttPort(): number {
    return this.broker?.port ?? 0
  }

  /** Publishes as the engine (alerts; commands to devices): not subject to the device ACL. */
  publish(packet: { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean }): Promise<void> {
    if (this.broker === null) return Promise.reject(new Error('engine is not started'))
    return this.broker.publish(packet)
  }

  /** Listens on the broker as the engine: for diagnostics and the MQTT conformance suite. */
  tap(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>> {
    if (this.broker === null) return Promise.reject(new Error('engine is not started'))
    return this.broker.subscribe(filter, onMessage)
  }

  get mqttsPort(): number {
    return this.broker?.tlsPort ?? 0
  }

  get httpPort(): number {
    const address = this.api?.server.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  get httpApp(): FastifyInstance {
    if (this.api === null) throw new Error('engine is not started')
    return this.api
  }

  /** Storage and ingest state, recovered from the last snapshot plus the log's tail. */
  prepare(): void {
    if (this.projector !== null) return
    this.log.start()
    const state = new IngestState(
      { deliveries: this.projection.loadDeliveries(), pitPoints: this.projection.loadPitPoints() },
      this.config.pitRateWindow,
    )
    // The delivery memory is saved every few seconds, the pit series with every batch: the log
    // from the memory's snapshot to the projector's cursor replays into the first only.
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
    this.state = state
    this.projector = new Projector({
      log: this.log,
      cursors: this.projection,
      store: this.projection,
      state,
      logger: this.logger.child({ component: 'projector' }),
      batch: (work) => this.runBatch(work),
      onDeadLetters: (stored, notStored) => this.metrics.deadLetters(stored, notStored),
    })
    this.ruleStates = new RuleStates(this.ruleStateStore.loadAll() as [string, StoredRuleState][])
    this.rules = loadRuleCatalogue(this.config.rulesDir)
    this.settings = new SettingsService(new SettingsRepository(this.db), this.registry, this.rules)
    const settings = this.settings
    settings.applyBaselines(state, Date.now())
    settings.onReload(() => settings.applyBaselines(state, Date.now()))
    this.alerts = new AlertService({
      store: this.alertStore,
      site: (siteId) => this.registry.getSite(siteId),
      logger: this.logger.child({ component: 'alerts' }),
    })
    this.subscribeRules(this.projector, this.alerts, this.settings)
  }

  /**
   * One projected batch as one transaction: the projection and cursor, the alerts its readings
   * raise and the rule state they leave. Announcements wait for the commit; a failure undoes the
   * rule state too, and the projector evaluates the batch again.
   */
  private runBatch(work: () => void): void {
    const transaction = this.db.transaction(() => {
      work()
      this.ruleStateStore.save(this.ruleStates.pending())
    })
    try {
      this.requireAlerts().holdAnnouncements(() => transaction())
    } catch (error) {
      this.ruleStates.rollback()
      throw error
    }
    this.ruleStates.commit()
  }

  /** Readings → rules → alerts; subscribed before the projector starts, so the replayed tail counts too. */
  private subscribeRules(projector: Projector, alerts: AlertService, settings: SettingsService): void {
    const logger = this.logger.child({ component: 'rules' })
    const unknownCodeRules = new Set(
      this.rules.filter((rule) => rule.condition.kind === 'unknown_code').map((rule) => rule.id),
    )
    const environment = ruleEnvironment({
      rules: this.rules,
      settings,
      state: () => this.state,
      projection: this.projection,
      registry: this.registry,
      states: this.ruleStates,
      activeBreaches: this.alertStore.activeBreaches(),
      logger,
    })
    this.ruleSubscription = projector.readings$.pipe(evaluateRules(this.rules, environment)).subscribe({
      next: (signal) => {
        if (signal.signal.type === 'raise' && unknownCodeRules.has(signal.ruleId))
          this.metrics.unknownDeviceCodes.inc({ rule: signal.ruleId })
        // A throw here would end the pipeline (RxJS rethrows it): contain it to this signal.
        try {
          alerts.handle(signal)
        } catch (error) {
          logger.error({ err: error, signal }, 'could not store an alert signal')
        }
      },
      error: (error: unknown) => logger.fatal({ err: error }, 'the rule pipeline stopped'),
    })
  }

  /** Starts every part, or none: a listener that cannot start stops what already runs. */
  async start(): Promise<void> {
    try {
      await this.startParts()
    } catch (error) {
      await this.stop().catch((stopError: unknown) =>
        this.logger.error({ err: stopError }, 'stopping after a failed start failed too'),
      )
      throw error
    }
  }

  private async startParts(): Promise<void> {
    this.prepare()
    const { state, projector } = this
    if (state === null || projector === null) throw new Error('engine is not prepared')
    await this.telemetry.start()
    this.shipper = new TelemetryShipper({
      log: this.log,
      cursors: this.projection,
      store: this.telemetry,
      deadLetters: this.projection,
      metrics: this.metrics.shipper,
      logger: this.logger.child({ component: 'shipper' }),
    })
    this.shipper.start()
    this.alertShipper = new AlertEventShipper({
      source: new AlertTimelinePoints(this.db),
      cursors: this.projection,
      store: this.telemetry,
      metrics: this.metrics.shipper,
      logger: this.logger.child({ component: 'alert-shipper' }),
    })
    this.alertShipper.start()
    const alertShipper = this.alertShipper
    this.alertShipperWake = this.requireAlerts().changes$.subscribe(() => alertShipper.wake())
    projector.start()
    await markNotYetReconnected(this.registry, this.log, Date.now())
    this.broker = new Broker({
      host: this.config.mqtt.host,
      port: this.config.mqtt.port,
      connectTimeoutMs: this.config.mqtt.connectTimeoutMs,
      maxUnauthenticated: this.config.mqtt.maxUnauthenticated,
      maxUnauthenticatedPerAddress: this.config.mqtt.maxUnauthenticatedPerAddress,
      authenticator: new DeviceAuthenticator((id) => this.registry.getCredentials(id)),
      state,
      log: this.log,
      metrics: this.metrics.ingest,
      backpressure: this.backpressure,
      ...(this.tls === null ? {} : { tls: { ...this.tls, port: this.config.tls?.mqttsPort ?? 8883 } }),
      logger: this.logger.child({ component: 'mqtt' }),
    })
    await this.broker.start()
    const alertFeed = new AlertFeed({
      store: this.alertStore,
      logger: this.logger.child({ component: 'alerts' }),
    })
    this.alertFeed = alertFeed
    alertFeed.start()
    this.alertRings = this.requireAlerts().changes$.subscribe(() => alertFeed.ring())
    const broker = this.broker
    this.alertPublication = new AlertPublication({
      feed: alertFeed,
      store: this.alertStore,
      publisher: { publish: (packet) => broker.publish(packet) },
      logger: this.logger.child({ component: 'alerts' }),
    })
    const republished = await this.alertPublication.start()
    if (republished > 0)
      this.logger.info({ alerts: republished }, 'republished retained MQTT copies of the alerts not closed')
    this.api = await buildApi(
      apiServicesOf({
        registry: this.registry,
        state,
        log: this.log,
        backpressure: this.backpressure,
        alerts: this.requireAlerts(),
        alertChanges: alertFeed.changes$,
        settings: this.requireSettings(),
        rules: new RuleViews({
          rules: this.rules,
          registry: this.registry,
          settings: this.requireSettings(),
          projection: this.projection,
        }),
        telemetry: this.telemetry,
        escalation: this.config.escalation,
        projection: this.projection,
        expectedIntervalMs: expectedIntervals(this.rules),
        readiness: () => readinessChecks(this.readinessParts()),
        metrics: { contentType: this.metrics.contentType, render: () => this.metrics.render() },
        credentialsChanged: () => this.broker?.recheckCredentials(),
      }),
      this.logger,
      {
        requestsPerMinute: this.config.http.requestsPerMinute,
        trustProxy: this.config.http.trustProxy,
        tls: this.tls ?? undefined,
        consoleDir: consoleBuildDir,
      },
    )
    await this.api
      .listen({ host: this.config.http.host, port: this.config.http.port })
      .catch((error: unknown) => {
        throw new ListenerError('HTTP', this.config.http.host, this.config.http.port, error)
      })
    this.logger.info(
      { host: this.config.http.host, port: this.httpPort, https: this.tls !== null },
      this.tls === null ? 'HTTP API listening' : 'HTTPS API listening',
    )
    this.trimTimer = setInterval(() => this.housekeep(), trimIntervalMs)
    this.trimTimer.unref()
    this.settingsTimer = setInterval(() => this.refreshSettings(), settingsPollMs)
    this.settingsTimer.unref()
    this.escalationTimer = setInterval(() => this.escalate(), escalationCheckMs)
    this.escalationTimer.unref()
    this.escalate()
  }

  /** What another connection (the CLI) committed: thresholds, and devices disabled or re-keyed. */
  private refreshSettings(): void {
    try {
      if (this.settings?.refreshIfChanged() === true) this.logger.info('threshold settings changed; reloaded')
      const version = this.db.pragma('data_version', { simple: true }) as number
      if (version !== this.registryVersion) {
        this.registryVersion = version
        this.broker?.recheckCredentials()
      }
    } catch (error) {
      this.logger.error({ err: error }, 'reloading settings and credentials failed; will retry')
    }
  }

  private requireSettings(): SettingsService {
    if (this.settings === null) throw new Error('engine is not prepared')
    return this.settings
  }

  private requireAlerts(): AlertService {
    if (this.alerts === null) throw new Error('engine is not prepared')
    return this.alerts
  }

  /** Escalates overdue alerts; deadlines come from stored times, so a restart misses none. */
  escalate(): number {
    try {
      return this.alerts?.escalateDue(this.config.escalation) ?? 0
    } catch (error) {
      this.logger.error({ err: error }, 'escalation check failed; will retry')
      return 0
    }
  }

  /** Stops in reverse order: no new messages, flush the log, project and ship what is left. */
  async stop(): Promise<void> {
    if (this.trimTimer !== null) clearInterval(this.trimTimer)
    if (this.escalationTimer !== null) clearInterval(this.escalationTimer)
    if (this.settingsTimer !== null) clearInterval(this.settingsTimer)
    await this.api?.close()
    this.alertPublication?.stop()
    this.alertRings?.unsubscribe()
    this.alertFeed?.stop()
    await this.broker?.stop()
    await this.log.flush() // every acknowledged message on disk before the last projection
    this.projector?.stop() // projects the rest; the rules and alerts see it
    this.ruleSubscription?.unsubscribe()
    this.alerts?.stop()
    await this.log.stop() // includes the alert events of that last projection
    await this.shipper?.stop()
    this.alertShipperWake?.unsubscribe()
    await this.alertShipper?.stop()
    this.trimLog()
    await this.telemetry.stop()
    this.db.close()
    this.logger.info('engine stopped')
  }

  /** Every second: trim the log; every minute: prune dead letters. */
  private housekeep(): void {
    this.trimLog()
    const now = Date.now()
    if (now - this.prunedAt < 60_000) return
    this.prunedAt = now
    try {
      const removed = this.projection.pruneDeadLetters(
        now - deadLetterRetention.maxAgeMs,
        deadLetterRetention.perDevice,
      )
      if (removed > 0) this.metrics.deadLettersPruned(removed)
    } catch (error) {
      this.logger.error({ err: error }, 'pruning dead letters failed')
    }
  }

  private trimLog(): void {
    const projector = this.projector?.replayFrom ?? 0
    const shipper = this.shipper?.cursor ?? 0
    try {
      const removed = this.log.trimBefore(Math.min(projector, shipper))
      if (removed > 0) this.logger.debug({ segments: removed }, 'trimmed write-ahead log')
    } catch (error) {
      this.logger.error({ err: error }, 'trimming the write-ahead log failed')
    }
  }

  private readinessParts() {
    const { broker, log, backpressure, db, shipper, telemetry } = this
    return { broker, log, backpressure, db, shipper, telemetry }
  }
}

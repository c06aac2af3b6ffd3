import type { Logger } from 'pino'
import { AlertService } from '../../alerts/alert-service.js'
import type { TelemetryStore } from '../../domain/ports.js'
import type { Rule } from '../../domain/rules.js'
import { deadLetterRetention } from '../../ingest/dead-letter-budget.js'
import type { IngestState } from '../../ingest/ingest-state.js'
import { Projector, projectorConsumer } from '../../ingest/projector.js'
import { evaluateRules } from '../../rules/pipeline.js'
import { RuleStates, type StoredRuleState } from '../../rules/rule-states.js'
import { LogReader } from '../../storage/log/log-reader.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { AlertTimelinePoints } from '../../storage/sqlite/alert-timeline-points.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { RuleStateRepository } from '../../storage/sqlite/rule-state-repository.js'
import { SettingsRepository } from '../../storage/sqlite/settings-repository.js'
import { AlertEventShipper } from '../../storage/telemetry/alert-event-shipper.js'
import { shipperConsumer, TelemetryShipper } from '../../storage/telemetry/telemetry-shipper.js'
import type { Config } from '../config.js'
import { workerMetrics } from '../metrics.js'
import { workerReadiness } from '../readiness.js'
import { loadRuleCatalogue } from '../rule-catalogue.js'
import { ruleEnvironment } from '../rule-environment.js'
import { SettingsService } from '../settings-service.js'
import { ControlPlane } from './control-plane.js'
import { Doorbell } from './doorbell.js'
import { logDir, recoverIngestState, registryDatabasePath, telemetryStoreOf } from './role-storage.js'

const escalationCheckMs = 5_000
const pruneEveryMs = 60_000
const housekeepingMs = 1_000

/**
 * The worker role (issue 14): reads the log the edge writes, in order, and does everything a
 * reading leads to: projection, rules, alerts and their escalation, and shipping telemetry and
 * alert events to the telemetry store. Its store connection, ingest state and telemetry client
 * are its own. It starts its consumers in order and stops them in reverse.
 */
export class WorkerRole {
  readonly projector: Projector
  private readonly config: Config
  private readonly logger: Logger
  private readonly db: SqliteDatabase
  private readonly reader: LogReader
  private readonly projection: ProjectionRepository
  private readonly registry: RegistryRepository
  private readonly telemetry: TelemetryStore
  private readonly metrics: ReturnType<typeof workerMetrics>
  private readonly settings: SettingsService
  private readonly rules: readonly Rule[]
  private readonly alerts: AlertService
  private readonly alertStore: AlertRepository
  private readonly ruleStateStore: RuleStateRepository
  private readonly ruleStates: RuleStates
  private readonly alertsRung: Doorbell
  private readonly settingsRung: Doorbell
  private readonly state: IngestState
  private ruleSubscription: { unsubscribe(): void } | null = null
  private shipper: TelemetryShipper | null = null
  private alertShipper: AlertEventShipper | null = null
  private controlPlane: ControlPlane | null = null
  private timers: NodeJS.Timeout[] = []
  private prunedAt = 0
  private shippersStarted: Promise<void> = Promise.resolve()
  private stopping = false

  /**
   * Opens the store and the log (the edge's, read up to its durable end), recovers its ingest
   * state up to the projector's cursor, builds the projector and subscribes the rules at once, so
   * that whatever the projector reads is evaluated.
   */
  constructor(config: Config, logger: Logger) {
    this.config = config
    this.logger = logger
    this.db = openDatabase(registryDatabasePath(config.dataDir))
    this.projection = new ProjectionRepository(this.db)
    this.registry = new RegistryRepository(this.db)
    this.reader = new LogReader(logDir(config.dataDir))
    this.reader.start()
    const state = recoverIngestState({
      projection: this.projection,
      log: this.reader,
      config,
      logger,
      upToProjected: true,
    })
    this.state = state
    this.telemetry = telemetryStoreOf(config, logger, { owner: true })
    this.rules = loadRuleCatalogue(config.rulesDir)
    this.settings = new SettingsService(new SettingsRepository(this.db), this.registry, this.rules)
    this.settings.applyBaselines(state, Date.now())
    this.settings.onReload(() => this.settings.applyBaselines(state, Date.now()))
    this.metrics = workerMetrics({
      logDepthBytes: () => ({
        [projectorConsumer]: Math.max(0, this.reader.endPosition - this.projector.cursor),
        [shipperConsumer]: Math.max(
          0,
          this.reader.endPosition - (this.shipper?.cursor ?? this.reader.endPosition),
        ),
      }),
      shipperLagSeconds: () => this.shipper?.lagSeconds() ?? 0,
    })
    this.alertStore = new AlertRepository(this.db)
    this.ruleStateStore = new RuleStateRepository(this.db)
    this.ruleStates = new RuleStates(this.ruleStateStore.loadAll() as [string, StoredRuleState][])
    this.projector = new Projector({
      log: this.reader,
      cursors: this.projection,
      store: this.projection,
      state,
      logger: logger.child({ component: 'projector' }),
      batch: (work) => this.runBatch(work),
      onDeadLetters: (stored, notStored) => this.metrics.deadLetters(stored, notStored),
    })
    this.alerts = new AlertService({
      store: this.alertStore,
      site: (siteId) => this.registry.getSite(siteId),
      logger: logger.child({ component: 'alerts' }),
    })
    this.alertsRung = new Doorbell(config.dataDir, 'alerts')
    this.settingsRung = new Doorbell(config.dataDir, 'settings')
    this.subscribeRules()
  }

  /**
   * The rules first: the projector starts at once, and the shippers once the telemetry store has
   * started (InfluxDB may take its request timeout to answer, or not be there: the log spools).
   */
  async start(): Promise<void> {
    this.alerts.changes$.subscribe(() => {
      this.alertsRung.ring()
      this.alertShipper?.wake()
    })
    // An alert committed anywhere (a person's action in the API too) is shipped soon.
    this.alertsRung.onRing(() => this.alertShipper?.wake())
    this.settingsRung.onRing(() => this.refreshSettings())
    this.projector.start()
    this.controlPlane = new ControlPlane(this.config.dataDir, 'worker', {
      readiness: () => workerReadiness({ shipper: this.shipper, telemetry: this.telemetry }),
      metrics: () => this.metrics.render(),
    })
    this.every(housekeepingMs, () => this.pruneDeadLetters())
    this.every(escalationCheckMs, () => this.escalate())
    this.escalate()
    this.shippersStarted = this.telemetry.start().then(() => {
      if (!this.stopping) this.startShippers()
    })
    if (this.telemetry.name === 'embedded')
      await this.shippersStarted // a local file: at once
    else
      this.shippersStarted.catch((error: unknown) =>
        this.logger.error({ err: error }, 'the telemetry shippers could not start; the log keeps everything'),
      )
  }

  private startShippers(): void {
    this.shipper = new TelemetryShipper({
      log: this.reader,
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
      deadLetters: this.projection,
      metrics: this.metrics.shipper,
      logger: this.logger.child({ component: 'alert-shipper' }),
    })
    this.alertShipper.start()
  }

  /** Projects what the log still holds, then ships what it can; the rest waits in the log. */
  async stop(): Promise<void> {
    this.stopping = true
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    this.controlPlane?.close()
    this.projector.stop() // projects the rest; the rules and alerts see it
    this.ruleSubscription?.unsubscribe()
    this.alerts.stop()
    await this.shipper?.stop()
    await this.alertShipper?.stop()
    this.alertsRung.close()
    this.settingsRung.close()
    this.reader.stop()
    await this.telemetry.stop()
    this.db.close()
  }

  /** Escalates overdue alerts; deadlines come from stored times, so a restart misses none. */
  escalate(): number {
    try {
      return this.alerts.escalateDue(this.config.escalation)
    } catch (error) {
      this.logger.error({ err: error }, 'escalation check failed; will retry')
      return 0
    }
  }

  /**
   * One projected batch as one transaction: the projection and cursor, the alerts its readings
   * raise and the rule state they leave. Announcements wait for the commit; a failure undoes the
   * rule state too, and the projector evaluates the batch again. Thresholds committed before the
   * batch began apply to it.
   */
  private runBatch(work: () => void): void {
    this.refreshSettings()
    const transaction = this.db.transaction(() => {
      work()
      this.ruleStateStore.save(this.ruleStates.pending())
    })
    try {
      this.alerts.holdAnnouncements(() => transaction())
    } catch (error) {
      this.ruleStates.rollback()
      throw error
    }
    this.ruleStates.commit()
  }

  private refreshSettings(): void {
    try {
      if (this.settings.refreshIfChanged()) this.logger.info('threshold settings changed; reloaded')
    } catch (error) {
      this.logger.error({ err: error }, 'reloading settings failed; will retry')
    }
  }

  /** Readings → rules → alerts. */
  private subscribeRules(): void {
    const logger = this.logger.child({ component: 'rules' })
    const unknownCodeRules = new Set(
      this.rules.filter((rule) => rule.condition.kind === 'unknown_code').map((rule) => rule.id),
    )
    const environment = ruleEnvironment({
      rules: this.rules,
      settings: this.settings,
      state: () => this.state,
      projection: this.projection,
      registry: this.registry,
      states: this.ruleStates,
      activeBreaches: this.alertStore.activeBreaches(),
      logger,
    })
    this.ruleSubscription = this.projector.readings$.pipe(evaluateRules(this.rules, environment)).subscribe({
      next: (signal) => {
        if (signal.signal.type === 'raise' && unknownCodeRules.has(signal.ruleId))
          this.metrics.unknownDeviceCodes.inc({ rule: signal.ruleId })
        // A throw here would end the pipeline (RxJS rethrows it): contain it to this signal.
        try {
          this.alerts.handle(signal)
        } catch (error) {
          logger.error({ err: error, signal }, 'could not store an alert signal')
        }
      },
      error: (error: unknown) => logger.fatal({ err: error }, 'the rule pipeline stopped'),
    })
  }

  /** Every minute: dead letters past their age or beyond a device's budget. */
  private pruneDeadLetters(): void {
    const now = Date.now()
    if (now - this.prunedAt < pruneEveryMs) return
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

  private every(ms: number, work: () => void): void {
    const timer = setInterval(work, ms)
    timer.unref()
    this.timers.push(timer)
  }
}

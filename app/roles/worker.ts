import type { Logger } from 'pino'
import { AlertService } from '../../alerts/alert-service.js'
import type { ProjectionCommit } from '../../domain/ports.js'
import type { KeyedSignal, Rule } from '../../domain/rules.js'
import { deadLetterRetention } from '../../ingest/dead-letter-budget.js'
import type { IngestState } from '../../ingest/ingest-state.js'
import { Projector, projectorConsumer } from '../../ingest/projector.js'
import { evaluateRules } from '../../rules/pipeline.js'
import { RuleStates, type StoredRuleState } from '../../rules/rule-states.js'
import { LogReader } from '../../storage/log/log-reader.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { SqliteBatchStore } from '../../storage/sqlite/batch-store.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { RuleStateRepository } from '../../storage/sqlite/rule-state-repository.js'
import { SettingsRepository } from '../../storage/sqlite/settings-repository.js'
import { shipperConsumer } from '../../storage/telemetry/telemetry-shipper.js'
import type { Config } from '../config.js'
import { workerMetrics } from '../metrics.js'
import { loadRuleCatalogue } from '../rule-catalogue.js'
import { loadRuleStartup, type RuleStartup, ruleEnvironment } from '../rule-environment.js'
import { SettingsService } from '../settings-service.js'
import { ControlPlane } from './control-plane.js'
import { Doorbell } from './doorbell.js'
import { emptyIngestState, logDir, recoverIngestState, registryDatabasePath } from './role-storage.js'

const escalationCheckMs = 5_000
const pruneEveryMs = 60_000
const housekeepingMs = 1_000

/**
 * The worker role's rules half (issue 14): reads the log the edge writes, in order, and does
 * everything a reading leads to: projection, rules, alerts and their escalation. Shipping
 * telemetry is the role's other half (app/roles/shipper.ts), in a thread of its own, so a
 * breaching reading never waits behind it. Its store connection and ingest state are its own.
 */
export class WorkerRole {
  readonly projector: Projector
  private readonly config: Config
  private readonly logger: Logger
  private readonly db: SqliteDatabase
  private readonly reader: LogReader
  private readonly projection: ProjectionRepository
  private readonly registry: RegistryRepository
  private readonly metrics: ReturnType<typeof workerMetrics>
  private readonly settings: SettingsService
  private readonly rules: readonly Rule[]
  private readonly alerts: AlertService
  private readonly alertStore: AlertRepository
  private readonly batches: SqliteBatchStore
  private readonly ruleStates: RuleStates
  private readonly alertsRung: Doorbell
  private readonly settingsRung: Doorbell
  private readonly state: IngestState
  private ruleSubscription: { unsubscribe(): void } | null = null
  private controlPlane: ControlPlane | null = null
  private timers: NodeJS.Timeout[] = []
  /** While a batch is evaluated: the signals its transaction will write. */
  private heldSignals: KeyedSignal[] | null = null
  /** The signals of the batch evaluated last, until its transaction commits. */
  private unwrittenSignals: KeyedSignal[] = []
  /**
   * Alert writes in the order the rules decided them: a data gap's signal, which comes outside
   * any batch, waits for the batch being written, and the next batch for it.
   */
  private writes: Promise<unknown> = Promise.resolve()
  private prunedAt = 0
  /** The shipper thread's cursor as last read (for the log depth metric). */
  private shipperCursor = 0
  /** Why the rule pipeline ended, if it did: nothing may be projected after that. */
  private pipelineError: Error | null = null

  /**
   * Opens the store and the log (the edge's, read up to its durable end), recovers its ingest
   * state up to the projector's cursor and builds the projector. `onFatal`: the rules can no longer run (their
   * pipeline ended with an error); the worker must not go on projecting readings nothing
   * evaluates: the thread ends and the supervisor stops the engine (no half-alive engine).
   */
  constructor(
    config: Config,
    logger: Logger,
    private readonly onFatal: (error: Error) => void,
  ) {
    this.config = config
    this.logger = logger
    this.db = openDatabase(registryDatabasePath(config.dataDir))
    this.projection = new ProjectionRepository(this.db)
    this.registry = new RegistryRepository(this.db)
    this.reader = new LogReader(logDir(config.dataDir))
    this.reader.start()
    const state = emptyIngestState(config)
    this.state = state
    this.rules = loadRuleCatalogue(config.rulesDir)
    this.settings = new SettingsService(new SettingsRepository(this.db), this.registry, this.rules)
    this.metrics = workerMetrics({
      // Both consumers here, one metric family: the shipper's thread commits its cursor as it
      // ships, and this reads it back every second (housekeeping).
      logDepthBytes: () => ({
        [projectorConsumer]: Math.max(0, this.reader.endPosition - this.projector.cursor),
        [shipperConsumer]: Math.max(0, this.reader.endPosition - this.shipperCursor),
      }),
    })
    this.alertStore = new AlertRepository(this.db)
    const ruleStateStore = new RuleStateRepository(this.db)
    this.ruleStates = new RuleStates(ruleStateStore.loadAll() as [string, StoredRuleState][])
    this.batches = new SqliteBatchStore(this.db, {
      projection: this.projection,
      alerts: this.alertStore,
      ruleStates: ruleStateStore,
    })
    this.projector = new Projector({
      log: this.reader,
      cursors: this.projection,
      store: this.projection,
      state,
      logger: logger.child({ component: 'projector' }),
      batch: (evaluate, commit, evaluated) => this.runBatch(evaluate, commit, evaluated),
      onDeadLetters: (stored, notStored) => this.metrics.deadLetters(stored, notStored),
    })
    this.alerts = new AlertService({
      store: this.alertStore,
      site: (siteId) => this.registry.getSite(siteId),
      logger: logger.child({ component: 'alerts' }),
    })
    this.alertsRung = new Doorbell(config.dataDir, 'alerts')
    this.settingsRung = new Doorbell(config.dataDir, 'settings')
  }

  /**
   * The rules subscribe before the projector starts, so whatever it reads is evaluated; every
   * alert committed rings for the API and the shipper.
   */
  async start(): Promise<void> {
    await this.settings.load()
    await recoverIngestState(this.state, {
      projection: this.projection,
      log: this.reader,
      logger: this.logger,
      upToProjected: true,
    })
    // Configured baselines go into the recovered state, then follow every reload.
    this.settings.applyBaselines(this.state, Date.now())
    this.settings.onReload(() => this.settings.applyBaselines(this.state, Date.now()))
    this.subscribeRules(
      await loadRuleStartup({
        alerts: this.alertStore,
        registry: this.registry,
        projection: this.projection,
      }),
    )
    // A pipeline that failed as it subscribed (its store read at start-up): the worker does not start.
    if (this.pipelineError !== null) throw this.pipelineError
    this.alerts.changes$.subscribe(() => this.alertsRung.ring())
    this.settingsRung.onRing(() => void this.refreshSettings())
    await this.projector.start()
    this.controlPlane = new ControlPlane(this.config.dataDir, 'worker', {
      readiness: async () => [], // it answers, or /readyz reports it as not answering
      metrics: () => this.metrics.render(),
    })
    this.every(housekeepingMs, () => void this.housekeeping())
    this.every(escalationCheckMs, () => void this.escalate())
    await this.escalate()
  }

  /** Projects what the log still holds; its alerts are committed before it returns. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    this.controlPlane?.close()
    await this.projector.stop() // projects the rest; the rules and alerts see it
    await this.writes
    this.ruleSubscription?.unsubscribe()
    this.alerts.stop()
    this.alertsRung.close()
    this.settingsRung.close()
    this.reader.stop()
    this.db.close()
  }

  /** Escalates overdue alerts; deadlines come from stored times, so a restart misses none. */
  async escalate(): Promise<number> {
    try {
      return await this.alerts.escalateDue(this.config.escalation)
    } catch (error) {
      this.logger.error({ err: error }, 'escalation check failed; will retry')
      return 0
    }
  }

  /**
   * One projected batch: its readings go through the rules first, with the signals they give held
   * back; then one transaction writes the projection and cursor, the alerts of those signals and
   * the rule state they leave. The rules' CPU time is spent outside the store's write lock, which
   * the edge, the shipper and the API need too: under province load, evaluating inside the
   * transaction held the lock nearly all the time and starved them past busy_timeout.
   * Announcements wait for the commit. A failed write is tried again later with the same signals
   * (`evaluated`); a failed evaluation undoes the rule state. Thresholds committed before the
   * batch began apply to it.
   */
  private async runBatch(evaluate: () => void, commit: ProjectionCommit, evaluated: boolean): Promise<void> {
    await this.refreshSettings()
    if (!evaluated) {
      const signals: KeyedSignal[] = []
      this.heldSignals = signals
      try {
        evaluate()
      } catch (error) {
        this.ruleStates.rollback()
        throw error
      } finally {
        this.heldSignals = null
      }
      this.unwrittenSignals = signals
    }
    // A failed write keeps the signals and the rule state pending: the projector writes the
    // same batch again, without evaluating it again.
    const signals = this.unwrittenSignals
    const outcome = await this.serially(() =>
      this.batches.commitBatch({
        projection: commit,
        signals,
        ruleStates: this.ruleStates.pending(),
        now: Date.now(),
      }),
    )
    this.unwrittenSignals = []
    this.ruleStates.commit()
    for (const { signal, error } of outcome.failed)
      this.logger.error({ err: error, signal }, 'could not store an alert signal')
    this.alerts.announceCommitted(outcome.changes)
  }

  /** Runs `write` after every alert write decided before it. */
  private serially<T>(write: () => Promise<T>): Promise<T> {
    const result = this.writes.then(write, write)
    this.writes = result.catch(() => undefined)
    return result
  }

  private async refreshSettings(): Promise<void> {
    try {
      if (await this.settings.refreshIfChanged()) this.logger.info('threshold settings changed; reloaded')
    } catch (error) {
      this.logger.error({ err: error }, 'reloading settings failed; will retry')
    }
  }

  /** Readings → rules → alerts. */
  private subscribeRules(startup: RuleStartup): void {
    const logger = this.logger.child({ component: 'rules' })
    const unknownCodeRules = new Set(
      this.rules.filter((rule) => rule.condition.kind === 'unknown_code').map((rule) => rule.id),
    )
    const environment = ruleEnvironment({
      rules: this.rules,
      settings: this.settings,
      state: () => this.state,
      startup,
      states: this.ruleStates,
      logger,
    })
    this.ruleSubscription = this.projector.readings$.pipe(evaluateRules(this.rules, environment)).subscribe({
      next: (signal) => {
        if (signal.signal.type === 'raise' && unknownCodeRules.has(signal.ruleId))
          this.metrics.unknownDeviceCodes.inc({ rule: signal.ruleId })
        // A batch's signals wait for its transaction; a data gap's timer fires outside any batch.
        if (this.heldSignals !== null) this.heldSignals.push(signal)
        else void this.serially(() => this.handleSignal(signal))
      },
      error: (error: unknown) => {
        logger.fatal({ err: error }, 'the rule pipeline stopped; the engine stops')
        this.pipelineError = error instanceof Error ? error : new Error(String(error))
        this.onFatal(this.pipelineError)
      },
    })
  }

  /** A signal outside any batch; its failure is contained to it and logged. */
  private async handleSignal(signal: KeyedSignal): Promise<void> {
    try {
      await this.alerts.handle(signal)
    } catch (error) {
      this.logger.error({ err: error, signal }, 'could not store an alert signal')
    }
  }

  /** Every second: the shipper's cursor; every minute, dead letters past their age or budget. */
  private async housekeeping(): Promise<void> {
    try {
      this.shipperCursor = await this.projection.get(shipperConsumer)
      const now = Date.now()
      if (now - this.prunedAt < pruneEveryMs) return
      this.prunedAt = now
      const removed = await this.projection.pruneDeadLetters(
        now - deadLetterRetention.maxAgeMs,
        deadLetterRetention.perDevice,
      )
      if (removed > 0) this.metrics.deadLettersPruned(removed)
    } catch (error) {
      this.logger.error({ err: error }, 'housekeeping (shipper cursor, dead letter pruning) failed')
    }
  }

  private every(ms: number, work: () => void): void {
    const timer = setInterval(work, ms)
    timer.unref()
    this.timers.push(timer)
  }
}

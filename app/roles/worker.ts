import type { Logger } from 'pino'
import { AlertService } from '../../alerts/alert-service.js'
import type { TelemetryStore } from '../../domain/ports.js'
import type { Rule } from '../../domain/rules.js'
import { deadLetterRetention } from '../../ingest/dead-letter-budget.js'
import type { IngestState } from '../../ingest/ingest-state.js'
import { Projector } from '../../ingest/projector.js'
import { evaluateRules } from '../../rules/pipeline.js'
import { RuleStates, type StoredRuleState } from '../../rules/rule-states.js'
import type { SegmentLog } from '../../storage/log/segment-log.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { AlertTimelinePoints } from '../../storage/sqlite/alert-timeline-points.js'
import type { SqliteDatabase } from '../../storage/sqlite/database.js'
import type { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import type { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { RuleStateRepository } from '../../storage/sqlite/rule-state-repository.js'
import { AlertEventShipper } from '../../storage/telemetry/alert-event-shipper.js'
import { TelemetryShipper } from '../../storage/telemetry/telemetry-shipper.js'
import type { Config } from '../config.js'
import type { createMetrics } from '../metrics.js'
import { ruleEnvironment } from '../rule-environment.js'
import type { SettingsService } from '../settings-service.js'

/** Trimming is cheap (whole segments, by cursor) and frees room for backpressure to ease. */
const housekeepingMs = 1_000
const escalationCheckMs = 5_000

export interface WorkerParts {
  readonly config: Config
  readonly logger: Logger
  readonly db: SqliteDatabase
  readonly log: SegmentLog
  readonly projection: ProjectionRepository
  readonly registry: RegistryRepository
  readonly telemetry: TelemetryStore
  readonly metrics: ReturnType<typeof createMetrics>
  readonly state: IngestState
  readonly settings: SettingsService
  readonly rules: readonly Rule[]
}

/**
 * The worker role (issue 14): reads the log in order and does everything a reading leads to:
 * projection, rules, alerts and their escalation, and shipping telemetry and alert events to the
 * telemetry store. It starts its consumers in order and stops them in reverse.
 */
export class WorkerRole {
  readonly alerts: AlertService
  readonly projector: Projector
  private readonly parts: WorkerParts
  private readonly alertStore: AlertRepository
  private readonly ruleStateStore: RuleStateRepository
  private readonly ruleStates: RuleStates
  private ruleSubscription: { unsubscribe(): void } | null = null
  private shipper: TelemetryShipper | null = null
  private alertShipper: AlertEventShipper | null = null
  private housekeepingTimer: NodeJS.Timeout | null = null
  private escalationTimer: NodeJS.Timeout | null = null
  private prunedAt = 0

  /**
   * Builds the projector and subscribes the rules at once, so that whatever the projector reads,
   * the replayed tail first, is evaluated.
   */
  constructor(parts: WorkerParts) {
    this.parts = parts
    const { db, logger } = parts
    this.alertStore = new AlertRepository(db)
    this.ruleStateStore = new RuleStateRepository(db)
    this.ruleStates = new RuleStates(this.ruleStateStore.loadAll() as [string, StoredRuleState][])
    this.projector = new Projector({
      log: parts.log,
      cursors: parts.projection,
      store: parts.projection,
      state: parts.state,
      logger: logger.child({ component: 'projector' }),
      batch: (work) => this.runBatch(work),
      onDeadLetters: (stored, notStored) => parts.metrics.deadLetters(stored, notStored),
    })
    this.alerts = new AlertService({
      store: this.alertStore,
      site: (siteId) => parts.registry.getSite(siteId),
      logger: logger.child({ component: 'alerts' }),
    })
    this.subscribeRules()
  }

  /** The telemetry shipper's cursor, once it runs (for the log-depth gauge and readiness). */
  get telemetryShipper(): TelemetryShipper | null {
    return this.shipper
  }

  /** Where the log must be kept from: the oldest of its consumers' positions. */
  get logNeededFrom(): number {
    return Math.min(this.projector.replayFrom, this.shipper?.cursor ?? 0)
  }

  async start(): Promise<void> {
    const { parts } = this
    await parts.telemetry.start()
    this.shipper = new TelemetryShipper({
      log: parts.log,
      cursors: parts.projection,
      store: parts.telemetry,
      deadLetters: parts.projection,
      metrics: parts.metrics.shipper,
      logger: parts.logger.child({ component: 'shipper' }),
    })
    this.shipper.start()
    const alertShipper = new AlertEventShipper({
      source: new AlertTimelinePoints(parts.db),
      cursors: parts.projection,
      store: parts.telemetry,
      deadLetters: parts.projection,
      metrics: parts.metrics.shipper,
      logger: parts.logger.child({ component: 'alert-shipper' }),
    })
    this.alertShipper = alertShipper
    alertShipper.start()
    this.projector.start()
    this.housekeepingTimer = setInterval(() => this.housekeep(), housekeepingMs)
    this.housekeepingTimer.unref()
    this.escalationTimer = setInterval(() => this.escalate(), escalationCheckMs)
    this.escalationTimer.unref()
    this.escalate()
  }

  /** Projects what the log still holds, then ships what it can; the rest waits in the log. */
  async stop(): Promise<void> {
    if (this.housekeepingTimer !== null) clearInterval(this.housekeepingTimer)
    if (this.escalationTimer !== null) clearInterval(this.escalationTimer)
    this.projector.stop() // projects the rest; the rules and alerts see it
    this.ruleSubscription?.unsubscribe()
    this.alerts.stop()
    await this.shipper?.stop()
    await this.alertShipper?.stop()
  }

  /** An alert change was committed (here or by another role in this process): ship it soon. */
  alertsCommitted(): void {
    this.alertShipper?.wake()
  }

  /** Escalates overdue alerts; deadlines come from stored times, so a restart misses none. */
  escalate(): number {
    try {
      return this.alerts.escalateDue(this.parts.config.escalation)
    } catch (error) {
      this.parts.logger.error({ err: error }, 'escalation check failed; will retry')
      return 0
    }
  }

  /** Trims the log up to what every consumer has passed. */
  trimLog(): void {
    try {
      const removed = this.parts.log.trimBefore(this.logNeededFrom)
      if (removed > 0) this.parts.logger.debug({ segments: removed }, 'trimmed write-ahead log')
    } catch (error) {
      this.parts.logger.error({ err: error }, 'trimming the write-ahead log failed')
    }
  }

  /**
   * One projected batch as one transaction: the projection and cursor, the alerts its readings
   * raise and the rule state they leave. Announcements wait for the commit; a failure undoes the
   * rule state too, and the projector evaluates the batch again.
   */
  private runBatch(work: () => void): void {
    const transaction = this.parts.db.transaction(() => {
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

  /** Readings → rules → alerts. */
  private subscribeRules(): void {
    const { parts } = this
    const logger = parts.logger.child({ component: 'rules' })
    const unknownCodeRules = new Set(
      parts.rules.filter((rule) => rule.condition.kind === 'unknown_code').map((rule) => rule.id),
    )
    const environment = ruleEnvironment({
      rules: parts.rules,
      settings: parts.settings,
      state: () => parts.state,
      projection: parts.projection,
      registry: parts.registry,
      states: this.ruleStates,
      activeBreaches: this.alertStore.activeBreaches(),
      logger,
    })
    this.ruleSubscription = this.projector.readings$.pipe(evaluateRules(parts.rules, environment)).subscribe({
      next: (signal) => {
        if (signal.signal.type === 'raise' && unknownCodeRules.has(signal.ruleId))
          parts.metrics.unknownDeviceCodes.inc({ rule: signal.ruleId })
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

  /** Every second: trim the log; every minute: prune dead letters. */
  private housekeep(): void {
    this.trimLog()
    const now = Date.now()
    if (now - this.prunedAt < 60_000) return
    this.prunedAt = now
    try {
      const removed = this.parts.projection.pruneDeadLetters(
        now - deadLetterRetention.maxAgeMs,
        deadLetterRetention.perDevice,
      )
      if (removed > 0) this.parts.metrics.deadLettersPruned(removed)
    } catch (error) {
      this.parts.logger.error({ err: error }, 'pruning dead letters failed')
    }
  }
}

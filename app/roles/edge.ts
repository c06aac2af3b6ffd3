import type { Logger } from 'pino'
import { AlertFeed } from '../../alerts/alert-feed.js'
import { AlertPublication } from '../../alerts/alert-publication.js'
import { Backpressure } from '../../ingest/backpressure.js'
import { Broker } from '../../ingest/broker.js'
import { DeviceAuthenticator } from '../../ingest/device-auth.js'
import type { IngestState } from '../../ingest/ingest-state.js'
import { deliveriesReplayStart } from '../../ingest/projector.js'
import { SegmentLog } from '../../storage/log/segment-log.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { ChangeCounters } from '../../storage/sqlite/change-counters.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { ManualInbox } from '../../storage/sqlite/manual-inbox.js'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { SettingsRepository } from '../../storage/sqlite/settings-repository.js'
import { shipperConsumer } from '../../storage/telemetry/telemetry-shipper.js'
import type { Config } from '../config.js'
import { ManualInboxDesk } from '../manual-inbox.js'
import { admitManualReadings, type FiledReadings } from '../manual-readings.js'
import { edgeMetrics } from '../metrics.js'
import { edgeReadiness } from '../readiness.js'
import { loadRuleCatalogue } from '../rule-catalogue.js'
import { markNotYetReconnected } from '../rule-environment.js'
import { SettingsService } from '../settings-service.js'
import { ControlPlane } from './control-plane.js'
import { Doorbell } from './doorbell.js'
import { emptyIngestState, logDir, recoverIngestState, registryDatabasePath } from './role-storage.js'

/** Device credentials and pit baselines changed on another connection show this late at most. */
const changesPollMs = 500
/** Trimming is cheap (whole segments, by the cursors in the store) and frees room for backpressure. */
const trimMs = 1_000

/**
 * The edge role (issue 14): the MQTT wire and the write-ahead log's only writer. Devices log
 * in, publish within their topics, and every accepted message is in the log before its PUBACK;
 * manual readings the API filed are logged here too. Its ingest state (the resend memory, the pit
 * series) is its own, recovered from the store and the log. It carries alerts back to MQTT,
 * following them in the store, and trims the log behind the cursors the worker stores.
 */
export class EdgeRole {
  readonly broker: Broker
  private readonly config: Config
  private readonly logger: Logger
  private readonly db: SqliteDatabase
  private readonly log: SegmentLog
  private readonly projection: ProjectionRepository
  private readonly registry: RegistryRepository
  private readonly counters: ChangeCounters
  private readonly backpressure: Backpressure
  private readonly metrics: ReturnType<typeof edgeMetrics>
  private readonly alertFeed: AlertFeed
  private readonly publication: AlertPublication
  private readonly inboxDesk: ManualInboxDesk
  private readonly inbox: ManualInbox
  private readonly settings: SettingsService
  private readonly doorbells: Doorbell[] = []
  private readonly state: IngestState
  private controlPlane: ControlPlane | null = null
  private timers: NodeJS.Timeout[] = []
  private credentialsVersion = -1
  private rechecking = false
  private started = false

  /** Opens the store and the log and recovers ingest state; nothing listens yet. */
  constructor(config: Config, logger: Logger, tls: { readonly key: Buffer; readonly cert: Buffer } | null) {
    this.config = config
    this.logger = logger
    this.db = openDatabase(registryDatabasePath(config.dataDir))
    this.projection = new ProjectionRepository(this.db)
    this.registry = new RegistryRepository(this.db)
    this.counters = new ChangeCounters(this.db)
    this.log = new SegmentLog({
      dir: logDir(config.dataDir),
      segmentBytes: config.wal.segmentBytes,
      lingerMs: config.wal.commitMs,
      logger: logger.child({ component: 'wal' }),
    })
    this.log.start()
    this.state = emptyIngestState(config)
    this.settings = new SettingsService(
      new SettingsRepository(this.db),
      this.registry,
      loadRuleCatalogue(config.rulesDir),
    )
    this.backpressure = new Backpressure({
      diskBytes: () => this.log.diskBytes,
      maxBytes: config.wal.maxBytes,
    })
    this.metrics = edgeMetrics({
      logDiskBytes: () => this.log.diskBytes,
      logFullness: () => this.backpressure.fullness,
      connectedClients: () => (this.started ? this.broker.connectedClients : 0),
      logUnacknowledged: () => this.log.unacknowledged,
      logCommits: () => this.log.takeCommitStats(),
    })
    this.broker = new Broker({
      host: config.mqtt.host,
      port: config.mqtt.port,
      connectTimeoutMs: config.mqtt.connectTimeoutMs,
      maxUnauthenticated: config.mqtt.maxUnauthenticated,
      maxUnauthenticatedPerAddress: config.mqtt.maxUnauthenticatedPerAddress,
      authenticator: new DeviceAuthenticator((id) => this.registry.getCredentials(id)),
      state: this.state,
      log: this.log,
      metrics: this.metrics.ingest,
      backpressure: this.backpressure,
      ...(tls === null ? {} : { tls: { ...tls, port: config.tls?.mqttsPort ?? 8883 } }),
      logger: logger.child({ component: 'mqtt' }),
    })
    const alerts = new AlertRepository(this.db)
    this.alertFeed = new AlertFeed({ store: alerts, logger: logger.child({ component: 'alerts' }) })
    const broker = this.broker
    this.publication = new AlertPublication({
      feed: this.alertFeed,
      store: alerts,
      publisher: { publish: (packet) => broker.publish(packet) },
      logger: logger.child({ component: 'alerts' }),
    })
    this.inbox = new ManualInbox(this.db)
    const { registry, state, log, backpressure } = this
    this.inboxDesk = new ManualInboxDesk({
      inbox: this.inbox,
      log,
      admit: (submission, logged) =>
        admitManualReadings(
          { registry, state, log, backpressure },
          { ...submission, body: submission.body as FiledReadings }, // as the API filed it
          logged,
        ),
      filed: this.doorbell('inbox'),
      answered: this.doorbell('inbox-answered'),
      logger: logger.child({ component: 'manual-readings' }),
    })
  }

  async start(): Promise<void> {
    await this.settings.load()
    await recoverIngestState(this.state, {
      projection: this.projection,
      log: this.log,
      logger: this.logger,
      upToProjected: false,
    })
    // Configured baselines go into the recovered state, then follow every reload.
    this.settings.applyBaselines(this.state, Date.now())
    this.settings.onReload(() => this.settings.applyBaselines(this.state, Date.now()))
    await markNotYetReconnected(this.registry, this.log, Date.now())
    await this.broker.start()
    this.started = true
    await this.alertFeed.start()
    this.doorbell('alerts').onRing(() => this.alertFeed.ring())
    this.doorbell('credentials').onRing(() => this.recheckCredentials())
    this.doorbell('settings').onRing(() => void this.refreshSettings())
    const republished = await this.publication.start()
    if (republished > 0)
      this.logger.info({ alerts: republished }, 'republished retained MQTT copies of the alerts not closed')
    this.inboxDesk.start()
    this.controlPlane = new ControlPlane(this.config.dataDir, 'edge', {
      readiness: () => edgeReadiness({ broker: this.broker, log: this.log, backpressure: this.backpressure }),
      metrics: () => this.metrics.render(),
    })
    this.credentialsVersion = await this.counters.value('credentials')
    this.every(changesPollMs, () => {
      void this.pollChanges()
    })
    this.every(trimMs, () => void this.trimLog())
  }

  /** No new messages; every acknowledged one is on disk when it returns, and the log closed. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    this.controlPlane?.close()
    this.publication.stop()
    await this.alertFeed.stop()
    await this.inboxDesk.stop()
    await this.broker.stop()
    this.started = false
    for (const doorbell of this.doorbells) doorbell.close()
    await this.log.stop()
    await this.trimLog()
    this.db.close()
  }

  /** Another process (the CLI, the API's role) changed credentials or thresholds. */
  private async pollChanges(): Promise<void> {
    try {
      if ((await this.counters.value('credentials')) !== this.credentialsVersion) this.recheckCredentials()
    } catch (error) {
      this.logger.error({ err: error }, 'reading the credentials counter failed; will retry')
    }
    await this.refreshSettings()
  }

  /** One recheck at a time; the version it checked is recorded only once it succeeded. */
  private recheckCredentials(): void {
    if (this.rechecking) return
    this.rechecking = true
    const recheck = async () => {
      const version = await this.counters.value('credentials')
      await this.broker.recheckCredentials()
      this.credentialsVersion = version
    }
    recheck()
      .catch((error: unknown) =>
        this.logger.error({ err: error }, 'rechecking device credentials failed; will retry'),
      )
      .finally(() => {
        this.rechecking = false
      })
  }

  private async refreshSettings(): Promise<void> {
    try {
      if (await this.settings.refreshIfChanged())
        this.logger.debug('threshold settings changed; baselines applied')
    } catch (error) {
      this.logger.error({ err: error }, 'reloading settings failed; will retry')
    }
  }

  /**
   * Whole segments before every position still needed: the worker's delivery snapshot (the
   * replay start after a restart), the telemetry shipper's cursor, and manual submissions claimed
   * and not yet answered.
   */
  private async trimLog(): Promise<void> {
    try {
      // Cursors only move forward: read before the claim, they can only keep more of the log.
      const needed = [
        await deliveriesReplayStart(this.projection),
        await this.projection.get(shipperConsumer),
      ]
      const claimed = await this.inboxDesk.holdsLogFrom()
      if (claimed !== null) needed.push(claimed)
      const removed = this.log.trimBefore(Math.min(...needed))
      if (removed > 0) this.logger.debug({ segments: removed }, 'trimmed write-ahead log')
      await this.inbox.prune(Date.now())
    } catch (error) {
      this.logger.error({ err: error }, 'trimming the write-ahead log failed')
    }
  }

  private doorbell(topic: ConstructorParameters<typeof Doorbell>[1]): Doorbell {
    const doorbell = new Doorbell(this.config.dataDir, topic)
    this.doorbells.push(doorbell)
    return doorbell
  }

  private every(ms: number, work: () => void): void {
    const timer = setInterval(work, ms)
    timer.unref()
    this.timers.push(timer)
  }
}

import type { Logger } from 'pino'
import type { TelemetryStore } from '../../domain/ports.js'
import { LogReader } from '../../storage/log/log-reader.js'
import { AlertTimelinePoints } from '../../storage/sqlite/alert-timeline-points.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { AlertEventShipper } from '../../storage/telemetry/alert-event-shipper.js'
import { TelemetryShipper } from '../../storage/telemetry/telemetry-shipper.js'
import type { Config } from '../config.js'
import { shipperMetrics } from '../metrics.js'
import { shipperReadiness } from '../readiness.js'
import { ControlPlane } from './control-plane.js'
import { Doorbell } from './doorbell.js'
import { logDir, registryDatabasePath, telemetryStoreOf } from './role-storage.js'

/**
 * The worker role's shipping half (issue 14: "alerts never wait behind telemetry"): ships the
 * log's telemetry and the alerts' timeline events to the telemetry store, in a thread of its
 * own under `siteward serve`. The rules' thread never waits for it: a backlog being shipped,
 * a slow or absent InfluxDB, costs this thread's time only. Its cursors are its own; it reads
 * the log and the store like any role and shares no object with the rules.
 */
export class ShipperRole {
  private readonly config: Config
  private readonly logger: Logger
  private readonly db: SqliteDatabase
  private readonly reader: LogReader
  private readonly projection: ProjectionRepository
  private readonly telemetry: TelemetryStore
  private readonly metrics: ReturnType<typeof shipperMetrics>
  private readonly alertsRung: Doorbell
  private shipper: TelemetryShipper | null = null
  private alertShipper: AlertEventShipper | null = null
  private controlPlane: ControlPlane | null = null
  private started: Promise<void> = Promise.resolve()
  private stopping = false

  /** `onFatal`: a shipper's loop ended with an error it did not expect (see WorkerRole). */
  constructor(
    config: Config,
    logger: Logger,
    private readonly onFatal: (error: Error) => void,
  ) {
    this.config = config
    this.logger = logger
    this.db = openDatabase(registryDatabasePath(config.dataDir))
    this.projection = new ProjectionRepository(this.db)
    this.reader = new LogReader(logDir(config.dataDir))
    this.reader.start()
    this.telemetry = telemetryStoreOf(config, logger, { owner: true })
    this.metrics = shipperMetrics({ lagSeconds: () => this.shipper?.lagSeconds() ?? 0 })
    this.alertsRung = new Doorbell(config.dataDir, 'alerts')
  }

  /**
   * The shippers start once the telemetry store has: InfluxDB may take its request timeout to
   * answer, or not be there, and the log spools meanwhile. The embedded store is a local file
   * and starts at once.
   */
  async start(): Promise<void> {
    // An alert committed anywhere (the rules, a person's action in the API) is shipped soon.
    this.alertsRung.onRing(() => this.alertShipper?.wake())
    this.controlPlane = new ControlPlane(this.config.dataDir, 'shipper', {
      readiness: () => shipperReadiness({ shipper: this.shipper, telemetry: this.telemetry }),
      metrics: () => this.metrics.render(),
    })
    this.started = this.telemetry.start().then(() => {
      if (!this.stopping) this.startShippers()
    })
    if (this.telemetry.name === 'embedded') await this.started
    else
      this.started.catch((error: unknown) =>
        this.logger.error({ err: error }, 'the telemetry shippers could not start; the log keeps everything'),
      )
  }

  /** Ships what it can; what is not confirmed stays in the log for the next start. */
  async stop(): Promise<void> {
    this.stopping = true
    this.controlPlane?.close()
    await this.shipper?.stop()
    await this.alertShipper?.stop()
    this.alertsRung.close()
    this.reader.stop()
    await this.telemetry.stop()
    this.db.close()
  }

  private startShippers(): void {
    this.shipper = new TelemetryShipper({
      log: this.reader,
      cursors: this.projection,
      store: this.telemetry,
      deadLetters: this.projection,
      metrics: this.metrics.shipper,
      logger: this.logger.child({ component: 'shipper' }),
      onFatal: this.onFatal,
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
    void this.alertShipper.start()
  }
}

import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { AlertFeed } from '../../alerts/alert-feed.js'
import { AlertService } from '../../alerts/alert-service.js'
import { buildApi } from '../../api/app.js'
import { ListenerError } from '../../domain/errors.js'
import type { TelemetryStore } from '../../domain/ports.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { ManualInbox } from '../../storage/sqlite/manual-inbox.js'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { SettingsRepository } from '../../storage/sqlite/settings-repository.js'
import { apiServicesOf } from '../api-services.js'
import type { Config } from '../config.js'
import { fileManualReadings } from '../manual-inbox.js'
import { apiMetrics } from '../metrics.js'
import { gatherMetrics, gatherReadiness, storeReadiness } from '../readiness.js'
import { expectedIntervals, loadRuleCatalogue } from '../rule-catalogue.js'
import { RuleViews } from '../rule-views.js'
import { SettingsService } from '../settings-service.js'
import { ControlPlane, type PartName } from './control-plane.js'
import { Doorbell, type DoorbellTopic } from './doorbell.js'
import { registryDatabasePath, telemetryStoreOf } from './role-storage.js'

export interface ApiRoleOptions {
  readonly tls: { readonly key: Buffer; readonly cert: Buffer } | null
  /** Where `npm run build` wrote the console. */
  readonly consoleDir: string
  /** The roles running beside this one (in this process), whose readiness and metrics it shows. */
  readonly peers: readonly PartName[]
}

/**
 * The API role (issue 14): HTTP, the SSE stream and the console, over a store connection of its
 * own. People's actions on alerts are committed here; the alert stream follows the timelines in
 * the store. Manual readings go to the edge through the store's inbox; /readyz and /metrics
 * gather the other roles' reports over the control plane.
 */
export class ApiRole {
  private readonly config: Config
  private readonly logger: Logger
  private readonly options: ApiRoleOptions
  private readonly db: SqliteDatabase
  private readonly telemetry: TelemetryStore
  private readonly alertFeed: AlertFeed
  private readonly alerts: AlertService
  private readonly doorbells = new Map<DoorbellTopic, Doorbell>()
  private readonly metrics = apiMetrics()
  private controlPlane: ControlPlane | null = null
  private app: FastifyInstance | null = null

  constructor(config: Config, logger: Logger, options: ApiRoleOptions) {
    this.config = config
    this.logger = logger
    this.options = options
    this.db = openDatabase(registryDatabasePath(config.dataDir))
    this.telemetry = telemetryStoreOf(config, logger, { owner: false })
    const store = new AlertRepository(this.db)
    const registry = new RegistryRepository(this.db)
    const alertLogger = logger.child({ component: 'alerts' })
    this.alertFeed = new AlertFeed({ store, logger: alertLogger })
    this.alerts = new AlertService({ store, site: (siteId) => registry.getSite(siteId), logger: alertLogger })
  }

  get httpApp(): FastifyInstance {
    if (this.app === null) throw new Error('the API is not started')
    return this.app
  }

  get port(): number {
    const address = this.app?.server.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  async start(): Promise<void> {
    const { config, logger, options, db } = this
    await this.telemetry.start()
    await this.alertFeed.start()
    // A person's action committed here: this role's stream, and the others, read it at once.
    this.alerts.changes$.subscribe(() => {
      this.alertFeed.ring()
      this.doorbell('alerts').ring()
    })
    this.doorbell('alerts').onRing(() => this.alertFeed.ring())
    const controlPlane = new ControlPlane(config.dataDir, 'api', {
      readiness: () => storeReadiness(db),
      metrics: () => this.metrics.render(),
    })
    this.controlPlane = controlPlane
    const registry = new RegistryRepository(db)
    const projection = new ProjectionRepository(db)
    const rules = loadRuleCatalogue(config.rulesDir)
    const settings = new SettingsService(new SettingsRepository(db), registry, rules)
    await settings.load()
    settings.onReload(() => this.doorbell('settings').ring())
    const inbox = new ManualInbox(db)
    this.app = await buildApi(
      apiServicesOf({
        registry,
        settings,
        rules: new RuleViews({ rules, registry, settings, projection }),
        telemetry: this.telemetry,
        escalation: config.escalation,
        projection,
        expectedIntervalMs: expectedIntervals(rules),
        alerts: this.alerts,
        alertChanges: this.alertFeed.changes$,
        submitReadings: (siteId, principal, body) =>
          fileManualReadings(
            { registry, inbox, filed: this.doorbell('inbox'), answered: this.doorbell('inbox-answered') },
            siteId,
            principal,
            body,
          ),
        credentialsChanged: () => this.doorbell('credentials').ring(),
        readiness: () => gatherReadiness(controlPlane, options.peers, () => storeReadiness(db)),
        metrics: {
          contentType: this.metrics.registry.contentType,
          render: () => gatherMetrics(controlPlane, options.peers, () => this.metrics.render()),
        },
      }),
      logger,
      {
        requestsPerMinute: config.http.requestsPerMinute,
        trustProxy: config.http.trustProxy,
        tls: options.tls ?? undefined,
        consoleDir: options.consoleDir,
      },
    )
    await this.app.listen({ host: config.http.host, port: config.http.port }).catch((error: unknown) => {
      throw new ListenerError('HTTP', config.http.host, config.http.port, error)
    })
    logger.info(
      { host: config.http.host, port: this.port, https: options.tls !== null },
      options.tls === null ? 'HTTP API listening' : 'HTTPS API listening',
    )
  }

  async stop(): Promise<void> {
    await this.app?.close()
    this.alerts.stop()
    await this.alertFeed.stop()
    this.controlPlane?.close()
    for (const doorbell of this.doorbells.values()) doorbell.close()
    await this.telemetry.stop()
    this.db.close()
  }

  private doorbell(topic: DoorbellTopic): Doorbell {
    let doorbell = this.doorbells.get(topic)
    if (doorbell === undefined) {
      doorbell = new Doorbell(this.config.dataDir, topic)
      this.doorbells.set(topic, doorbell)
    }
    return doorbell
  }
}

import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { AlertFeed } from '../../alerts/alert-feed.js'
import { AlertService } from '../../alerts/alert-service.js'
import { buildApi } from '../../api/app.js'
import type { ApiServices } from '../../api/services.js'
import { ListenerError } from '../../domain/errors.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import type { SqliteDatabase } from '../../storage/sqlite/database.js'
import { type ApiParts, apiServicesOf } from '../api-services.js'
import type { Config } from '../config.js'

/**
 * The API role (issue 14): HTTP, the SSE stream and the console. It reads the store; the alert
 * stream follows the timelines there (an AlertFeed of its own).
 */
export class ApiRole {
  /** Every committed alert change; ring it after committing one in this process. */
  readonly alertFeed: AlertFeed
  /** People's actions on alerts (acknowledge, resolve, close, comment), over the API's store. */
  readonly alerts: AlertService
  private readonly parts: {
    readonly config: Config
    readonly logger: Logger
    readonly db: SqliteDatabase
    readonly services: Omit<ApiParts, 'alertChanges' | 'alerts'>
    readonly tls: { readonly key: Buffer; readonly cert: Buffer } | null
    readonly consoleDir: string
  }
  private app: FastifyInstance | null = null

  constructor(parts: ApiRole['parts']) {
    this.parts = parts
    const store = new AlertRepository(parts.db)
    const logger = parts.logger.child({ component: 'alerts' })
    this.alertFeed = new AlertFeed({ store, logger })
    this.alerts = new AlertService({
      store,
      site: (siteId) => parts.services.registry.getSite(siteId),
      logger,
    })
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
    const { config, logger, tls } = this.parts
    this.alertFeed.start()
    const services: ApiServices = apiServicesOf({
      ...this.parts.services,
      alerts: this.alerts,
      alertChanges: this.alertFeed.changes$,
    })
    this.app = await buildApi(services, logger, {
      requestsPerMinute: config.http.requestsPerMinute,
      trustProxy: config.http.trustProxy,
      tls: tls ?? undefined,
      consoleDir: this.parts.consoleDir,
    })
    await this.app.listen({ host: config.http.host, port: config.http.port }).catch((error: unknown) => {
      throw new ListenerError('HTTP', config.http.host, config.http.port, error)
    })
    logger.info(
      { host: config.http.host, port: this.port, https: tls !== null },
      tls === null ? 'HTTP API listening' : 'HTTPS API listening',
    )
  }

  async stop(): Promise<void> {
    await this.app?.close()
    this.alerts.stop()
    this.alertFeed.stop()
  }
}

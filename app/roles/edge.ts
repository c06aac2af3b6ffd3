import type { Logger } from 'pino'
import { AlertFeed } from '../../alerts/alert-feed.js'
import { AlertPublication } from '../../alerts/alert-publication.js'
import type { Backpressure } from '../../ingest/backpressure.js'
import { Broker } from '../../ingest/broker.js'
import { DeviceAuthenticator } from '../../ingest/device-auth.js'
import type { IngestState } from '../../ingest/ingest-state.js'
import type { SegmentLog } from '../../storage/log/segment-log.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import type { SqliteDatabase } from '../../storage/sqlite/database.js'
import type { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import type { Config } from '../config.js'
import type { createMetrics } from '../metrics.js'
import { markNotYetReconnected } from '../rule-environment.js'

/** How often the edge looks for devices disabled or re-keyed on another connection (the CLI). */
const credentialsPollMs = 2_000

export interface EdgeParts {
  readonly config: Config
  readonly logger: Logger
  readonly db: SqliteDatabase
  readonly log: SegmentLog
  readonly registry: RegistryRepository
  readonly state: IngestState
  readonly backpressure: Backpressure
  readonly metrics: ReturnType<typeof createMetrics>
  readonly tls: { readonly key: Buffer; readonly cert: Buffer } | null
}

/**
 * The edge role (issue 14): the MQTT wire. Devices log in, publish within their topics, and
 * every accepted message is in the log before its PUBACK. It also carries the alerts back to
 * MQTT, following them in the store (AlertFeed), not from whoever raised them.
 */
export class EdgeRole {
  readonly broker: Broker
  /** Every committed alert change; ring it after committing one in this process. */
  readonly alertFeed: AlertFeed
  private readonly parts: EdgeParts
  private readonly publication: AlertPublication
  private credentialsTimer: NodeJS.Timeout | null = null
  private registryVersion = -1

  constructor(parts: EdgeParts) {
    this.parts = parts
    const { config, logger } = parts
    this.broker = new Broker({
      host: config.mqtt.host,
      port: config.mqtt.port,
      connectTimeoutMs: config.mqtt.connectTimeoutMs,
      maxUnauthenticated: config.mqtt.maxUnauthenticated,
      maxUnauthenticatedPerAddress: config.mqtt.maxUnauthenticatedPerAddress,
      authenticator: new DeviceAuthenticator((id) => parts.registry.getCredentials(id)),
      state: parts.state,
      log: parts.log,
      metrics: parts.metrics.ingest,
      backpressure: parts.backpressure,
      ...(parts.tls === null ? {} : { tls: { ...parts.tls, port: config.tls?.mqttsPort ?? 8883 } }),
      logger: logger.child({ component: 'mqtt' }),
    })
    const alerts = new AlertRepository(parts.db)
    this.alertFeed = new AlertFeed({ store: alerts, logger: logger.child({ component: 'alerts' }) })
    const broker = this.broker
    this.publication = new AlertPublication({
      feed: this.alertFeed,
      store: alerts,
      publisher: { publish: (packet) => broker.publish(packet) },
      logger: logger.child({ component: 'alerts' }),
    })
  }

  async start(): Promise<void> {
    await markNotYetReconnected(this.parts.registry, this.parts.log, Date.now())
    await this.broker.start()
    this.alertFeed.start()
    const republished = await this.publication.start()
    if (republished > 0)
      this.parts.logger.info(
        { alerts: republished },
        'republished retained MQTT copies of the alerts not closed',
      )
    this.credentialsTimer = setInterval(() => this.recheckIfChanged(), credentialsPollMs)
    this.credentialsTimer.unref()
  }

  /** No new messages; every acknowledged one is on disk when it returns. */
  async stop(): Promise<void> {
    if (this.credentialsTimer !== null) clearInterval(this.credentialsTimer)
    this.publication.stop()
    this.alertFeed.stop()
    await this.broker.stop()
    await this.parts.log.flush()
  }

  /** A device was disabled or re-keyed (through the store, by the API or the CLI). */
  recheckCredentials(): void {
    this.broker.recheckCredentials()
  }

  private recheckIfChanged(): void {
    try {
      const version = this.parts.db.pragma('data_version', { simple: true }) as number
      if (version === this.registryVersion) return
      this.registryVersion = version
      this.broker.recheckCredentials()
    } catch (error) {
      this.parts.logger.error({ err: error }, 'rechecking device credentials failed; will retry')
    }
  }
}

import { join } from 'node:path'
import type { Logger } from 'pino'
import type { LogCursors, ProjectionStore, ReadableLog, TelemetryStore } from '../../domain/ports.js'
import { IngestState } from '../../ingest/ingest-state.js'
import { deliveriesReplayStart, projectorConsumer } from '../../ingest/projector.js'
import { InfluxTelemetryStore } from '../../storage/influx/influx-telemetry-store.js'
import { EmbeddedTelemetryStore } from '../../storage/telemetry/embedded-telemetry-store.js'
import type { Config } from '../config.js'

export const registryDatabasePath = (dataDir: string) => join(dataDir, 'siteward.db')
export const logDir = (dataDir: string) => join(dataDir, 'wal')

/**
 * The telemetry store of the configuration; each role that uses it opens its own. Its `owner`
 * (the worker, which writes) sweeps the embedded store and creates the InfluxDB database.
 */
export function telemetryStoreOf(
  config: Config,
  logger: Logger,
  options: { owner: boolean },
): TelemetryStore {
  return config.influx === null
    ? new EmbeddedTelemetryStore({
        path: join(config.dataDir, 'telemetry.db'),
        retentionDays: config.telemetryRetentionDays,
        logger,
        sweeps: options.owner,
      })
    : new InfluxTelemetryStore(config.influx, logger.child({ component: 'influx' }), {
        createsDatabase: options.owner,
      })
}

/**
 * Ingest state from the projector's last snapshot and the log. The delivery memory is saved
 * every few seconds, the pit series with every batch: the log from the memory's snapshot to the
 * projector's cursor replays into the first only, and what follows into both. The edge replays
 * to the log's end (admission goes on from there); the worker stops at its cursor, so its copy
 * is exactly what it has projected.
 */
export async function recoverIngestState(
  state: IngestState,
  parts: {
    readonly projection: ProjectionStore & LogCursors
    readonly log: ReadableLog
    readonly logger: Logger
    readonly upToProjected: boolean
  },
): Promise<void> {
  const { projection, log } = parts
  state.restore({
    deliveries: await projection.loadDeliveries(),
    pitPoints: await projection.loadPitPoints(),
  })
  const projected = await projection.get(projectorConsumer)
  let replayed = 0
  for (let position = Math.min(await deliveriesReplayStart(projection), projected); ; ) {
    const { records, next } = log.readFrom(position, 10_000)
    let done = records.length === 0
    for (const { record, position: at } of records) {
      if (parts.upToProjected && at >= projected) {
        done = true
        break
      }
      if (at < projected) state.replayDeliveries(record)
      else state.replay(record)
      replayed += 1
    }
    if (done) break
    position = next
  }
  if (replayed > 0)
    parts.logger.info({ records: replayed }, 'replayed the write-ahead log tail into ingest state')
}

/** An empty ingest state for a role's constructor; `recoverIngestState` fills it as the role starts. */
export function emptyIngestState(config: Config): IngestState {
  return new IngestState({ deliveries: new Map(), pitPoints: [] }, config.pitRateWindow)
}

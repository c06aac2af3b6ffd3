import type { ReadinessCheck } from '../api/services.js'
import type { TelemetryStore } from '../domain/ports.js'
import type { Backpressure } from '../ingest/backpressure.js'
import type { Broker } from '../ingest/broker.js'
import type { SegmentLog } from '../storage/log/segment-log.js'
import type { SqliteDatabase } from '../storage/sqlite/database.js'
import type { TelemetryShipper } from '../storage/telemetry/telemetry-shipper.js'

/**
 * `/readyz` (CONTRACT §5.1): the broker listens, the write-ahead log is healthy and not full, the
 * SQLite store takes a write lock, and the telemetry store is reachable or spooling safely.
 */
export async function readinessChecks(parts: {
  broker: Broker | null
  log: SegmentLog
  backpressure: Backpressure
  db: SqliteDatabase
  shipper: TelemetryShipper | null
  telemetry: TelemetryStore
}): Promise<ReadinessCheck[]> {
  const { broker, log, backpressure, db, shipper, telemetry } = parts
  const checks: ReadinessCheck[] = []
  checks.push({
    name: 'mqtt',
    ok: broker?.listening ?? false,
    detail: broker?.listening ? `listening on ${broker.port}` : 'not listening',
  })
  const walFailure = log.failed
  const full = backpressure.decide().kind === 'refuse'
  checks.push({
    name: 'wal',
    ok: walFailure === null && !full,
    detail:
      walFailure === null
        ? `write-ahead log ${full ? 'full' : 'healthy'} (${log.diskBytes} bytes on disk, ${backpressure.describe()})`
        : `write-ahead log failed, refusing publishes: ${walFailure.message}`,
  })
  try {
    db.transaction(() => db.prepare('SELECT count(*) FROM log_cursors').get()).immediate()
    checks.push({ name: 'store', ok: true, detail: 'SQLite store writable' })
  } catch (error) {
    checks.push({
      name: 'store',
      ok: false,
      detail: `SQLite store not writable: ${(error as Error).message}`,
    })
  }
  const spooling = shipper?.spooling ?? false
  const reachable = await telemetry.ping()
  checks.push({
    name: 'telemetry',
    ok: true, // reachable, or spooling safely in the write-ahead log (CONTRACT §5.1)
    detail:
      reachable && !spooling
        ? `${telemetry.name} reachable`
        : `${telemetry.name} unreachable; spooling (lag ${Math.round(shipper?.lagSeconds() ?? 0)} s, ${log.diskBytes} bytes on disk)`,
  })
  return checks
}

import type { AlertEventType } from '../../domain/alert.js'
import type { AlertEventPoint, AlertEventPointSource } from '../../domain/ports.js'
import { type TimelineRow, timelinePoints } from '../alert-rows.js'
import type { SqliteDatabase } from './database.js'

/**
 * The alert timelines read as telemetry, in event order: each event with what it left the alert
 * at. The shipper takes them from here, so an event committed with its alert reaches InfluxDB
 * even when the engine stops right after the commit.
 */
export class AlertTimelinePoints implements AlertEventPointSource {
  private readonly db: SqliteDatabase

  constructor(db: SqliteDatabase) {
    this.db = db
  }

  async lastSeq(): Promise<number> {
    return newestEventSeq(this.db)
  }

  async after(seq: number, limit: number): Promise<AlertEventPoint[]> {
    const rows = this.db
      .prepare(
        `SELECT e.seq, e.alert_id, e.type, e.at, e.data, a.site_id, a.device_id, a.rule_id
           FROM alert_events e JOIN alerts a ON a.id = e.alert_id
          WHERE e.seq > ? ORDER BY e.seq LIMIT ?`,
      )
      .all(seq, limit) as TimelineRow[]
    const earlier = this.db.prepare(
      'SELECT type, data FROM alert_events WHERE alert_id = ? AND seq < ? ORDER BY seq',
    )
    return timelinePoints(
      rows,
      (alertId, seq) => earlier.all(alertId, seq) as { type: AlertEventType; data: string }[],
    )
  }
}

/** The newest alert timeline event's seq, 0 when there is none. */
export function newestEventSeq(db: SqliteDatabase): number {
  const row = db.prepare('SELECT max(seq) AS seq FROM alert_events').get() as { seq: number | null }
  return row.seq ?? 0
}

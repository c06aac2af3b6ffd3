import type { AlertEventType } from '../../domain/alert.js'
import { type AlertAfterEvent, afterEvent } from '../../domain/alert-timeline.js'
import type { AlertEventPoint, AlertEventPointSource } from '../../domain/ports.js'
import type { SqliteDatabase } from './database.js'

interface TimelineRow {
  seq: number
  alert_id: string
  type: AlertEventType
  at: number
  data: string
  site_id: string
  device_id: string
  rule_id: string
}

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
    const folded = new Map<string, AlertAfterEvent | undefined>()
    return rows.map((row) => {
      let before = folded.get(row.alert_id)
      if (!folded.has(row.alert_id)) {
        // The first of this alert's events in the page: fold what came before it.
        for (const event of earlier.all(row.alert_id, row.seq) as { type: AlertEventType; data: string }[])
          before = afterEvent(before, event.type, JSON.parse(event.data) as Record<string, unknown>)
      }
      const after = afterEvent(before, row.type, JSON.parse(row.data) as Record<string, unknown>)
      folded.set(row.alert_id, after)
      return {
        seq: row.seq,
        at: row.at,
        alertId: row.alert_id,
        siteId: row.site_id,
        deviceId: row.device_id,
        ruleId: row.rule_id,
        eventType: row.type,
        ...after,
      }
    })
  }
}

/** The newest alert timeline event's seq, 0 when there is none. */
export function newestEventSeq(db: SqliteDatabase): number {
  const row = db.prepare('SELECT max(seq) AS seq FROM alert_events').get() as { seq: number | null }
  return row.seq ?? 0
}

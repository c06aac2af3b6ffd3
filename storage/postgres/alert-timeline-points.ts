import type pg from 'pg'
import type { AlertEventType } from '../../domain/alert.js'
import type { AlertEventPoint, AlertEventPointSource } from '../../domain/ports.js'
import { type TimelineRow, timelinePoints } from '../alert-rows.js'

/** The alert timelines read as telemetry in seq order, as SQLite's (storage/sqlite/alert-timeline-points.ts). */
export class PostgresAlertTimelinePoints implements AlertEventPointSource {
  constructor(private readonly pool: pg.Pool) {}

  async lastSeq(): Promise<number> {
    const { rows } = await this.pool.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM alert_events')
    return rows[0]?.seq ?? 0
  }

  async after(seq: number, limit: number): Promise<AlertEventPoint[]> {
    const page = await this.pool.query<TimelineRow>(
      `SELECT e.seq, e.alert_id, e.type, e.at, e.data, a.site_id, a.device_id, a.rule_id
         FROM alert_events e JOIN alerts a ON a.id = e.alert_id
        WHERE e.seq > $1 ORDER BY e.seq LIMIT $2`,
      [seq, limit],
    )
    const first = page.rows[0]
    if (first === undefined) return []
    // Every earlier event of the page's alerts in one query; each alert folds those before its first.
    const ids = [...new Set(page.rows.map((row) => row.alert_id))]
    const earlier = await this.pool.query<{
      alert_id: string
      seq: number
      type: AlertEventType
      data: string
    }>(
      'SELECT alert_id, seq, type, data FROM alert_events WHERE alert_id = ANY($1) AND seq <= $2 ORDER BY seq',
      [ids, seq],
    )
    const byAlert = new Map<string, { seq: number; type: AlertEventType; data: string }[]>()
    for (const row of earlier.rows) {
      const list = byAlert.get(row.alert_id) ?? []
      list.push(row)
      byAlert.set(row.alert_id, list)
    }
    return timelinePoints(page.rows, (alertId, before) =>
      (byAlert.get(alertId) ?? []).filter((event) => event.seq < before),
    )
  }
}

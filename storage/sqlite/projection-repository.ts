import type {
  DeadLetter,
  DeadLetterSink,
  LogCursors,
  PitPointState,
  ProjectionCommit,
  ProjectionStore,
} from '../../domain/ports.js'
import type { SqliteDatabase } from './database.js'

interface PitSeriesRow {
  site_id: string
  device_id: string
  point_code: string
  depth_key: string
  item: PitPointState['item']
  baseline: number
  baseline_ts: number
  baseline_configured: number
  last_value: number | null
  last_ts: number | null
  history: string
}

/**
 * The durable side of ingest: log cursors, device counters and presence, dead letters and pit
 * point history. `commit` writes one projected batch and the projector's cursor atomically.
 */
export class ProjectionRepository implements ProjectionStore, LogCursors, DeadLetterSink {
  private readonly db: SqliteDatabase
  private readonly statements

  constructor(db: SqliteDatabase) {
    this.db = db
    this.statements = {
      setCursor: db.prepare(
        'INSERT INTO log_cursors (consumer, position) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET position = excluded.position',
      ),
      upsertDevice: db.prepare(`
        INSERT INTO device_state (device_id, online, last_seen_at, accepted_count, rejected_count, duplicate_count,
                                  last_reject_reason, last_reject_at, seq_ranges, latest_ts, mode)
        SELECT @deviceId, coalesce(@online, 0), @lastSeenAt, @accepted, @rejected, @duplicates, @lastRejectReason,
               @lastRejectAt, NULL, @latestTs, @mode
        WHERE EXISTS (SELECT 1 FROM devices WHERE id = @deviceId)
        ON CONFLICT (device_id) DO UPDATE SET
          online = coalesce(@online, online),
          last_seen_at = coalesce(@lastSeenAt, last_seen_at),
          accepted_count = accepted_count + @accepted,
          rejected_count = rejected_count + @rejected,
          duplicate_count = duplicate_count + @duplicates,
          last_reject_reason = coalesce(@lastRejectReason, last_reject_reason),
          last_reject_at = coalesce(@lastRejectAt, last_reject_at),
          mode = CASE WHEN @mode IS NOT NULL AND @modeTs >= coalesce(latest_ts, 0) THEN @mode ELSE mode END,
          latest_ts = max(coalesce(latest_ts, @latestTs), coalesce(@latestTs, latest_ts))`),
      saveDeliveries: db.prepare('UPDATE device_state SET seq_ranges = ? WHERE device_id = ?'),
      addReadings: db.prepare(`
        INSERT INTO device_hours (device_id, hour, readings) VALUES (@deviceId, @hour, @readings)
        ON CONFLICT (device_id, hour) DO UPDATE SET readings = readings + excluded.readings`),
      insertDeadLetter: db.prepare(`
        INSERT INTO dead_letters (received_at, site_id, device_id, topic, stage, reason, payload)
        VALUES (@receivedAt, @siteId, @deviceId, @topic, @stage, @reason, @payload)`),
      upsertPitPoint: db.prepare(`
        INSERT INTO pit_series (site_id, device_id, point_code, depth_key, item, baseline, baseline_ts,
                                baseline_configured, last_value, last_ts, history)
        VALUES (@siteId, @deviceId, @pointCode, @depthKey, @item, @baseline, @baselineTs, @baselineConfigured,
                @lastValue, @lastTs, @history)
        ON CONFLICT (site_id, device_id, point_code, depth_key) DO UPDATE SET item = excluded.item,
          baseline = excluded.baseline, baseline_ts = excluded.baseline_ts,
          baseline_configured = excluded.baseline_configured, last_value = excluded.last_value,
          last_ts = excluded.last_ts, history = excluded.history`),
    }
  }

  async get(consumer: string): Promise<number> {
    const row = this.db.prepare('SELECT position FROM log_cursors WHERE consumer = ?').get(consumer) as
      | { position: number }
      | undefined
    return row?.position ?? 0
  }

  async set(consumer: string, position: number): Promise<void> {
    this.statements.setCursor.run(consumer, position)
  }

  async all(): Promise<ReadonlyMap<string, number>> {
    const rows = this.db.prepare('SELECT consumer, position FROM log_cursors').all() as {
      consumer: string
      position: number
    }[]
    return new Map(rows.map((row) => [row.consumer, row.position]))
  }

  async add(letters: readonly DeadLetter[]): Promise<void> {
    this.db.transaction(() => {
      for (const letter of letters) this.statements.insertDeadLetter.run(letter)
    })()
  }

  /** The column is still called seq_ranges, after what it held up to v0.3. */
  async loadDeliveries(): Promise<Map<string, unknown>> {
    const rows = this.db
      .prepare('SELECT device_id, seq_ranges FROM device_state WHERE seq_ranges IS NOT NULL')
      .all() as {
      device_id: string
      seq_ranges: string
    }[]
    return new Map(rows.map((row) => [row.device_id, JSON.parse(row.seq_ranges) as unknown]))
  }

  async loadPitPoints(): Promise<PitPointState[]> {
    const rows = this.db.prepare('SELECT * FROM pit_series').all() as PitSeriesRow[]
    return rows.map((row) => ({
      siteId: row.site_id,
      deviceId: row.device_id,
      pointCode: row.point_code,
      depthM: row.depth_key === '' ? null : Number(row.depth_key),
      item: row.item,
      baseline: row.baseline,
      baselineTs: row.baseline_ts,
      baselineConfigured: row.baseline_configured === 1,
      lastValue: row.last_value,
      lastTs: row.last_ts,
      history: JSON.parse(row.history) as [number, number][],
    }))
  }

  /** Known pit points per site (a point measured at several depths counts once). */
  async pitPointsOf(
    siteId: string,
  ): Promise<{ deviceId: string; pointCode: string; item: PitPointState['item'] }[]> {
    return (
      this.db
        .prepare(
          'SELECT DISTINCT device_id, point_code, item FROM pit_series WHERE site_id = ? ORDER BY point_code, device_id',
        )
        .all(siteId) as { device_id: string; point_code: string; item: PitPointState['item'] }[]
    ).map((row) => ({ deviceId: row.device_id, pointCode: row.point_code, item: row.item }))
  }

  /** The crane mode each device last reported in event order (wind limits depend on it). */
  async modes(): Promise<Map<string, string>> {
    const rows = this.db.prepare('SELECT device_id, mode FROM device_state WHERE mode IS NOT NULL').all() as {
      device_id: string
      mode: string
    }[]
    return new Map(rows.map((row) => [row.device_id, row.mode]))
  }

  async commit(batch: ProjectionCommit): Promise<void> {
    this.db.transaction(() => this.commitWithin(batch))()
  }

  /** The same inside a transaction the caller holds (the worker's batch, see SqliteBatchStore). */
  commitWithin(batch: ProjectionCommit): void {
    for (const hour of batch.readingHours ?? []) this.statements.addReadings.run(hour)
    for (const change of batch.devices) {
      this.statements.upsertDevice.run({
        ...change,
        online: change.online === null ? null : Number(change.online),
        mode: change.mode ?? null,
        modeTs: change.modeTs ?? null,
      })
    }
    for (const letter of batch.deadLetters) this.statements.insertDeadLetter.run(letter)
    for (const point of batch.pitPoints) {
      this.statements.upsertPitPoint.run({
        siteId: point.siteId,
        deviceId: point.deviceId,
        pointCode: point.pointCode,
        depthKey: point.depthM === null ? '' : String(point.depthM),
        item: point.item,
        baseline: point.baseline,
        baselineTs: point.baselineTs,
        baselineConfigured: Number(point.baselineConfigured),
        lastValue: point.lastValue,
        lastTs: point.lastTs,
        history: JSON.stringify(point.history),
      })
    }
    if (batch.deliveries !== undefined) {
      for (const { deviceId, deliveries } of batch.deliveries.devices) {
        if (deliveries !== null) this.statements.saveDeliveries.run(JSON.stringify(deliveries), deviceId)
      }
      this.statements.setCursor.run(batch.deliveries.consumer, batch.deliveries.position)
    }
    this.statements.setCursor.run(batch.consumer, batch.position)
  }

  /** Telemetry readings per device with event time in [from, to), counted by whole hours. */
  async readingsPerDevice(from: number, to: number): Promise<Map<string, number>> {
    const rows = this.db
      .prepare(
        'SELECT device_id, CAST(sum(readings) AS INTEGER) AS readings FROM device_hours WHERE hour >= ? AND hour < ? GROUP BY device_id',
      )
      .all(Math.floor(from / 3_600_000), Math.ceil(to / 3_600_000)) as {
      device_id: string
      readings: number
    }[]
    return new Map(rows.map((row) => [row.device_id, row.readings]))
  }

  /** The start of the first hour each device has readings for (its backfill included). */
  async firstReadingAt(): Promise<Map<string, number>> {
    const rows = this.db
      .prepare('SELECT device_id, min(hour) AS hour FROM device_hours GROUP BY device_id')
      .all() as { device_id: string; hour: number }[]
    return new Map(rows.map((row) => [row.device_id, row.hour * 3_600_000]))
  }

  /** The newest telemetry `ts` of every device heard from (where late data begins). */
  async latestTimestamps(): Promise<Map<string, number>> {
    const rows = this.db
      .prepare('SELECT device_id, latest_ts FROM device_state WHERE latest_ts IS NOT NULL')
      .all() as { device_id: string; latest_ts: number }[]
    return new Map(rows.map((row) => [row.device_id, row.latest_ts]))
  }

  /**
   * Keeps dead letters bounded: none older than `olderThan`, at most `perDevice` per device
   * (the newest). Returns how many went.
   */
  async pruneDeadLetters(olderThan: number, perDevice: number): Promise<number> {
    return this.db.transaction(() => {
      let removed = this.db.prepare('DELETE FROM dead_letters WHERE received_at < ?').run(olderThan).changes
      const crowded = this.db
        .prepare('SELECT device_id FROM dead_letters GROUP BY device_id HAVING count(*) > ?')
        .all(perDevice) as { device_id: string | null }[]
      const trim = this.db.prepare(
        `DELETE FROM dead_letters WHERE device_id IS ? AND id <= (
           SELECT id FROM dead_letters WHERE device_id IS ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      )
      for (const { device_id } of crowded) removed += trim.run(device_id, device_id, perDevice).changes
      return removed
    })()
  }

  /** Dead letters, newest first (`before`: ids below it, to page back). */
  async listDeadLetters(filter: {
    deviceId?: string
    limit: number
    before?: number
  }): Promise<(DeadLetter & { id: number })[]> {
    const before = filter.before ?? Number.MAX_SAFE_INTEGER
    const rows = (
      filter.deviceId === undefined
        ? this.db
            .prepare('SELECT * FROM dead_letters WHERE id < ? ORDER BY id DESC LIMIT ?')
            .all(before, filter.limit)
        : this.db
            .prepare('SELECT * FROM dead_letters WHERE device_id = ? AND id < ? ORDER BY id DESC LIMIT ?')
            .all(filter.deviceId, before, filter.limit)
    ) as {
      id: number
      received_at: number
      site_id: string | null
      device_id: string | null
      topic: string
      stage: DeadLetter['stage']
      reason: string
      payload: string
    }[]
    return rows.map((row) => ({
      id: row.id,
      receivedAt: row.received_at,
      siteId: row.site_id,
      deviceId: row.device_id,
      topic: row.topic,
      stage: row.stage,
      reason: row.reason,
      payload: row.payload,
    }))
  }
}

import type pg from 'pg'
import type {
  DeadLetter,
  DeadLetterSink,
  LogCursors,
  PitPointState,
  ProjectionCommit,
  ProjectionStore,
} from '../../domain/ports.js'
import { inTransaction } from './database.js'

interface PitSeriesRow {
  site_id: string
  device_id: string
  point_code: string
  depth_key: string
  item: PitPointState['item']
  baseline: number
  baseline_ts: number
  baseline_configured: boolean
  last_value: number | null
  last_ts: number | null
  history: string
}

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>

/**
 * The durable side of ingest in PostgreSQL, the same contract as SQLite's
 * (test/storage/projection.contract.ts): log cursors, device counters and presence, dead letters,
 * readings per hour and pit series. A batch is one statement (`writeProjection`), so the worker's
 * transaction adds one round trip for all of it.
 */
export class PostgresProjectionRepository implements ProjectionStore, LogCursors, DeadLetterSink {
  constructor(private readonly pool: pg.Pool) {}

  async get(consumer: string): Promise<number> {
    const { rows } = await this.pool.query<{ position: number }>(
      'SELECT position FROM log_cursors WHERE consumer = $1',
      [consumer],
    )
    return rows[0]?.position ?? 0
  }

  async set(consumer: string, position: number): Promise<void> {
    await this.pool.query(
      'INSERT INTO log_cursors (consumer, position) VALUES ($1, $2) ON CONFLICT (consumer) DO UPDATE SET position = excluded.position',
      [consumer, position],
    )
  }

  async all(): Promise<ReadonlyMap<string, number>> {
    const { rows } = await this.pool.query<{ consumer: string; position: number }>(
      'SELECT consumer, position FROM log_cursors',
    )
    return new Map(rows.map((row) => [row.consumer, row.position]))
  }

  async add(letters: readonly DeadLetter[]): Promise<void> {
    await this.pool.query(insertDeadLetters('$1'), [JSON.stringify(letters.map(deadLetterRow))])
  }

  /** The column is still called seq_ranges, after what it held up to v0.3. */
  async loadDeliveries(): Promise<Map<string, unknown>> {
    const { rows } = await this.pool.query<{ device_id: string; seq_ranges: string }>(
      'SELECT device_id, seq_ranges FROM device_state WHERE seq_ranges IS NOT NULL',
    )
    return new Map(rows.map((row) => [row.device_id, JSON.parse(row.seq_ranges) as unknown]))
  }

  async loadPitPoints(): Promise<PitPointState[]> {
    const { rows } = await this.pool.query<PitSeriesRow>('SELECT * FROM pit_series')
    return rows.map((row) => ({
      siteId: row.site_id,
      deviceId: row.device_id,
      pointCode: row.point_code,
      depthM: row.depth_key === '' ? null : Number(row.depth_key),
      item: row.item,
      baseline: row.baseline,
      baselineTs: row.baseline_ts,
      baselineConfigured: row.baseline_configured,
      lastValue: row.last_value,
      lastTs: row.last_ts,
      history: JSON.parse(row.history) as [number, number][],
    }))
  }

  async pitPointsOf(
    siteId: string,
  ): Promise<{ deviceId: string; pointCode: string; item: PitPointState['item'] }[]> {
    const { rows } = await this.pool.query<{
      deviceId: string
      pointCode: string
      item: PitPointState['item']
    }>(
      `SELECT DISTINCT device_id AS "deviceId", point_code AS "pointCode", item FROM pit_series
        WHERE site_id = $1 ORDER BY "pointCode", "deviceId"`,
      [siteId],
    )
    return rows
  }

  async modes(): Promise<Map<string, string>> {
    const { rows } = await this.pool.query<{ device_id: string; mode: string }>(
      'SELECT device_id, mode FROM device_state WHERE mode IS NOT NULL',
    )
    return new Map(rows.map((row) => [row.device_id, row.mode]))
  }

  async commit(batch: ProjectionCommit): Promise<void> {
    await inTransaction(this.pool, (client) => writeProjection(client, batch))
  }

  async readingsPerDevice(from: number, to: number): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ device_id: string; readings: number }>(
      'SELECT device_id, sum(readings) AS readings FROM device_hours WHERE hour >= $1 AND hour < $2 GROUP BY device_id',
      [Math.floor(from / 3_600_000), Math.ceil(to / 3_600_000)],
    )
    return new Map(rows.map((row) => [row.device_id, row.readings]))
  }

  async firstReadingAt(): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ device_id: string; hour: number }>(
      'SELECT device_id, min(hour) AS hour FROM device_hours GROUP BY device_id',
    )
    return new Map(rows.map((row) => [row.device_id, row.hour * 3_600_000]))
  }

  async latestTimestamps(): Promise<Map<string, number>> {
    const { rows } = await this.pool.query<{ device_id: string; latest_ts: number }>(
      'SELECT device_id, latest_ts FROM device_state WHERE latest_ts IS NOT NULL',
    )
    return new Map(rows.map((row) => [row.device_id, row.latest_ts]))
  }

  /** None older than `olderThan`, at most `perDevice` per device (the newest). Returns how many went. */
  async pruneDeadLetters(olderThan: number, perDevice: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      `DELETE FROM dead_letters WHERE received_at < $1 OR id IN (
         SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY device_id ORDER BY id DESC) AS n
                           FROM dead_letters WHERE received_at >= $1) kept
          WHERE kept.n > $2)`,
      [olderThan, perDevice],
    )
    return rowCount ?? 0
  }

  async listDeadLetters(filter: {
    deviceId?: string
    limit: number
    before?: number
  }): Promise<(DeadLetter & { id: number })[]> {
    const { rows } = await this.pool.query<DeadLetter & { id: number }>(
      `SELECT id, received_at AS "receivedAt", site_id AS "siteId", device_id AS "deviceId", topic, stage, reason, payload
         FROM dead_letters WHERE ($1::text IS NULL OR device_id = $1) AND id < $2 ORDER BY id DESC LIMIT $3`,
      [filter.deviceId ?? null, filter.before ?? Number.MAX_SAFE_INTEGER, filter.limit],
    )
    return rows
  }
}

const deadLetterRow = (letter: DeadLetter) => ({
  received_at: letter.receivedAt,
  site_id: letter.siteId,
  device_id: letter.deviceId,
  topic: letter.topic,
  stage: letter.stage,
  reason: letter.reason,
  payload: letter.payload,
})

const insertDeadLetters = (
  param: string,
) => `INSERT INTO dead_letters (received_at, site_id, device_id, topic, stage, reason, payload)
  SELECT * FROM jsonb_to_recordset(${param}::jsonb) AS x(received_at bigint, site_id text, device_id text, topic text,
    stage text, reason text, payload text)`

/**
 * One projected batch as one statement (its data-modifying parts run on one snapshot): device
 * counters and presence, the delivery memory, readings per hour, dead letters, pit series and
 * the cursors. Call inside the caller's transaction; `ruleStates` joins the same statement.
 */
export async function writeProjection(
  client: Queryable,
  batch: ProjectionCommit,
  ruleStates: ReadonlyMap<string, object | null> = new Map(),
): Promise<void> {
  const deliveries = new Map((batch.deliveries?.devices ?? []).map((d) => [d.deviceId, d.deliveries]))
  const devices = new Map(
    batch.devices.map((change) => [
      change.deviceId,
      {
        device_id: change.deviceId,
        online: change.online,
        last_seen_at: change.lastSeenAt,
        accepted: change.accepted,
        rejected: change.rejected,
        duplicates: change.duplicates,
        last_reject_reason: change.lastRejectReason,
        last_reject_at: change.lastRejectAt,
        latest_ts: change.latestTs,
        mode: change.mode ?? null,
        mode_ts: change.modeTs ?? null,
        seq_ranges: null as string | null,
      },
    ]),
  )
  for (const [deviceId, memory] of deliveries) {
    if (memory === null) continue
    const row = devices.get(deviceId) ?? {
      device_id: deviceId,
      online: null,
      last_seen_at: null,
      accepted: 0,
      rejected: 0,
      duplicates: 0,
      last_reject_reason: null,
      last_reject_at: null,
      latest_ts: null,
      mode: null,
      mode_ts: null,
      seq_ranges: null,
    }
    row.seq_ranges = JSON.stringify(memory)
    devices.set(deviceId, row)
  }
  const cursors = [
    { consumer: batch.consumer, position: batch.position },
    ...(batch.deliveries === undefined
      ? []
      : [{ consumer: batch.deliveries.consumer, position: batch.deliveries.position }]),
  ]
  const pitSeries = batch.pitPoints.map((point) => ({
    site_id: point.siteId,
    device_id: point.deviceId,
    point_code: point.pointCode,
    depth_key: point.depthM === null ? '' : String(point.depthM),
    item: point.item,
    baseline: point.baseline,
    baseline_ts: point.baselineTs,
    baseline_configured: point.baselineConfigured,
    last_value: point.lastValue,
    last_ts: point.lastTs,
    history: JSON.stringify(point.history),
  }))
  const states = [...ruleStates].map(([key, state]) => ({
    key,
    state: state === null ? null : JSON.stringify(state),
  }))
  await client.query(
    `WITH d AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(device_id text, online boolean, last_seen_at bigint, accepted bigint,
         rejected bigint, duplicates bigint, last_reject_reason text, last_reject_at bigint, latest_ts bigint, mode text,
         mode_ts bigint, seq_ranges text)
     ), updated AS (
       UPDATE device_state s SET
         online = coalesce(d.online, s.online),
         last_seen_at = coalesce(d.last_seen_at, s.last_seen_at),
         accepted_count = s.accepted_count + d.accepted,
         rejected_count = s.rejected_count + d.rejected,
         duplicate_count = s.duplicate_count + d.duplicates,
         last_reject_reason = coalesce(d.last_reject_reason, s.last_reject_reason),
         last_reject_at = coalesce(d.last_reject_at, s.last_reject_at),
         mode = CASE WHEN d.mode IS NOT NULL AND d.mode_ts >= coalesce(s.latest_ts, 0) THEN d.mode ELSE s.mode END,
         latest_ts = greatest(s.latest_ts, d.latest_ts),
         seq_ranges = coalesce(d.seq_ranges, s.seq_ranges)
       FROM d WHERE s.device_id = d.device_id
     ), inserted AS (
       INSERT INTO device_state (device_id, online, last_seen_at, accepted_count, rejected_count, duplicate_count,
                                 last_reject_reason, last_reject_at, seq_ranges, latest_ts, mode)
       SELECT d.device_id, coalesce(d.online, false), d.last_seen_at, d.accepted, d.rejected, d.duplicates,
              d.last_reject_reason, d.last_reject_at, d.seq_ranges, d.latest_ts, d.mode
         FROM d
        WHERE EXISTS (SELECT 1 FROM devices WHERE id = d.device_id)
          AND NOT EXISTS (SELECT 1 FROM device_state s WHERE s.device_id = d.device_id)
     ), hours AS (
       INSERT INTO device_hours (device_id, hour, readings)
       SELECT * FROM jsonb_to_recordset($2::jsonb) AS x(device_id text, hour bigint, readings bigint)
       ON CONFLICT (device_id, hour) DO UPDATE SET readings = device_hours.readings + excluded.readings
     ), letters AS (
       ${insertDeadLetters('$3')}
     ), series AS (
       INSERT INTO pit_series (site_id, device_id, point_code, depth_key, item, baseline, baseline_ts,
                               baseline_configured, last_value, last_ts, history)
       SELECT * FROM jsonb_to_recordset($4::jsonb) AS x(site_id text, device_id text, point_code text, depth_key text,
         item text, baseline double precision, baseline_ts bigint, baseline_configured boolean,
         last_value double precision, last_ts bigint, history text)
       ON CONFLICT (site_id, device_id, point_code, depth_key) DO UPDATE SET item = excluded.item,
         baseline = excluded.baseline, baseline_ts = excluded.baseline_ts,
         baseline_configured = excluded.baseline_configured, last_value = excluded.last_value,
         last_ts = excluded.last_ts, history = excluded.history
     ), moved AS (
       INSERT INTO log_cursors (consumer, position)
       SELECT * FROM jsonb_to_recordset($5::jsonb) AS x(consumer text, position bigint)
       ON CONFLICT (consumer) DO UPDATE SET position = excluded.position
     ), kept AS (
       INSERT INTO rule_states (key, state)
       SELECT key, state FROM jsonb_to_recordset($6::jsonb) AS x(key text, state text) WHERE state IS NOT NULL
       ON CONFLICT (key) DO UPDATE SET state = excluded.state
     )
     DELETE FROM rule_states WHERE key IN (
       SELECT key FROM jsonb_to_recordset($6::jsonb) AS x(key text, state text) WHERE state IS NULL)`,
    [
      JSON.stringify([...devices.values()]),
      JSON.stringify(
        (batch.readingHours ?? []).map((h) => ({
          device_id: h.deviceId,
          hour: h.hour,
          readings: h.readings,
        })),
      ),
      JSON.stringify(batch.deadLetters.map(deadLetterRow)),
      JSON.stringify(pitSeries),
      JSON.stringify(cursors),
      JSON.stringify(states),
    ],
  )
}

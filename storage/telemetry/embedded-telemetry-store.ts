import type { Logger } from 'pino'
import type {
  RejectedPoint,
  TelemetryPoint,
  TelemetryQuery,
  TelemetrySeries,
  TelemetryStore,
} from '../../domain/ports.js'
import { openDatabase, type SqliteDatabase } from '../sqlite/database.js'
import type { Migration } from '../sqlite/migrations.js'

const retentionSweepMs = 3_600_000

const telemetryMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'telemetry points',
    sql: `
      CREATE TABLE telemetry (
        measurement TEXT NOT NULL,
        series TEXT NOT NULL,
        site TEXT,
        device TEXT,
        ts INTEGER NOT NULL,
        fields TEXT NOT NULL,
        PRIMARY KEY (measurement, site, device, series, ts)
      ) WITHOUT ROWID;
      CREATE INDEX telemetry_ts ON telemetry(ts);`,
  },
]
const identity = /^[A-Za-z0-9_]+$/

/** Tags in a canonical order, so the same series always has the same key. */
const seriesKey = (tags: Readonly<Record<string, string>>) =>
  JSON.stringify(Object.fromEntries(Object.entries(tags).sort(([a], [b]) => a.localeCompare(b))))

/**
 * Telemetry kept in a SQLite file of its own when no InfluxDB is configured. It behaves as
 * InfluxDB does where the shared contract tests look: a point is identified by measurement, tags
 * and timestamp; writing it again merges its fields; queries return raw or mean-per-window values.
 * Points older than the retention are swept hourly.
 */
export class EmbeddedTelemetryStore implements TelemetryStore {
  readonly name = 'embedded'
  private readonly path: string
  private readonly retentionMs: number
  private readonly logger: Logger
  private db: SqliteDatabase | null = null
  private sweepTimer: NodeJS.Timeout | null = null
  private readonly sweeps: boolean

  /** `sweeps: false` for a reader beside the writer (the API role): one sweeper is enough. */
  constructor(options: { path: string; retentionDays: number; logger: Logger; sweeps?: boolean }) {
    this.path = options.path
    this.retentionMs = options.retentionDays * 86_400_000
    this.logger = options.logger
    this.sweeps = options.sweeps ?? true
  }

  async start(): Promise<void> {
    const db = openDatabase(this.path, telemetryMigrations)
    this.db = db
    if (!this.sweeps) return
    this.sweep()
    this.sweepTimer = setInterval(() => this.sweep(), retentionSweepMs)
    this.sweepTimer.unref()
  }

  async stop(): Promise<void> {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer)
    this.db?.close()
    this.db = null
  }

  async ping(): Promise<boolean> {
    return this.db !== null
  }

  async write(points: readonly TelemetryPoint[]): Promise<RejectedPoint[]> {
    const db = this.database()
    const upsert = db.prepare(`
      INSERT INTO telemetry (measurement, series, site, device, ts, fields) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT DO UPDATE SET fields = json_patch(fields, excluded.fields)`)
    db.transaction(() => {
      for (const point of points) {
        upsert.run(
          point.measurement,
          seriesKey(point.tags),
          point.tags.site ?? null,
          point.tags.device ?? null,
          point.ts,
          JSON.stringify(point.fields),
        )
      }
    })()
    return []
  }

  async query(query: TelemetryQuery): Promise<TelemetrySeries[]> {
    if (!identity.test(query.field)) return []
    const db = this.database()
    const { site, device, ...otherTags } = query.where
    const clauses = [
      'measurement = @measurement',
      'ts >= @from',
      'ts < @to',
      `json_type(fields, '$.${query.field}') IS NOT NULL`,
    ]
    if (site !== undefined) clauses.push('site = @site')
    if (device !== undefined) clauses.push('device = @device')
    const value = `json_extract(fields, '$.${query.field}')`
    const sqlAggregate = { mean: 'avg', max: 'max', min: 'min' } as const
    const order = query.newestFirst === true ? 'DESC' : 'ASC'
    const sql =
      query.everyMs === undefined
        ? `SELECT series, ts, ${value} AS value, json_type(fields, '$.${query.field}') AS type FROM telemetry WHERE ${clauses.join(' AND ')} ORDER BY ts ${order}`
        : // better-sqlite3 binds JS numbers as REAL: cast so the window division is an integer one.
          `SELECT series, CAST(ts / @every AS INTEGER) * @every AS ts, ${sqlAggregate[query.aggregate ?? 'mean']}(${value}) AS value FROM telemetry
           WHERE ${clauses.join(' AND ')} GROUP BY series, CAST(ts / @every AS INTEGER) ORDER BY ts ${order}`
    const rows = db.prepare(sql).all({
      measurement: query.measurement,
      from: Math.floor(query.from),
      to: Math.floor(query.to),
      site,
      device,
      every: query.everyMs === undefined ? undefined : Math.floor(query.everyMs),
    }) as { series: string; ts: number; value: number | string | null; type?: string }[]

    const grouped = new Map<
      string,
      { tags: Record<string, string>; points: { ts: number; value: number | string | boolean | null }[] }
    >()
    for (const row of rows) {
      const tags = JSON.parse(row.series) as Record<string, string>
      if (Object.entries(otherTags).some(([key, wanted]) => tags[key] !== wanted)) continue
      const groupTags = Object.fromEntries(query.groupBy.map((key) => [key, tags[key] ?? '']))
      const key = JSON.stringify(groupTags)
      let group = grouped.get(key)
      if (group === undefined) {
        group = { tags: groupTags, points: [] }
        grouped.set(key, group)
      }
      const value = row.type === 'true' ? true : row.type === 'false' ? false : row.value
      if (group.points.length < query.limit) group.points.push({ ts: row.ts, value })
    }
    // Several series can land in one group (e.g. all points of a device): merge by timestamp.
    const byTime =
      query.newestFirst === true
        ? (a: { ts: number }, b: { ts: number }) => b.ts - a.ts
        : (a: { ts: number }, b: { ts: number }) => a.ts - b.ts
    return [...grouped.values()].map((group) => ({ tags: group.tags, points: group.points.sort(byTime) }))
  }

  private sweep(): void {
    try {
      const removed = this.database()
        .prepare('DELETE FROM telemetry WHERE ts < ?')
        .run(Date.now() - this.retentionMs).changes
      if (removed > 0) this.logger.info({ removed }, 'telemetry retention sweep')
    } catch (error) {
      this.logger.error({ err: error }, 'telemetry retention sweep failed')
    }
  }

  private database(): SqliteDatabase {
    if (this.db === null) throw new Error('embedded telemetry store is not started')
    return this.db
  }
}

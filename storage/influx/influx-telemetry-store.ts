import { escape as lineEscape } from '@influxdata/influxdb-client'
import type { Logger } from 'pino'
import type {
  RejectedPoint,
  TelemetryPoint,
  TelemetryQuery,
  TelemetrySeries,
  TelemetryStore,
} from '../../domain/ports.js'
import { type InfluxConnection, InfluxV1Client, quoteIdentifier, quoteString } from './influx-client.js'

/** An outage or a misconfiguration: the shipper keeps the batch and retries with backoff. */
export class TelemetryUnavailableError extends Error {
  override readonly name = 'TelemetryUnavailableError'
}

/**
 * One point as a line of InfluxDB line protocol. Escaping is the maintained client library's
 * (`escape` of @influxdata/influxdb-client); building its `Point` objects instead cost 1.8 % of
 * the engine's CPU at 14,000 messages/s (BENCHMARKS.md), so the line is assembled here. Tags are
 * sorted by key, as InfluxDB recommends; empty tag values are left out, as line protocol requires.
 */
export function toLineProtocol(point: TelemetryPoint): string {
  let line = lineEscape.measurement(point.measurement)
  for (const key of Object.keys(point.tags).sort()) {
    const value = point.tags[key]
    if (value !== undefined && value !== '') line += `,${lineEscape.tag(key)}=${lineEscape.tag(value)}`
  }
  let separator = ' '
  for (const [key, value] of Object.entries(point.fields)) {
    const text =
      typeof value === 'number'
        ? String(value)
        : typeof value === 'boolean'
          ? value
            ? 'T'
            : 'F'
          : lineEscape.quoted(value)
    line += `${separator}${lineEscape.tag(key)}=${text}`
    separator = ','
  }
  if (separator === ' ') throw new Error(`point of ${point.measurement} has no fields`)
  return `${line} ${Math.trunc(point.ts)}`
}

/**
 * Telemetry in InfluxDB through the v1 HTTP API (CONTRACT §3). Creates the database on 1.x when
 * it is missing. A batch InfluxDB refuses as bad data (400) is split in halves until the bad
 * points are isolated; those are returned for dead-lettering and the rest is written, so one bad
 * point never blocks the stream.
 */
export class InfluxTelemetryStore implements TelemetryStore {
  readonly name = 'influxdb'
  private readonly client: InfluxV1Client
  private readonly connection: InfluxConnection
  private readonly logger: Logger
  private readonly createsDatabase: boolean

  /** `createsDatabase: false` for a reader beside the writer (the API role): the writer does it. */
  constructor(connection: InfluxConnection, logger: Logger, options: { createsDatabase?: boolean } = {}) {
    this.connection = connection
    this.client = new InfluxV1Client(connection)
    this.logger = logger
    this.createsDatabase = options.createsDatabase ?? true
  }

  async start(): Promise<void> {
    if (!this.createsDatabase) return
    // Unreachable now is fine: the shipper spools in the log and retries.
    await this.ensureDatabase().catch((error: unknown) =>
      this.logger.warn(
        { err: error, url: this.connection.url },
        'InfluxDB not ready at start; telemetry will be spooled',
      ),
    )
  }

  async stop(): Promise<void> {}

  ping(): Promise<boolean> {
    return this.client.ping()
  }

  async write(points: readonly TelemetryPoint[]): Promise<RejectedPoint[]> {
    if (points.length === 0) return []
    const outcome = await this.send(points.map(toLineProtocol).join('\n'))
    if (outcome.ok) return []
    if (outcome.status === 404 && /database not found/i.test(outcome.error)) {
      await this.ensureDatabase()
      throw new TelemetryUnavailableError(`database ${this.connection.database} was missing; created it`)
    }
    if (outcome.status === 400 || outcome.status === 413) {
      if (points.length === 1) {
        const [point] = points
        return point === undefined
          ? []
          : [{ point, reason: `InfluxDB refused the point (${outcome.status}): ${outcome.error}` }]
      }
      const middle = Math.ceil(points.length / 2)
      return [...(await this.write(points.slice(0, middle))), ...(await this.write(points.slice(middle)))]
    }
    throw new TelemetryUnavailableError(`InfluxDB /write answered ${outcome.status}: ${outcome.error}`)
  }

  async query(query: TelemetryQuery): Promise<TelemetrySeries[]> {
    const conditions = Object.entries(query.where).map(
      ([tag, value]) => `${quoteIdentifier(tag)} = ${quoteString(value)}`,
    )
    conditions.push(`time >= ${Math.floor(query.from)}ms`, `time < ${Math.floor(query.to)}ms`)
    const field = quoteIdentifier(query.field)
    const select =
      query.everyMs === undefined ? `${field} AS value` : `${query.aggregate ?? 'mean'}(${field}) AS value`
    const groups = query.groupBy.map(quoteIdentifier)
    if (query.everyMs !== undefined) groups.unshift(`time(${Math.floor(query.everyMs)}ms)`)
    const groupBy = groups.length === 0 ? '' : ` GROUP BY ${groups.join(', ')}`
    const fill = query.everyMs === undefined ? '' : ' fill(none)'
    const order = query.newestFirst === true ? 'DESC' : 'ASC'
    const influxql = `SELECT ${select} FROM ${quoteIdentifier(query.measurement)} WHERE ${conditions.join(' AND ')}${groupBy}${fill} ORDER BY time ${order} LIMIT ${query.limit}`
    let series: Awaited<ReturnType<InfluxV1Client['query']>>
    try {
      series = await this.client.query(influxql)
    } catch (error) {
      throw new TelemetryUnavailableError((error as Error).message)
    }
    return series.map((one) => ({
      tags: one.tags ?? {},
      points: one.values
        .map((row) => ({ ts: Number(row[0]), value: (row[1] ?? null) as number | string | boolean | null }))
        .filter((point) => point.value !== null),
    }))
  }

  private async send(lines: string) {
    try {
      return await this.client.write(lines)
    } catch (error) {
      throw new TelemetryUnavailableError(`InfluxDB unreachable: ${(error as Error).message}`)
    }
  }

  private async ensureDatabase(): Promise<void> {
    // InfluxDB 1.x only; 2.x/3.x map the database to a bucket (DBRP) and refuse CREATE DATABASE.
    await this.client
      .query(`CREATE DATABASE ${quoteIdentifier(this.connection.database)}`, {
        method: 'POST',
        database: false,
      })
      .catch((error: unknown) => {
        if (/unreachable|fetch failed|ECONNREFUSED|aborted/i.test(String(error))) throw error
        this.logger.info({ err: error }, 'CREATE DATABASE refused; assuming a 2.x/3.x DBRP mapping')
      })
  }
}

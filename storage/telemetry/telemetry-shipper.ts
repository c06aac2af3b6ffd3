import type { Logger } from 'pino'
import type {
  DeadLetter,
  DeadLetterSink,
  LogCursors,
  ReadableLog,
  RejectedPoint,
  TelemetryPoint,
  TelemetryStore,
} from '../../domain/ports.js'
import { toLineProtocol } from '../influx/influx-telemetry-store.js'
import { pointsOf } from './points.js'

export const shipperConsumer = 'shipper'

/** Points the telemetry store refused as bad data, as dead letters with its reason (stage telemetry). */
export function refusedPointLetters(rejected: readonly RejectedPoint[], now: number): DeadLetter[] {
  return rejected.map(({ point, reason }) => ({
    receivedAt: now,
    siteId: point.tags.site ?? null,
    deviceId: point.tags.device ?? null,
    topic: point.measurement,
    stage: 'telemetry',
    reason,
    payload: toLineProtocol(point),
  }))
}

export interface ShipperMetrics {
  written(points: number): void
  writeFailed(): void
  rejected(points: number): void
}

export interface ShipperOptions {
  readonly log: ReadableLog
  readonly cursors: LogCursors
  readonly store: TelemetryStore
  readonly deadLetters: DeadLetterSink
  readonly metrics: ShipperMetrics
  readonly logger: Logger
  /** Up to this many points per write (issue: 5,000 lines). */
  readonly maxBatchPoints?: number
  /** A partial batch waits at most this long for more points (issue: 1 s). */
  readonly maxBatchDelayMs?: number
  readonly retryInitialMs?: number
  readonly retryMaxMs?: number
  /** The loop ended with an error nothing inside it handles: telemetry would stop silently. */
  readonly onFatal?: (error: Error) => void
}

interface BufferedRecord {
  readonly points: TelemetryPoint[]
  /** Log position just past this record: the cursor once it is written. */
  readonly end: number
  readonly receivedAt: number
}

/**
 * Ships telemetry from the write-ahead log to the telemetry store in log order: batches of up
 * to 5,000 points or 1 s, retried with exponential backoff and jitter while the store is down.
 * The cursor (and so the log's trim point) moves only after the store confirmed the batch (2xx).
 * Writes are idempotent by device timestamp, so a crash between write and cursor merely
 * rewrites the same points.
 */
export class TelemetryShipper {
  private readonly options: Required<Omit<ShipperOptions, 'onFatal'>> & Pick<ShipperOptions, 'onFatal'>
  private buffer: BufferedRecord[] = []
  private bufferedPoints = 0
  private readPosition = 0
  private shippedPosition = 0
  private firstBufferedAt = 0
  private failing = false
  private backingOff = false
  private stopping = false
  private running: Promise<void> | null = null
  private wake: (() => void) | null = null
  private unsubscribe: (() => void) | null = null

  constructor(options: ShipperOptions) {
    this.options = {
      maxBatchPoints: 5_000,
      maxBatchDelayMs: 1_000,
      retryInitialMs: 500,
      retryMaxMs: 30_000,
      ...options,
    }
  }

  /** Where the shipper's committed cursor stands. */
  get cursor(): number {
    return this.shippedPosition
  }

  /** Seconds since the oldest telemetry not yet confirmed by the store was received; 0 when caught up. */
  lagSeconds(now = Date.now()): number {
    const oldest = this.buffer[0]
    if (oldest === undefined || this.shippedPosition >= this.options.log.endPosition) return 0
    return Math.max(0, (now - oldest.receivedAt) / 1000)
  }

  /** True while the store refuses or cannot be reached (telemetry is spooling in the log). */
  get spooling(): boolean {
    return this.failing
  }

  /** Reads its cursor, then ships; `stop` waits for both. */
  start(): void {
    // New records end an idle wait early, but never a backoff: an outage is not hammered.
    this.unsubscribe = this.options.log.onCommit(() => {
      if (!this.backingOff) this.wake?.()
    })
    const resume = async () => {
      this.shippedPosition = await this.options.cursors.get(shipperConsumer)
      this.readPosition = this.shippedPosition
      await this.run()
    }
    this.running = resume().catch((error: unknown) => {
      this.options.logger.fatal({ err: error }, 'telemetry shipper stopped unexpectedly')
      this.options.onFatal?.(error instanceof Error ? error : new Error(String(error)))
    })
  }

  /** Stops after one last attempt to ship what is buffered; the rest stays in the log. */
  async stop(): Promise<void> {
    this.stopping = true
    this.unsubscribe?.()
    this.wake?.()
    await this.running
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        this.fill()
      } catch (error) {
        this.options.logger.error(
          { err: error, position: this.readPosition },
          'reading the write-ahead log failed; will retry',
        )
        this.backingOff = true
        await this.sleep(this.options.retryMaxMs)
        this.backingOff = false
        continue
      }
      if (this.buffer.length === 0) {
        await this.sleep(this.options.maxBatchDelayMs)
        continue
      }
      const waited = Date.now() - this.firstBufferedAt
      if (this.bufferedPoints < this.options.maxBatchPoints && waited < this.options.maxBatchDelayMs) {
        await this.sleep(this.options.maxBatchDelayMs - waited)
        continue
      }
      await this.shipWithRetry()
    }
    try {
      this.fill()
      if (this.buffer.length > 0) await this.shipOnce()
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        'final telemetry flush failed; the rest ships after the restart',
      )
    }
  }

  /** Reads records from the log into memory, up to two batches' worth. */
  private fill(): void {
    while (this.bufferedPoints < 2 * this.options.maxBatchPoints) {
      const { records, next } = this.options.log.readFrom(this.readPosition, 1_000)
      if (records.length === 0) return
      records.forEach(({ record }, index) => {
        const end = records[index + 1]?.position ?? next
        const points = pointsOf(record)
        if (this.buffer.length === 0) this.firstBufferedAt = Date.now()
        this.buffer.push({ points, end, receivedAt: record.receivedAt })
        this.bufferedPoints += points.length
      })
      this.readPosition = next
    }
  }

  private async shipWithRetry(): Promise<void> {
    let delayMs = this.options.retryInitialMs
    for (;;) {
      try {
        await this.shipOnce()
        if (this.failing) this.options.logger.info('telemetry store is back; shipping the backlog')
        this.failing = false
        return
      } catch (error) {
        this.options.metrics.writeFailed()
        if (!this.failing) {
          this.options.logger.error(
            { err: error, store: this.options.store.name },
            'telemetry write failed; spooling in the log and retrying',
          )
        }
        this.failing = true
        if (this.stopping) return
        this.backingOff = true
        await this.sleep(delayMs * (0.5 + Math.random()))
        this.backingOff = false
        delayMs = Math.min(delayMs * 2, this.options.retryMaxMs)
      }
    }
  }

  /** Writes the oldest whole records, up to the batch size (at least one record). */
  private async shipOnce(): Promise<void> {
    let count = 0
    let points = 0
    while (count < this.buffer.length) {
      const next = this.buffer[count] as BufferedRecord
      if (count > 0 && points + next.points.length > this.options.maxBatchPoints) break
      points += next.points.length
      count += 1
    }
    const batch = this.buffer.slice(0, count)
    const last = batch.at(-1)
    if (last === undefined) return
    const rejected = await this.options.store.write(batch.flatMap((record) => record.points))
    if (rejected.length > 0) {
      this.options.metrics.rejected(rejected.length)
      await this.options.deadLetters.add(refusedPointLetters(rejected, Date.now()))
      this.options.logger.warn(
        { points: rejected.length, reason: rejected[0]?.reason },
        'telemetry store refused points; dead-lettered',
      )
    }
    this.options.metrics.written(points - rejected.length)
    await this.options.cursors.set(shipperConsumer, last.end)
    this.shippedPosition = last.end
    this.buffer = this.buffer.slice(count)
    this.bufferedPoints -= points
    if (this.buffer.length > 0) this.firstBufferedAt = Date.now()
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wake = () => {
        this.wake = null
        done()
      }
    })
  }
}

import type { Logger } from 'pino'
import type {
  AlertEventPointSource,
  DeadLetterSink,
  LogCursors,
  TelemetryPoint,
  TelemetryStore,
} from '../../domain/ports.js'
import { refusedPointLetters, type ShipperMetrics } from './telemetry-shipper.js'

export const alertEventsConsumer = 'shipper.alert_events'
const pageEvents = 5_000
const idleMs = 1_000
const retryInitialMs = 500
const retryMaxMs = 30_000

export interface AlertEventShipperOptions {
  readonly source: AlertEventPointSource
  readonly cursors: LogCursors
  readonly store: TelemetryStore
  readonly deadLetters: DeadLetterSink
  readonly metrics: ShipperMetrics
  readonly logger: Logger
}

/** CONTRACT §3: one alert_event point per timeline event, at the event's engine time. */
export function alertEventPoint(event: {
  readonly at: number
  readonly alertId: string
  readonly siteId: string
  readonly deviceId: string
  readonly ruleId: string
  readonly severity: string
  readonly eventType: string
  readonly state: string
  readonly value: number | null
}): TelemetryPoint {
  const fields: Record<string, string | number> = {
    alert_id: event.alertId,
    type: event.eventType,
    state: event.state,
  }
  if (event.value !== null) fields.value = event.value
  return {
    measurement: 'alert_event',
    tags: { site: event.siteId, device: event.deviceId, rule: event.ruleId, severity: event.severity },
    fields,
    ts: event.at,
  }
}

/**
 * Ships the alert timelines to the telemetry store from the store itself, by a cursor of its
 * own (the event seq), not through the write-ahead log: the rules and alerts never write the
 * log, so they can run apart from the edge that owns it (issue 14). Retried with backoff while the
 * telemetry store is down; the cursor moves only after it confirmed the points.
 */
export class AlertEventShipper {
  private readonly options: AlertEventShipperOptions
  private cursor = 0
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private starting: Promise<void> | null = null
  /** The cursor is known: nothing ships before it is. */
  private resumed = false
  private retryMs = retryInitialMs
  private failing = false
  private stopped = false

  constructor(options: AlertEventShipperOptions) {
    this.options = options
  }

  /** Reads its cursor, then ships; resolves once the cursor is read (`stop` waits for it too). */
  start(): Promise<void> {
    this.starting = this.resume().then(
      () => this.schedule(0),
      (error: unknown) => {
        this.options.logger.error({ err: error }, 'reading the alert events cursor failed; retrying')
        this.failing = true
        this.starting = null
        if (!this.stopped) setTimeout(() => void this.start(), this.retryMs).unref()
      },
    )
    return this.starting
  }

  private async resume(): Promise<void> {
    const saved = (await this.options.cursors.all()).get(alertEventsConsumer)
    if (saved === undefined) {
      // A store from before: its events went to telemetry through the log already.
      this.cursor = await this.options.source.lastSeq()
      await this.options.cursors.set(alertEventsConsumer, this.cursor)
    } else {
      this.cursor = saved
    }
    this.resumed = true
  }

  /** Something was committed to a timeline: ship it soon. */
  wake(): void {
    if (!this.failing) this.schedule(0)
  }

  /** One last attempt; what is left ships after the restart. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.starting
    if (this.timer !== null) clearTimeout(this.timer)
    await this.running
    if (this.resumed && !this.failing) await this.shipPage().catch(() => undefined)
  }

  private schedule(delayMs: number): void {
    if (this.stopped || !this.resumed || this.running !== null) return
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = null
      this.running = this.shipAll().finally(() => {
        this.running = null
        this.schedule(this.failing ? this.retryMs : idleMs)
      })
    }, delayMs)
    this.timer.unref()
  }

  private async shipAll(): Promise<void> {
    try {
      while (!this.stopped && (await this.shipPage()) === pageEvents) {}
      if (this.failing) this.options.logger.info('telemetry store is back; alert events shipped')
      this.failing = false
      this.retryMs = retryInitialMs
    } catch (error) {
      this.options.metrics.writeFailed()
      if (!this.failing)
        this.options.logger.error({ err: error }, 'writing alert events to telemetry failed; retrying')
      this.failing = true
      this.retryMs = Math.min(this.retryMs * 2, retryMaxMs)
    }
  }

  /** Ships one page; returns how many events it held. */
  private async shipPage(): Promise<number> {
    const events = await this.options.source.after(this.cursor, pageEvents)
    const last = events.at(-1)
    if (last === undefined) return 0
    const rejected = await this.options.store.write(events.map(alertEventPoint))
    if (rejected.length > 0) {
      this.options.metrics.rejected(rejected.length)
      await this.options.deadLetters.add(refusedPointLetters(rejected, Date.now()))
      this.options.logger.warn(
        { points: rejected.length, reason: rejected[0]?.reason },
        'telemetry store refused alert events; dead-lettered',
      )
    }
    this.options.metrics.written(events.length - rejected.length)
    this.cursor = last.seq
    await this.options.cursors.set(alertEventsConsumer, this.cursor)
    return events.length
  }
}

import type { LogRecord } from '../domain/log-record.js'
import type { RateWindow } from '../domain/pit-series.js'
import type { PitPointState } from '../domain/ports.js'
import { eventTime, type ReadingSource } from '../domain/reading.js'
import { PitPoints } from './pit-points.js'
import { RecentDeliveries } from './recent-deliveries.js'

/**
 * What admission must remember across messages: recent deliveries per lane and pit point history.
 * It runs ahead of the projector (it changes at admission, before the log write); after a
 * restart it is rebuilt from the projector's last snapshot plus a replay of the log tail, which
 * is idempotent, so the two always agree.
 */
export interface IngestSnapshot {
  readonly deliveries: ReadonlyMap<string, unknown>
  readonly pitPoints: readonly PitPointState[]
}

export class IngestState {
  readonly pitPoints: PitPoints
  /**
   * Per device, and apart from it what officers typed for it: an officer's seqs must never make
   * the device's genuine readings look like resends.
   */
  private readonly deliveries = new Map<string, Partial<Record<ReadingSource, RecentDeliveries>>>()

  constructor(snapshot: IngestSnapshot, rateWindow?: RateWindow) {
    this.pitPoints = new PitPoints([], rateWindow)
    this.restore(snapshot)
  }

  /** Loads a saved snapshot (a role reads it from the store as it starts, then replays the log). */
  restore(snapshot: IngestSnapshot): void {
    for (const [deviceId, saved] of snapshot.deliveries) {
      const lanes = (typeof saved === 'object' && saved !== null ? saved : {}) as Record<string, unknown>
      this.deliveries.set(deviceId, {
        mqtt: RecentDeliveries.fromJSON(lanes.mqtt),
        manual: RecentDeliveries.fromJSON(lanes.manual),
      })
    }
    this.pitPoints.load(snapshot.pitPoints)
  }

  isDuplicate(deviceId: string, source: ReadingSource, seq: number, ts: number): boolean {
    return this.deliveries.get(deviceId)?.[source]?.has(seq, ts) ?? false
  }

  addDelivery(deviceId: string, source: ReadingSource, seq: number, ts: number): void {
    let lanes = this.deliveries.get(deviceId)
    if (lanes === undefined) {
      lanes = {}
      this.deliveries.set(deviceId, lanes)
    }
    lanes[source] ??= new RecentDeliveries()
    lanes[source].add(seq, ts)
  }

  /** What to save for a device, or null when it has delivered nothing with a seq. */
  deliveriesOf(deviceId: string): unknown {
    const lanes = this.deliveries.get(deviceId)
    return lanes === undefined ? null : { mqtt: lanes.mqtt?.toJSON(), manual: lanes.manual?.toJSON() }
  }

  /**
   * Remembers a logged record's deliveries again. The saved memory may already hold them (it is
   * taken at admission's pace, ahead of its cursor), so a pair it holds is not added twice.
   */
  replayDeliveries(record: LogRecord): void {
    if (record.type !== 'message') return
    for (const item of record.items) {
      if (item.seq === undefined) continue
      if (!this.isDuplicate(record.deviceId, record.source, item.seq, item.ts))
        this.addDelivery(record.deviceId, record.source, item.seq, item.ts)
    }
  }

  /** Applies a logged record again, without re-deciding anything it already decided. */
  replay(record: LogRecord): void {
    if (record.type !== 'message') return
    this.replayDeliveries(record)
    if (record.kind === 'pit' && record.channel === 'telemetry') {
      for (const item of record.items) {
        const at = eventTime(item.ts, record.receivedAt)
        for (const point of item.points) this.pitPoints.replay(record.siteId, record.deviceId, point, at)
      }
    }
  }
}

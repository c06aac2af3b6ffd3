import type { LogRecord } from '../domain/log-record.js'
import type { RateWindow } from '../domain/pit-series.js'
import type { PitPointState } from '../domain/ports.js'
import { PitPoints } from './pit-points.js'
import { type SeqRange, SeqRanges } from './seq-ranges.js'

/**
 * What admission must remember across messages: seqs seen per device and pit point history.
 * It runs ahead of the projector (it changes at admission, before the log write); after a
 * restart it is rebuilt from the projector's last snapshot plus a replay of the log tail, which
 * is idempotent, so the two always agree.
 */
export class IngestState {
  readonly pitPoints: PitPoints
  private readonly seqs = new Map<string, SeqRanges>()

  constructor(
    snapshot: { seqRanges: Map<string, unknown>; pitPoints: readonly PitPointState[] },
    rateWindow?: RateWindow,
  ) {
    for (const [deviceId, ranges] of snapshot.seqRanges) {
      if (Array.isArray(ranges)) this.seqs.set(deviceId, new SeqRanges(ranges as SeqRange[]))
    }
    this.pitPoints = new PitPoints(snapshot.pitPoints, rateWindow)
  }

  isDuplicate(deviceId: string, seq: number, ts: number): boolean {
    return this.seqs.get(deviceId)?.isDuplicate(seq, ts) ?? false
  }

  addSeq(deviceId: string, seq: number, ts: number): void {
    let ranges = this.seqs.get(deviceId)
    if (ranges === undefined) {
      ranges = new SeqRanges()
      this.seqs.set(deviceId, ranges)
    }
    ranges.add(seq, ts)
  }

  seqRangesOf(deviceId: string): SeqRange[] | null {
    return this.seqs.get(deviceId)?.toJSON() ?? null
  }

  /** Applies a logged record again, without re-deciding anything it already decided. */
  replay(record: LogRecord): void {
    if (record.type !== 'message') return
    for (const item of record.items) {
      if (item.seq !== undefined) this.addSeq(record.deviceId, item.seq, item.ts)
    }
    if (record.kind === 'pit' && record.channel === 'telemetry') {
      for (const item of record.items) {
        for (const point of item.points) this.pitPoints.replay(record.siteId, record.deviceId, point, item.ts)
      }
    }
  }
}

import type { PitPointState } from '../domain/ports.js'
import type { PitPointReading } from '../domain/reading.js'

const msPerDay = 86_400_000

const keyOf = (siteId: string, pointCode: string) => `${siteId}\u0000${pointCode}`

/**
 * Per pit point: the baseline (configured, or the first accepted reading: GB 50497-2019 §3.0.6's
 * initial value) and the latest reading in event time, from which each new reading's cumulative
 * change and rate per day are derived (GB 50497-2019 §8.0.3: dual control of cumulative and rate).
 */
export class PitPoints {
  private readonly points = new Map<string, PitPointState>()
  private readonly touched = new Set<string>()

  constructor(initial: readonly PitPointState[] = []) {
    for (const state of initial) this.points.set(keyOf(state.siteId, state.pointCode), { ...state })
  }

  derive(
    siteId: string,
    point: { pointCode: string; item: PitPointReading['item']; value: number; depthM?: number | undefined },
    ts: number,
  ): PitPointReading {
    const state = this.stateFor(siteId, point.pointCode, point.item, point.value, ts)
    let ratePerDay: number | null = null
    if (state.lastTs !== null && state.lastValue !== null && ts > state.lastTs) {
      ratePerDay = ((point.value - state.lastValue) * msPerDay) / (ts - state.lastTs)
    }
    if (state.lastTs === null || ts > state.lastTs) {
      state.lastTs = ts
      state.lastValue = point.value
    }
    this.touched.add(keyOf(siteId, point.pointCode))
    return { ...point, cumulative: point.value - state.baseline, ratePerDay }
  }

  /** Re-applies a reading already derived (replay of the log after a restart). */
  replay(siteId: string, point: PitPointReading, ts: number): void {
    const state = this.stateFor(siteId, point.pointCode, point.item, point.value - point.cumulative, ts)
    if (state.lastTs === null || ts > state.lastTs) {
      state.lastTs = ts
      state.lastValue = point.value
    }
    this.touched.add(keyOf(siteId, point.pointCode))
  }

  /** A baseline set by the designer or surveyor (point settings): later readings count from it. */
  configure(
    siteId: string,
    pointCode: string,
    item: PitPointReading['item'],
    baseline: number,
    ts: number,
  ): void {
    const state = this.stateFor(siteId, pointCode, item, baseline, ts)
    state.baseline = baseline
    state.baselineConfigured = true
    this.touched.add(keyOf(siteId, pointCode))
  }

  /** States changed since the last call, for the projector to persist. */
  takeTouched(): PitPointState[] {
    const out: PitPointState[] = []
    for (const key of this.touched) {
      const state = this.points.get(key)
      if (state !== undefined) out.push({ ...state })
    }
    this.touched.clear()
    return out
  }

  private stateFor(
    siteId: string,
    pointCode: string,
    item: PitPointReading['item'],
    baseline: number,
    ts: number,
  ): PitPointState {
    const key = keyOf(siteId, pointCode)
    let state = this.points.get(key)
    if (state === undefined || state.item !== item) {
      // A new point, or a code re-used for another item: its first reading is the baseline.
      state = {
        siteId,
        pointCode,
        item,
        baseline,
        baselineTs: ts,
        baselineConfigured: false,
        lastValue: null,
        lastTs: null,
      }
      this.points.set(key, state)
    }
    return state
  }
}

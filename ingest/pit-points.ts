import type { PitItem } from '../domain/payloads.js'
import {
  defaultRateWindow,
  deriveValues,
  type PitSeriesState,
  type RateWindow,
  recordReading,
  seriesKeyOf,
} from '../domain/pit-series.js'
import type { PitPointReading } from '../domain/reading.js'

type PointInput = { pointCode: string; item: PitItem; value: number; depthM?: number | undefined }

/**
 * Every pit series (a device's point, at one depth for an inclinometer): its baseline and recent
 * history, from which each reading's cumulative change, rate per day over the rate window and
 * previous value are derived (GB 50497-2019 §8.0.3: dual control of cumulative and rate).
 * A series belongs to the device that measures it: another device reporting the same point code
 * keeps a series of its own and never rewrites the first one's baseline.
 */
export class PitPoints {
  private readonly series = new Map<string, PitSeriesState>()
  /** The series last written per site and point code (for differential settlement). */
  private readonly latestByPoint = new Map<string, PitSeriesState>()
  private readonly touched = new Set<string>()
  /** Baselines configured for points no device has reported yet. */
  private readonly pendingBaselines = new Map<string, { item: PitItem; baseline: number; ts: number }>()
  private readonly window: RateWindow

  constructor(initial: readonly PitSeriesState[] = [], window: RateWindow = defaultRateWindow) {
    this.window = window
    this.load(initial)
  }

  /** Adds saved series (a restart's snapshot, read from the store once the role starts). */
  load(initial: readonly PitSeriesState[]): void {
    for (const state of initial) {
      const copy = { ...state, history: state.history.map(([ts, value]) => [ts, value] as [number, number]) }
      this.series.set(keyOf(copy), copy)
      this.noteLatest(copy)
    }
  }

  derive(siteId: string, deviceId: string, point: PointInput, ts: number): PitPointReading {
    const state = this.stateFor(siteId, deviceId, point, point.value, ts)
    const derived = deriveValues(state, point.value, ts, this.window)
    recordReading(state, point.value, ts, this.window)
    this.touch(state)
    return { ...point, ...derived }
  }

  /** Re-applies a reading already derived (replay of the log after a restart). */
  replay(siteId: string, deviceId: string, point: PitPointReading, ts: number): void {
    const state = this.stateFor(siteId, deviceId, point, point.value - point.cumulative, ts)
    recordReading(state, point.value, ts, this.window)
    this.touch(state)
  }

  /** A baseline set by the designer or surveyor (point settings): later readings count from it. */
  configure(siteId: string, pointCode: string, item: PitItem, baseline: number, ts: number): void {
    let found = false
    for (const state of this.series.values()) {
      if (state.siteId !== siteId || state.pointCode !== pointCode || state.depthM !== null) continue
      found = true
      if (state.item !== item) continue
      state.baseline = baseline
      state.baselineConfigured = true
      this.touch(state)
    }
    if (!found) {
      // Kept until a device reports the point; its first reading then counts from this baseline.
      this.pendingBaselines.set(`${siteId}\u0000${pointCode}`, { item, baseline, ts })
    }
  }

  /** The latest cumulative change of a point on a site, whichever device measures it. */
  cumulativeOf(siteId: string, pointCode: string): number | null {
    const state = this.latestByPoint.get(`${siteId}\u0000${pointCode}`)
    return state === undefined || state.lastValue === null ? null : state.lastValue - state.baseline
  }

  /** States changed since the last call, for the projector to persist. */
  takeTouched(): PitSeriesState[] {
    const out: PitSeriesState[] = []
    for (const key of this.touched) {
      const state = this.series.get(key)
      if (state !== undefined) out.push({ ...state, history: state.history.map((entry) => [...entry]) })
    }
    this.touched.clear()
    return out
  }

  private touch(state: PitSeriesState): void {
    this.touched.add(keyOf(state))
    this.noteLatest(state)
  }

  private noteLatest(state: PitSeriesState): void {
    if (state.depthM !== null) return
    const key = `${state.siteId}\u0000${state.pointCode}`
    const current = this.latestByPoint.get(key)
    if (current === undefined || (state.lastTs ?? 0) >= (current.lastTs ?? 0))
      this.latestByPoint.set(key, state)
  }

  private stateFor(
    siteId: string,
    deviceId: string,
    point: { pointCode: string; item: PitItem; depthM?: number | undefined },
    firstValue: number,
    ts: number,
  ): PitSeriesState {
    const depthM = point.depthM ?? null
    const key = seriesKeyOf(siteId, deviceId, point.pointCode, depthM)
    let state = this.series.get(key)
    if (state === undefined || state.item !== point.item) {
      // A new series, or a code re-used for another item: its first reading is the baseline,
      // unless the designer configured one for the point.
      const pending =
        depthM === null ? this.pendingBaselines.get(`${siteId}\u0000${point.pointCode}`) : undefined
      const configured = pending !== undefined && pending.item === point.item
      state = {
        siteId,
        deviceId,
        pointCode: point.pointCode,
        depthM,
        item: point.item,
        baseline: configured ? pending.baseline : firstValue,
        baselineTs: configured ? pending.ts : ts,
        baselineConfigured: configured,
        lastValue: null,
        lastTs: null,
        history: [],
      }
      this.series.set(key, state)
    }
    return state
  }
}

const keyOf = (state: PitSeriesState) =>
  seriesKeyOf(state.siteId, state.deviceId, state.pointCode, state.depthM)

import { atResolution, type PitItem, pitItemUnits } from './payloads.js'

const msPerDay = 86_400_000
/** The history keeps one reading per 1/48 of the rate window (30 min of a 24 h window). */
const bucketsPerWindow = 48
const maxHistory = 4 * bucketsPerWindow

/**
 * GB 50497-2019 §8.0.3 gives rates per day. A rate is taken over a window of event time (24 h by
 * default), never per reading interval, so 0.1 mm of instrument jitter between 15-minute readings
 * is 0.1 mm/d, not 9.6 mm/d (DOMAIN.md §4). The span divided by is at least `minSpanMs`.
 */
export interface RateWindow {
  readonly windowMs: number
  readonly minSpanMs: number
}

export const defaultRateWindow: RateWindow = { windowMs: msPerDay, minSpanMs: msPerDay }

/**
 * One measured series: a pit point, at one depth for an inclinometer, of one device. The baseline
 * is configured or the first accepted reading (GB 50497-2019 §3.0.6, the initial value).
 */
export interface PitSeriesState {
  siteId: string
  deviceId: string
  pointCode: string
  /** The inclinometer depth, or null for a point measured at one place. */
  depthM: number | null
  item: PitItem
  baseline: number
  baselineTs: number
  baselineConfigured: boolean
  lastValue: number | null
  lastTs: number | null
  /** Readings in event time, one per bucket, reaching back one window before the newest. */
  history: [ts: number, value: number][]
}

/** What a reading means against its series' past. */
export interface DerivedPitValues {
  /** value − baseline, at the item's resolution. */
  readonly cumulative: number
  /** Change per day over the rate window, at the item's resolution; null for the first reading. */
  readonly ratePerDay: number | null
  /** The reading before this one in event time (a step, a force that collapsed). */
  readonly previousValue: number | null
  /** The reading one rate window back (the rate's reference). */
  readonly referenceValue: number | null
}

export function deriveValues(
  state: PitSeriesState,
  value: number,
  ts: number,
  window: RateWindow,
): DerivedPitValues {
  const resolution = pitItemUnits[state.item].resolution
  const cumulative = atResolution(value - state.baseline, resolution)
  // One pass back through the (sorted) history: the reading just before this one, and the newest
  // a window older; else the oldest known (the series is younger than a window).
  const history = state.history
  let before: [number, number] | undefined
  let reference: [number, number] | undefined
  for (let i = history.length - 1; i >= 0; i--) {
    const entry = history[i] as [number, number]
    if (entry[0] >= ts) continue
    before ??= entry
    reference = entry
    if (entry[0] <= ts - window.windowMs) break
  }
  const previous =
    state.lastTs !== null && state.lastValue !== null && state.lastTs < ts
      ? state.lastValue
      : (before?.[1] ?? null)
  const ratePerDay =
    reference === undefined
      ? null
      : atResolution(
          ((value - reference[1]) * msPerDay) / Math.max(ts - reference[0], window.minSpanMs),
          resolution,
        )
  return { cumulative, ratePerDay, previousValue: previous, referenceValue: reference?.[1] ?? null }
}

/** Records a reading into the series' history (in event time, whatever order it arrived in). */
export function recordReading(state: PitSeriesState, value: number, ts: number, window: RateWindow): void {
  if (state.lastTs === null || ts >= state.lastTs) {
    state.lastTs = ts
    state.lastValue = value
  }
  const bucketMs = window.windowMs / bucketsPerWindow
  const bucket = Math.floor(ts / bucketMs)
  const history = state.history
  let index = history.length
  while (index > 0 && (history[index - 1] as [number, number])[0] > ts) index--
  const neighbour = history[index - 1]
  if (neighbour === undefined || Math.floor(neighbour[0] / bucketMs) !== bucket)
    history.splice(index, 0, [ts, value])
  // Keep the newest reading a window older than the newest of all (the next rate's reference).
  const cutoff = (history.at(-1) as [number, number])[0] - window.windowMs
  let keepFrom = 0
  while (keepFrom + 1 < history.length && (history[keepFrom + 1] as [number, number])[0] <= cutoff) keepFrom++
  if (keepFrom > 0) history.splice(0, keepFrom)
  if (history.length > maxHistory) history.splice(0, history.length - maxHistory)
}

/** The series key: one per device, point and depth. */
export const seriesKeyOf = (siteId: string, deviceId: string, pointCode: string, depthM: number | null) =>
  `${siteId}\u0000${deviceId}\u0000${pointCode}\u0000${depthM ?? ''}`

/** An alert subject for a point, at a depth when it has one: `CX-01@12.5`. */
export const pointSubject = (pointCode: string, depthM: number | null | undefined) =>
  depthM === null || depthM === undefined ? pointCode : `${pointCode}@${depthM}`

/** The point and depth of an alert subject. */
export function parsePointSubject(subject: string): { pointCode: string; depthM: number | null } {
  const at = subject.lastIndexOf('@')
  if (at <= 0) return { pointCode: subject, depthM: null }
  const depth = Number(subject.slice(at + 1))
  return Number.isFinite(depth)
    ? { pointCode: subject.slice(0, at), depthM: depth }
    : { pointCode: subject, depthM: null }
}

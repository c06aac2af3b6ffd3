import { describe, expect, it } from 'vitest'
import {
  defaultRateWindow,
  deriveValues,
  type PitSeriesState,
  parsePointSubject,
  pointSubject,
  recordReading,
} from '../../domain/pit-series.js'

const hour = 3_600_000
const day = 24 * hour

const series = (baseline = 100): PitSeriesState => ({
  siteId: 'S1',
  deviceId: 'PIT-01',
  pointCode: 'WY-1',
  depthM: null,
  item: 'wall_top_horizontal',
  baseline,
  baselineTs: 0,
  baselineConfigured: false,
  lastValue: null,
  lastTs: null,
  history: [],
})

/** Derives a reading, then records it, as admission does. */
function read(state: PitSeriesState, ts: number, value: number) {
  const derived = deriveValues(state, value, ts, defaultRateWindow)
  recordReading(state, value, ts, defaultRateWindow)
  return derived
}

describe('pit series: cumulative at resolution, rates over a day of event time (GB 50497-2019 §8.0.3)', () => {
  it('derives the cumulative change at the item resolution, exactly', () => {
    const state = series(100.7)
    expect(read(state, 0, 100.7).cumulative).toBe(0)
    expect(read(state, hour, 130.7).cumulative).toBe(30) // not 29.999999999999986
  })

  it('has no rate for the first reading, and divides by at least a day', () => {
    const state = series()
    expect(read(state, 0, 100)).toMatchObject({ ratePerDay: null, previousValue: null, referenceValue: null })
    // 0.1 mm of jitter 15 minutes later: 0.1 mm/d, not 9.6 mm/d.
    expect(read(state, 15 * 60_000, 100.1)).toMatchObject({ ratePerDay: 0.1, previousValue: 100 })
  })

  it('takes the rate against the reading a day back once the series is older than a day', () => {
    const state = series()
    for (let h = 0; h <= 48; h++) read(state, h * hour, 100 + h * 0.1) // 2.4 mm a day
    const next = read(state, 49 * hour, 100 + 49 * 0.1)
    expect(next.ratePerDay).toBeCloseTo(2.4, 2)
    expect(next.referenceValue).toBeCloseTo(100 + 25 * 0.1, 6)
  })

  it('keeps a bounded history: one reading per half hour, reaching a window back', () => {
    const state = series()
    for (let m = 0; m <= 3 * 24 * 60; m += 5) read(state, m * 60_000, 100)
    expect(state.history.length).toBeLessThanOrEqual(50)
    const [oldest] = state.history
    expect((state.lastTs as number) - (oldest as [number, number])[0]).toBeGreaterThanOrEqual(day)
    expect((state.lastTs as number) - (oldest as [number, number])[0]).toBeLessThan(day + hour)
  })

  it('derives a late reading against the history before it, without moving the live one', () => {
    const state = series()
    read(state, 0, 100)
    read(state, 2 * day, 104)
    const late = read(state, day, 102) // backfilled: 2 mm over the day before it
    expect(late).toMatchObject({ ratePerDay: 2, previousValue: 100, cumulative: 2 })
    expect(state).toMatchObject({ lastTs: 2 * day, lastValue: 104 })
    // The history keeps the newest reading a window older than the newest: the next reference.
    expect(state.history.map(([ts]) => ts)).toEqual([day, 2 * day])
  })

  it('names a depth in the subject and reads it back', () => {
    expect(pointSubject('CX-01', 12.5)).toBe('CX-01@12.5')
    expect(pointSubject('CX-01', null)).toBe('CX-01')
    expect(parsePointSubject('CX-01@12.5')).toEqual({ pointCode: 'CX-01', depthM: 12.5 })
    expect(parsePointSubject('ZQS-01')).toEqual({ pointCode: 'ZQS-01', depthM: null })
  })
})

import type { PitItem } from '../domain/payloads.js'
import { noise, type Random } from './random.js'
import type { Scenario } from './scenarios.js'

const day = 86_400_000

interface PointSpec {
  readonly pointCode: string
  readonly item: PitItem
  readonly start: number
  /** Movement per day of event time under `normal` (mm/d, kN/d, m/d). */
  readonly perDay: number
  readonly noise: number
  readonly depthM?: number
}

const points: readonly PointSpec[] = [
  { pointCode: 'ZQS-01', item: 'wall_top_horizontal', start: 0, perDay: 0.4, noise: 0.05 },
  { pointCode: 'ZQC-01', item: 'wall_top_vertical', start: 0, perDay: 0.3, noise: 0.05 },
  { pointCode: 'CX-01', item: 'deep_horizontal', start: 0, perDay: 0.5, noise: 0.05, depthM: 8 },
  { pointCode: 'DB-01', item: 'surface_settlement', start: 0, perDay: 0.6, noise: 0.08 },
  { pointCode: 'SW-01', item: 'groundwater_level', start: -3200, perDay: 20, noise: 5 },
]

/**
 * A foundation-pit monitor with several points: slow creep with noise under `normal`; under
 * `pit-acceleration` the movement is ten times faster and speeds up each day. Rates are per day
 * of event time (GB 50497-2019 §8.0.3), whatever the reading interval.
 */
export class PitModel {
  private readonly random: Random
  private readonly scenario: Scenario
  private readonly values = new Map<string, number>()
  private firstTs: number | null = null
  private lastTs: number | null = null
  private seq = 0

  constructor(scenario: Scenario, random: Random) {
    this.random = random
    this.scenario = scenario
    for (const point of points) this.values.set(point.pointCode, point.start)
  }

  next(ts: number) {
    this.firstTs ??= ts
    const elapsedDays = (ts - (this.lastTs ?? ts)) / day
    const ageDays = (ts - this.firstTs) / day
    this.lastTs = ts
    this.seq += 1
    const speed = this.scenario.pitCreep * (this.scenario.pitAccelerates ? 1 + ageDays * 24 : 1)
    return {
      ts,
      seq: this.seq,
      points: points.map((point) => {
        const value = (this.values.get(point.pointCode) ?? 0) + point.perDay * speed * elapsedDays
        this.values.set(point.pointCode, value)
        // Instrument noise grows with the time between readings (a day's worth at daily
        // readings): at a demo's 10 s interval a fixed noise would swamp the rate per day, which
        // is why the values are not rounded either.
        const reading = value + noise(this.random, point.noise) * Math.min(1, elapsedDays)
        return {
          pointCode: point.pointCode,
          item: point.item,
          value: reading,
          ...(point.depthM === undefined ? {} : { depthM: point.depthM }),
        }
      }),
    }
  }
}

import { describe, expect, it } from 'vitest'
import { loadChartSchema, momentPctFromChart, ratedLoadAt } from '../../domain/load-chart.js'

// A QTZ80-style chart (illustrative): 8 t to 12 m, then falling to 1.3 t at 60 m.
const chart = loadChartSchema.parse([
  { radiusM: 12, ratedLoadT: 8 },
  { radiusM: 20, ratedLoadT: 5 },
  { radiusM: 40, ratedLoadT: 2.2 },
  { radiusM: 60, ratedLoadT: 1.3 },
])

describe('crane load chart', () => {
  it('reads the rating at a radius conservatively (the next larger radius)', () => {
    expect(ratedLoadAt(chart, 5)).toBe(8)
    expect(ratedLoadAt(chart, 20)).toBe(5)
    expect(ratedLoadAt(chart, 20.5)).toBe(2.2)
    expect(ratedLoadAt(chart, 61)).toBeNull()
  })

  it('computes moment % from load and radius', () => {
    expect(momentPctFromChart(chart, 2.2, 35)).toBeCloseTo(100, 6) // 2.2 t at 35 m: rated 2.2 t (40 m)
    expect(momentPctFromChart(chart, 4, 15)).toBeCloseTo(80, 6) // 4 t at 15 m: rated 5 t (20 m)
    expect(momentPctFromChart(chart, 1, 70)).toBeNull() // beyond the chart: no rating, no guess
  })

  it('refuses a chart whose rating rises with radius', () => {
    const result = loadChartSchema.safeParse([
      { radiusM: 10, ratedLoadT: 4 },
      { radiusM: 20, ratedLoadT: 6 },
    ])
    expect(result.success).toBe(false)
  })
})

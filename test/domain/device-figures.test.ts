import { describe, expect, it } from 'vitest'
import { deviceFigures } from '../../domain/report.js'

const hour = 3_600_000
const minute = 60_000
const every30s = () => 30_000

describe('data completeness counts from when a device exists', () => {
  const now = Date.UTC(2026, 11, 2, 10, 30)
  const day = { from: now - 24 * hour, to: now }
  const crane = (createdAt: number) => ({
    id: 'TC-01',
    kind: 'crane' as const,
    online: true,
    createdAt: new Date(createdAt).toISOString(),
  })

  it('shows a crane added 10 minutes ago, reporting every 30 s, as complete, not as 1 %', () => {
    const figures = deviceFigures([crane(now - 10 * minute)], new Map([['TC-01', 20]]), every30s, day)
    expect(figures).toMatchObject({ readingsExpected: 20, readingsReceived: 20, completeness: 1 })
  })

  it('expects one reading of an interval begun: a daily survey registered this morning owes one', () => {
    const survey = { ...crane(now - 2 * hour), kind: 'pit' as const }
    const figures = deviceFigures([survey], new Map([['TC-01', 1]]), () => 24 * hour, day)
    expect(figures).toMatchObject({ readingsExpected: 1, completeness: 1 })
  })

  it('expects nothing of a device registered after the period', () => {
    const figures = deviceFigures([crane(now + hour)], new Map(), every30s, day)
    expect(figures).toMatchObject({ readingsExpected: 0, completeness: null })
  })

  it('counts from the first reading when the device backfilled hours from before it was registered', () => {
    const created = now - 10 * minute
    const firstReading = new Map([['TC-01', Math.floor((now - 3 * hour) / hour) * hour]])
    const figures = deviceFigures([crane(created)], new Map([['TC-01', 60]]), every30s, day, firstReading)
    expect(figures.readingsExpected).toBe(Math.ceil((now - (firstReading.get('TC-01') as number)) / 30_000))
    // A first reading within the hour of registration is not a backfill: the creation counts.
    const sameHour = new Map([['TC-01', Math.floor(created / hour) * hour]])
    expect(deviceFigures([crane(created)], new Map(), every30s, day, sameHour).readingsExpected).toBe(20)
  })
})

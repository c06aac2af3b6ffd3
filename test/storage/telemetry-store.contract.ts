import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TelemetryPoint, TelemetryStore } from '../../domain/ports.js'

const t0 = Date.UTC(2026, 10, 1, 8, 0, 0)
const crane = (ts: number, fields: TelemetryPoint['fields'], device = 'TC-01'): TelemetryPoint => ({
  measurement: 'crane',
  tags: { site: 'S1', device },
  fields,
  ts,
})

/**
 * What every telemetry store must do, run against the embedded store and a real InfluxDB alike:
 * points keyed by measurement + tags + device timestamp, idempotent rewrites, field merging,
 * tag escaping, raw and windowed queries.
 */
export function describeTelemetryStoreContract(
  name: string,
  create: () => Promise<TelemetryStore>,
  skipReason = '',
): void {
  describe.skipIf(skipReason !== '')(
    `TelemetryStore contract: ${name}${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
    () => {
      let store: TelemetryStore

      beforeAll(async () => {
        store = await create()
        await store.start()
      })
      afterAll(async () => {
        await store?.stop()
      })

      const query = (field: string, extra: Partial<Parameters<TelemetryStore['query']>[0]> = {}) =>
        store.query({
          measurement: 'crane',
          field,
          where: { site: 'S1', device: 'TC-01' },
          groupBy: [],
          from: t0 - 1,
          to: t0 + 3_600_000,
          limit: 1000,
          ...extra,
        })

      it('answers ping', async () => {
        expect(await store.ping()).toBe(true)
      })

      it('returns written points with their device timestamps in milliseconds', async () => {
        expect(
          await store.write([
            crane(t0 + 1, { loadT: 1.5 }),
            crane(t0 + 2, { loadT: 2.25 }),
            crane(t0 + 1_003, { loadT: 3 }),
          ]),
        ).toEqual([])
        const [series] = await query('loadT')
        expect(series?.points).toEqual([
          { ts: t0 + 1, value: 1.5 },
          { ts: t0 + 2, value: 2.25 },
          { ts: t0 + 1_003, value: 3 },
        ])
      })

      it('writing the same point again does not duplicate it; new fields merge into it', async () => {
        await store.write([crane(t0 + 10_000, { windMps: 7 })])
        await store.write([crane(t0 + 10_000, { windMps: 7 }), crane(t0 + 10_000, { momentPct: 88 })])
        const wind = await query('windMps')
        expect(wind[0]?.points).toEqual([{ ts: t0 + 10_000, value: 7 }])
        const moment = await query('momentPct')
        expect(moment[0]?.points).toEqual([{ ts: t0 + 10_000, value: 88 }])
      })

      it('keeps devices apart and filters by tags', async () => {
        await store.write([crane(t0 + 20_000, { tiltDeg: 0.5 }, 'TC-02')])
        expect(await query('tiltDeg')).toEqual([])
        const other = await query('tiltDeg', { where: { site: 'S1', device: 'TC-02' } })
        expect(other[0]?.points).toEqual([{ ts: t0 + 20_000, value: 0.5 }])
      })

      it('stores strings and booleans, and escapes tags with spaces, commas and equals signs', async () => {
        const odd = 'pit A, east=1'
        await store.write([
          {
            measurement: 'crane',
            tags: { site: 'S1', device: 'TC-01' },
            fields: { mode: 'work "day"', operator: 'OP-7' },
            ts: t0 + 30_000,
          },
          {
            measurement: 'device_status',
            tags: { site: 'S1', device: 'TC-01' },
            fields: { online: false },
            ts: t0 + 30_000,
          },
          {
            measurement: 'pit',
            tags: { site: 'S1', device: 'PIT-1', point: odd, item: 'wall_top_horizontal' },
            fields: { value: 12.5 },
            ts: t0 + 30_000,
          },
        ])
        expect((await query('mode'))[0]?.points).toEqual([{ ts: t0 + 30_000, value: 'work "day"' }])
        const status = await store.query({
          measurement: 'device_status',
          field: 'online',
          where: { site: 'S1', device: 'TC-01' },
          groupBy: [],
          from: t0,
          to: t0 + 60_000,
          limit: 10,
        })
        expect(status[0]?.points).toEqual([{ ts: t0 + 30_000, value: false }])
        const pit = await store.query({
          measurement: 'pit',
          field: 'value',
          where: { site: 'S1', device: 'PIT-1' },
          groupBy: ['point'],
          from: t0,
          to: t0 + 60_000,
          limit: 10,
        })
        expect(pit).toEqual([{ tags: { point: odd }, points: [{ ts: t0 + 30_000, value: 12.5 }] }])
      })

      it('splits pit series by point and averages per window', async () => {
        const base = t0 + 600_000
        await store.write([
          {
            measurement: 'pit',
            tags: { site: 'S1', device: 'PIT-2', point: 'P1', item: 'strut_force' },
            fields: { value: 100 },
            ts: base,
          },
          {
            measurement: 'pit',
            tags: { site: 'S1', device: 'PIT-2', point: 'P1', item: 'strut_force' },
            fields: { value: 200 },
            ts: base + 10_000,
          },
          {
            measurement: 'pit',
            tags: { site: 'S1', device: 'PIT-2', point: 'P1', item: 'strut_force' },
            fields: { value: 600 },
            ts: base + 60_000,
          },
          {
            measurement: 'pit',
            tags: { site: 'S1', device: 'PIT-2', point: 'P2', item: 'strut_force' },
            fields: { value: 50 },
            ts: base,
          },
        ])
        const series = await store.query({
          measurement: 'pit',
          field: 'value',
          where: { site: 'S1', device: 'PIT-2' },
          groupBy: ['point'],
          from: base,
          to: base + 120_000,
          everyMs: 60_000,
          limit: 100,
        })
        const byPoint = Object.fromEntries(series.map((one) => [one.tags.point, one.points]))
        expect(byPoint.P1).toEqual([
          { ts: base, value: 150 },
          { ts: base + 60_000, value: 600 },
        ])
        expect(byPoint.P2).toEqual([{ ts: base, value: 50 }])
        // The worst value per window instead of the mean (what an alert review wants to see).
        const peaks = await store.query({
          measurement: 'pit',
          field: 'value',
          where: { site: 'S1', device: 'PIT-2', point: 'P1' },
          groupBy: [],
          from: base,
          to: base + 120_000,
          everyMs: 60_000,
          aggregate: 'max',
          limit: 100,
        })
        expect(peaks[0]?.points).toEqual([
          { ts: base, value: 200 },
          { ts: base + 60_000, value: 600 },
        ])
      })

      it('honours the time range and the limit', async () => {
        const inRange = await query('loadT', { from: t0 + 2, to: t0 + 1_003 })
        expect(inRange[0]?.points.map((p) => p.ts)).toEqual([t0 + 2])
        const limited = await query('loadT', { limit: 2 })
        expect(limited[0]?.points).toHaveLength(2)
      })
    },
  )
}

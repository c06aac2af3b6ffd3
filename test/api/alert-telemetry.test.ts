import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'

interface Window {
  metric: string | null
  from: string
  to: string
  everyMs: number | null
  aggregate: string | null
  points: { ts: string; value: number; source: 'device' | 'manual' | null }[]
  note: string | null
}

describe('GET /api/alerts/{id}/telemetry: what happened around an alert', () => {
  let t: TestEngine
  const api = apiClient(() => t.httpUrl)
  let officer: string
  let secret: string
  beforeAll(async () => {
    t = await startTestEngine() // the embedded telemetry store; InfluxDB answers the same port
    secret = await t.addDevice('S1', 'TC-01', 'crane')
    await t.addDevice('S2', 'TC-02', 'crane')
    officer = await t.token('officer', { sites: ['S1'] })
  })
  afterAll(async () => {
    await t?.stop()
  })

  const alertFor = (ruleId: string) =>
    waitFor(async () => {
      const items = (await api('GET', `/api/alerts?ruleId=${ruleId}`, officer)).body.items as Alert[]
      return items[0]?.condition === 'cleared' && items[0]
    }, `a cleared ${ruleId} alert`)

  it('returns the readings from 30 min before the breach to 30 min after it cleared, raw when few', async () => {
    const crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    const start = Date.now() - 2 * 3_600_000
    const readings = [
      { ts: start - 40 * 60_000, loadPct: 10 }, // before the window
      { ts: start - 20 * 60_000, loadPct: 40 },
      { ts: start, loadPct: 104 }, // the breach
      { ts: start + 60_000, loadPct: 50 }, // cleared
      { ts: start + 20 * 60_000, loadPct: 45 },
      { ts: start + 50 * 60_000, loadPct: 20 }, // after the window
    ]
    await crane.publishAsync('sites/S1/devices/TC-01/telemetry', JSON.stringify(readings), { qos: 1 })
    await crane.endAsync()
    const alert = await alertFor('crane.load')
    const window = await waitFor(async () => {
      const { body } = await api('GET', `/api/alerts/${alert.id}/telemetry`, officer)
      return (body as unknown as Window).points.length >= 4 && (body as unknown as Window)
    }, 'the stored readings')
    expect(window).toMatchObject({ metric: 'loadPct', everyMs: null, aggregate: null, note: null })
    expect(window.points.map((p) => p.value)).toEqual([40, 104, 50, 45])
    expect(new Set(window.points.map((p) => p.source))).toEqual(new Set(['device']))
    expect(window.from).toBe(new Date(start - 30 * 60_000).toISOString())
    expect(window.to).toBe(new Date(start + 60_000 + 30 * 60_000).toISOString())
  })

  it('sums a long window up to at most 1,000 points by the worst value, so a short spike stays visible', async () => {
    const crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    const start = Date.now() - 5 * 3_600_000
    // Wind every 5 s for 3 hours in work mode: 30 minutes at 12.5 m/s (an alarm) with one gust
    // of 19 m/s. The window (30 min + 30 min + 30 min) holds 1,080 readings: too many to send raw.
    const all = Array.from({ length: 2_160 }, (_, i) => ({
      ts: start + i * 5_000,
      windMps: i === 1_100 ? 19 : i >= 900 && i < 1_260 ? 12.5 : 6,
      mode: 'work',
    }))
    for (let i = 0; i < all.length; i += 500)
      await crane.publishAsync('sites/S1/devices/TC-01/telemetry', JSON.stringify(all.slice(i, i + 500)), {
        qos: 1,
      })
    await crane.endAsync()
    const alert = await alertFor('crane.wind_work')
    const window = await waitFor(async () => {
      const { body } = await api('GET', `/api/alerts/${alert.id}/telemetry`, officer)
      return (body as unknown as Window).everyMs !== null && (body as unknown as Window)
    }, 'the readings, summed up')
    expect(window).toMatchObject({ metric: 'windMps', everyMs: 6_000, aggregate: 'max' })
    expect(window.points.length).toBeLessThanOrEqual(1_000)
    expect(window.points.length).toBeGreaterThan(800)
    expect(Math.max(...window.points.map((p) => p.value))).toBe(19) // a mean would have hidden it
  })

  it('says so for an alert without a numeric series, and hides other sites', async () => {
    const crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    await crane.publishAsync(
      'sites/S1/devices/TC-01/event',
      JSON.stringify({ ts: Date.now(), code: 'SENSOR_FAULT' }),
      {
        qos: 1,
      },
    )
    await crane.endAsync()
    const alert = await alertFor('crane.device_event')
    const { body } = await api('GET', `/api/alerts/${alert.id}/telemetry`, officer)
    expect(body).toMatchObject({ metric: null, points: [], note: expect.stringMatching(/no numeric series/) })
    const other = await t.token('officer', { sites: ['S2'] })
    expect((await api('GET', `/api/alerts/${alert.id}/telemetry`, other)).status).toBe(404)
  })

  it('marks the readings an officer typed, in the alert window and in the device telemetry', async () => {
    const supervisor = await t.token('supervisor', { sites: ['S1'] })
    const crane = await connectDevice(t.mqttUrl, 'TC-03', await t.addDevice('S1', 'TC-03', 'crane'))
    const start = Date.now() - 3_600_000
    await crane.publishAsync(
      'sites/S1/devices/TC-03/telemetry',
      JSON.stringify([{ ts: start - 60_000, windMps: 5 }]),
      { qos: 1 },
    )
    await crane.endAsync()
    const typed = await api('POST', '/api/sites/S1/readings', supervisor, [
      { deviceId: 'TC-03', ts: start, windMps: 25 },
      { deviceId: 'TC-03', ts: start + 60_000, windMps: 4 },
    ])
    expect(typed.status).toBe(201)
    const alert = await waitFor(async () => {
      const items = (await api('GET', '/api/alerts?deviceId=TC-03&ruleId=crane.wind_storm', officer)).body
        .items as Alert[]
      return items[0]?.condition === 'cleared' && items[0]
    }, 'the cleared storm alert')
    const window = await waitFor(async () => {
      const body = (await api('GET', `/api/alerts/${alert.id}/telemetry`, officer)).body as unknown as Window
      return body.points.length >= 3 && body
    }, 'the stored readings')
    expect(window.points.map((p) => [p.value, p.source])).toEqual([
      [5, 'device'],
      [25, 'manual'],
      [4, 'manual'],
    ])
    const from = new Date(start - 120_000).toISOString()
    const stored = await api(
      'GET',
      `/api/devices/TC-03/telemetry?metric=windMps&from=${encodeURIComponent(from)}`,
      officer,
    )
    const series = stored.body.series as { tags: Record<string, string>; points: { value: number }[] }[]
    expect(series.map((one) => [one.tags.source ?? 'device', one.points.map((p) => p.value)])).toEqual(
      expect.arrayContaining([
        ['device', [5]],
        ['manual', [25, 4]],
      ]),
    )
  })
})

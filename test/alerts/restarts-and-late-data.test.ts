import { afterEach, describe, expect, it } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'

const day = 86_400_000

/** Rule state and event time through the whole engine: MQTT in, alerts out, over real restarts. */
describe('rule state across restarts, and late data', () => {
  let t: TestEngine
  const api = apiClient(() => t.httpUrl)
  afterEach(async () => {
    await t?.stop()
  })

  const alertsOf = async (token: string, ruleId: string): Promise<Alert[]> =>
    (await api('GET', `/api/alerts?ruleId=${ruleId}`, token)).body.items as Alert[]
  /** A fresh engine with crane TC-01 on site S1, connected, and an officer of S1. */
  const craneOnFreshEngine = async () => {
    t = await startTestEngine()
    const secret = await t.addDevice('S1', 'TC-01', 'crane')
    const officer = await t.token('officer', { sites: ['S1'] })
    const crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    const publish = (body: unknown) =>
      crane.publishAsync('sites/S1/devices/TC-01/telemetry', JSON.stringify(body), { qos: 1 })
    return { officer, crane, publish }
  }
  const eventTypes = async (token: string, id: string): Promise<string[]> =>
    ((await api('GET', `/api/alerts/${id}/events`, token)).body.items as { type: string }[]).map(
      (e) => e.type,
    )

  it('reaches the 3-in-a-row rate alarm when the engine restarts between the second and third reading', async () => {
    t = await startTestEngine()
    await t.provisioning.addSite({ id: 'S1', name: 'Pit', region: '330106', pitGrade: 1, pitDepthM: 15 })
    const secret = (await t.provisioning.addDevice({ siteId: 'S1', id: 'PIT-01', kind: 'pit' })).secret
    const start = Date.now() - 4 * day
    const publish = async (ts: number, value: number) => {
      const sensor = await connectDevice(t.mqttUrl, 'PIT-01', secret)
      const points = [{ pointCode: 'ZQS-01', item: 'wall_top_horizontal', value }]
      await sensor.publishAsync('sites/S1/devices/PIT-01/telemetry', JSON.stringify({ ts, points }), {
        qos: 1,
      })
      await sensor.endAsync()
    }
    await publish(start, 100) // baseline
    await publish(start + day, 101.5) // 1.5 mm/d, over 70 % of 2 → warning, run of 1
    await publish(start + 2 * day, 103) // run of 2
    const officer = await t.token('officer', { sites: ['S1'] })
    await waitFor(
      async () => (await alertsOf(officer, 'pit.wall_top_horizontal.rate')).length === 1,
      'the warning',
    )

    t = await t.restart()
    await publish(start + 3 * day, 104.5) // run of 3 (GB 50497-2019 §8.0.3) → alarm
    const alert = await waitFor(async () => {
      const [found] = await alertsOf(officer, 'pit.wall_top_horizontal.rate')
      return found?.severity === 'alarm' && found
    }, 'the rate alarm after the restart')
    expect(await eventTypes(officer, alert.id)).toEqual(['raised', 'severity_raised'])
  })

  it('evaluates backfill behind live data apart: it raises retrospective alerts and never clears a live one', async () => {
    const { officer, crane, publish } = await craneOnFreshEngine()
    const now = Date.now()

    await publish({ ts: now, loadPct: 105 }) // live overload: alarm
    const live = await waitFor(async () => (await alertsOf(officer, 'crane.load'))[0], 'the live alarm')
    expect(live).toMatchObject({ severity: 'alarm', condition: 'active', retrospective: false })

    // The monitor's buffer from 20 minutes ago arrives behind it, out of order and normal.
    const old = now - 20 * 60_000
    await publish([
      { ts: old + 2_000, loadPct: 40 },
      { ts: old, loadPct: 40 },
      { ts: old + 1_000, loadPct: 40 },
    ])
    await publish({ ts: now + 1, loadPct: 106 }) // a live reading after it, to know it was evaluated
    await waitFor(async () => (await alertsOf(officer, 'crane.load'))[0]?.value === 106, 'the live reading')
    const [still] = await alertsOf(officer, 'crane.load')
    expect(still).toMatchObject({ id: live.id, condition: 'active', severity: 'alarm' })
    const events = await eventTypes(officer, live.id)
    expect(events).not.toContain('cleared')
    expect(events).not.toContain('re_activated')
    await crane.endAsync()
  })

  it('keeps a live run of readings whole when backfill arrives between them', async () => {
    const { officer, crane, publish } = await craneOnFreshEngine()
    const now = Date.now()
    // Supply voltage low needs 3 readings in a row below 323 V (seeds/rules/crane.json).
    await publish({ ts: now, powerV: 300 })
    await publish({ ts: now + 1_000, powerV: 300 })
    await publish({ ts: now - 10 * 60_000, powerV: 380 }) // an old, normal reading arrives late
    await publish({ ts: now + 2_000, powerV: 300 })
    const alert = await waitFor(
      async () => (await alertsOf(officer, 'crane.power_low'))[0],
      'the low-voltage alarm',
    )
    expect(alert).toMatchObject({ severity: 'alarm', retrospective: false, value: 300 })
    await crane.endAsync()
  })

  it('raises a retrospective alert from a breach found only in backfill, and its own end clears it', async () => {
    const { officer, crane, publish } = await craneOnFreshEngine()
    const now = Date.now()
    await publish({ ts: now, loadPct: 50 })
    const old = now - 30 * 60_000
    await publish([
      { ts: old, loadPct: 60 },
      { ts: old + 1_000, loadPct: 95 }, // warning, 30 minutes ago
      { ts: old + 2_000, loadPct: 50 }, // over
    ])
    const alert = await waitFor(
      async () => (await alertsOf(officer, 'crane.load')).find((a) => a.condition === 'cleared'),
      'the retrospective alert, cleared by the backfill itself',
    )
    expect(alert).toMatchObject({ severity: 'warning', retrospective: true, state: 'open', value: 95 })
    expect(await eventTypes(officer, alert.id)).toEqual(['raised', 'cleared'])
    // Live data that is normal says nothing about it: it stays for a person to acknowledge.
    await publish({ ts: now + 1_000, loadPct: 50 })
    await publish({ ts: now + 2_000, loadPct: 50 })
    const [after] = await alertsOf(officer, 'crane.load')
    expect(after).toMatchObject({ id: alert.id, state: 'open', version: alert.version })
    await crane.endAsync()
  })

  it("remembers a crane's mode across a restart: a jacking crane is judged by the 9 m/s limit, not the working one", async () => {
    t = await startTestEngine()
    const secret = await t.addDevice('S1', 'TC-01', 'crane')
    const officer = await t.token('officer', { sites: ['S1'] })
    let crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    await crane.publishAsync(
      'sites/S1/devices/TC-01/telemetry',
      JSON.stringify({ ts: Date.now(), mode: 'jacking' }),
      {
        qos: 1,
      },
    )
    await crane.endAsync()
    t = await t.restart()
    crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    // The monitor says its mode only when it changes: after the restart, only the wind.
    await crane.publishAsync(
      'sites/S1/devices/TC-01/telemetry',
      JSON.stringify({ ts: Date.now(), windMps: 9.5 }),
      {
        qos: 1,
      },
    )
    const erection = await waitFor(
      async () => (await alertsOf(officer, 'crane.wind_erection'))[0],
      'the jacking wind alarm',
    )
    expect(erection).toMatchObject({ severity: 'alarm', threshold: 9 })
    expect(await alertsOf(officer, 'crane.wind_work')).toEqual([])
    await crane.endAsync()
  })

  it("resumes a device's and a survey point's own silence watch after a restart", async () => {
    t = await startTestEngine({ env: { SITEWARD_HTTP_RATE_LIMIT: '100000' } })
    await t.provisioning.addSite({ id: 'S1', name: 'Pit', region: '330106', pitGrade: 1, pitDepthM: 15 })
    const secret = await t.addDevice('S1', 'PIT-01', 'pit')
    const admin = await t.token('admin')
    expect(
      (await api('PUT', '/api/devices/PIT-01/settings', admin, { expectedIntervalMs: 2_000 })).status,
    ).toBe(200)
    const point = await api('PUT', '/api/sites/S1/points/SV-1', admin, {
      item: 'surface_settlement',
      expectedIntervalMs: 1_000,
    })
    expect(point.status).toBe(200)
    const sensor = await connectDevice(t.mqttUrl, 'PIT-01', secret)
    const points = [{ pointCode: 'SV-1', item: 'surface_settlement', value: 3 }]
    await sensor.publishAsync(
      'sites/S1/devices/PIT-01/telemetry',
      JSON.stringify({ ts: Date.now(), points }),
      {
        qos: 1,
      },
    )
    // Online when the engine stops: the restart drops the connection, and it does not come back.
    t = await t.restart()
    sensor.end(true)
    // Silent after the restart: the point's 4 × 1 s and the device's 4 × 2 s, not 4 × 15 min.
    const gaps = await waitFor(async () => {
      const found = await alertsOf(admin, 'pit.data_gap')
      return found.length === 2 && found
    }, 'both gaps')
    // Not online until it reconnects (the registry says so), yet watched.
    expect((await api('GET', '/api/devices/PIT-01', admin)).body).toMatchObject({ online: false })
    expect(gaps.map((gap) => [gap.subject, gap.threshold]).sort()).toEqual([
      ['SV-1', 4],
      ['telemetry', 8],
    ])
  })
})

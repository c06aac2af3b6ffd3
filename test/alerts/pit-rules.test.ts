import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'

const minute = 60_000
const hour = 60 * minute
const day = 24 * hour

/**
 * The pit hazards a safety engineer found missed or misjudged (issue 12, GB 50497-2019), each
 * published over MQTT as a monitor would and read back through the API.
 */
describe('pit rules that miss nothing (GB 50497-2019, DOMAIN.md §4)', () => {
  let t: TestEngine
  const api = apiClient(() => t.httpUrl)
  let admin: string
  let supervisor: string
  const sensors: Record<string, MqttClient> = {}

  const sensor = async (siteId: string, id: string) => {
    if (sensors[id] === undefined) {
      const secret = await t.addDevice(siteId, id, 'pit')
      sensors[id] = await connectDevice(t.mqttUrl, id, secret)
    }
    return sensors[id] as MqttClient
  }
  const publish = async (
    siteId: string,
    id: string,
    ts: number,
    points: { pointCode: string; item: string; value: number; depthM?: number }[],
  ) => {
    const client = await sensor(siteId, id)
    await client.publishAsync(`sites/${siteId}/devices/${id}/telemetry`, JSON.stringify({ ts, points }), {
      qos: 1,
    })
  }
  const alertsOf = async (deviceId: string, ruleId: string) => {
    const { body } = await api('GET', `/api/alerts?deviceId=${deviceId}&ruleId=${ruleId}&limit=100`, admin)
    if (!Array.isArray(body.items)) throw new Error(`GET /api/alerts: ${JSON.stringify(body)}`)
    return body.items as Alert[]
  }
  const alertOf = (deviceId: string, ruleId: string, accept: (alert: Alert) => boolean = () => true) =>
    waitFor(async () => (await alertsOf(deviceId, ruleId)).find(accept), `${ruleId} on ${deviceId}`)
  const putPoint = async (siteId: string, pointCode: string, body: Record<string, unknown>) => {
    const answer = await api('PUT', `/api/sites/${siteId}/points/${pointCode}`, admin, body)
    expect(answer.status).toBe(200)
  }

  beforeAll(async () => {
    // Polling for alerts asks often: above the per-token rate limit of a real deployment.
    t = await startTestEngine({ env: { SITEWARD_HTTP_RATE_LIMIT: '100000' } })
    await t.provisioning.addSite({ id: 'P1', name: '深基坑', region: '330106', pitGrade: 1, pitDepthM: 15 })
    await t.provisioning.addSite({ id: 'P2', name: '无深度', region: '330106', pitGrade: 2 })
    admin = await t.token('admin')
    supervisor = await t.token('supervisor', { sites: ['P1', 'P2'] })
  })
  afterAll(async () => {
    for (const client of Object.values(sensors)) await client.endAsync()
    await t?.stop()
  })

  it('reaches a limit exactly: 100.7 → 130.7 against a 30 mm alarm value is 30 mm, an alarm', async () => {
    await putPoint('P1', 'WY-EX', { item: 'wall_top_horizontal', cumulativeAlarm: 30 })
    const start = Date.now() - 2 * minute
    await publish('P1', 'PIT-EX', start, [{ pointCode: 'WY-EX', item: 'wall_top_horizontal', value: 100.7 }])
    await publish('P1', 'PIT-EX', start + minute, [
      { pointCode: 'WY-EX', item: 'wall_top_horizontal', value: 130.7 },
    ])
    const alert = await alertOf('PIT-EX', 'pit.wall_top_horizontal.cumulative')
    expect(alert).toMatchObject({ severity: 'alarm', value: 30, threshold: 30, subject: 'WY-EX' })
  })

  it("keeps an inclinometer's depths apart: each its own series, baseline and alert, and the profile shows them", async () => {
    const start = Date.now() - 10 * minute
    const profile = (values: number[]) =>
      values.map((value, i) => ({ pointCode: 'CX-01', item: 'deep_horizontal', value, depthM: (i + 1) * 2 }))
    await publish('P1', 'PIT-CX', start, profile([1, 2, 3])) // baselines per depth
    await publish('P1', 'PIT-CX', start + minute, profile([2, 4, 40])) // 6 m: 37 mm > 30 mm (grade 1)
    const alert = await alertOf('PIT-CX', 'pit.deep_horizontal.cumulative')
    expect(alert).toMatchObject({ subject: 'CX-01@6', severity: 'alarm', value: 37 })
    expect((await alertsOf('PIT-CX', 'pit.deep_horizontal.cumulative')).map((a) => a.subject)).toEqual([
      'CX-01@6',
    ])
    // The telemetry store is written by the shipper, a moment after the rules saw the readings.
    const depths = await waitFor(async () => {
      const { body } = await api(
        'GET',
        `/api/devices/PIT-CX/telemetry?metric=cumulative&point=CX-01&from=${new Date(start - 1).toISOString()}`,
        supervisor,
      )
      const found = (body.series as { tags: { depth?: string }; points: unknown[] }[])
        .map((s) => [s.tags.depth, s.points.length])
        .sort()
      return found.every(([, n]) => n === 2) && found.length === 3 && found
    }, 'both readings of every depth stored')
    expect(depths).toEqual([
      ['2', 2],
      ['4', 2],
      ['6', 2],
    ])
    const shown = await api('GET', '/api/devices/PIT-CX/profile?point=CX-01', supervisor)
    expect(shown.body.depths).toEqual([
      { depthM: 2, ts: new Date(start + minute).toISOString(), value: 1 },
      { depthM: 4, ts: new Date(start + minute).toISOString(), value: 2 },
      { depthM: 6, ts: new Date(start + minute).toISOString(), value: 37 },
    ])
    const evidence = await api('GET', `/api/alerts/${alert.id}/telemetry`, supervisor)
    expect(evidence.body).toMatchObject({ metric: 'cumulative', point: 'CX-01' })
    expect((evidence.body.points as { value: number }[]).map((p) => p.value)).toEqual([0, 37])
  })

  it('takes rates over a day of event time: 0.1 mm of jitter between 15-minute readings is no alarm', async () => {
    const start = Date.now() - 2 * day
    for (let i = 0; i <= 96 + 8; i++) {
      const jitter = i % 2 === 0 ? 0 : 0.1
      await publish('P1', 'PIT-JIT', start + i * 15 * minute, [
        { pointCode: 'WY-J', item: 'wall_top_horizontal', value: 50 + jitter },
      ])
    }
    await waitFor(async () => {
      const { body } = await api('GET', '/api/devices/PIT-JIT', admin)
      return (body.acceptedCount as number) >= 105
    }, 'every reading projected')
    expect(await alertsOf('PIT-JIT', 'pit.wall_top_horizontal.rate')).toEqual([])
  })

  it('alarms on 70 % of the rate limit on 3 consecutive days, recording the value and level it judged', async () => {
    const start = Date.now() - 4 * day
    const reading = (d: number, value: number) =>
      publish('P1', 'PIT-RATE', start + d * day, [{ pointCode: 'WY-R', item: 'wall_top_horizontal', value }])
    await reading(0, 10)
    await reading(1, 11.5) // 1.5 mm/d ≥ 1.4 (70 % of 2): warning
    await reading(2, 13)
    await reading(3, 14.5) // the third day: alarm (§8.0.3)
    const alert = await alertOf('PIT-RATE', 'pit.wall_top_horizontal.rate', (a) => a.severity === 'alarm')
    expect(alert).toMatchObject({ value: 1.5, threshold: 1.4 })
    expect(alert.thresholdOrigin).toBe('grade 1: 2 per day; ≥ 1.4 per day (70 % of 2) on 3 consecutive days')
  })

  it('raises critical on a sudden marked increase (§8.0.9): a 5 mm step within 15 minutes', async () => {
    const start = Date.now() - 30 * minute
    await publish('P1', 'PIT-STEP', start, [{ pointCode: 'WY-S', item: 'wall_top_horizontal', value: 0 }])
    await publish('P1', 'PIT-STEP', start + 15 * minute, [
      { pointCode: 'WY-S', item: 'wall_top_horizontal', value: 5 },
    ])
    // 5 mm over at least a day's span is 5 mm/d: twice the 2 mm/d limit is 4.
    expect(await alertOf('PIT-STEP', 'pit.wall_top_horizontal.rate')).toMatchObject({
      severity: 'critical',
      threshold: 4,
      value: 5,
    })
  })

  it('raises critical when a strut force collapses, and judges anchors in the 80–100 % band', async () => {
    await putPoint('P1', 'ZC-1', { item: 'strut_force', capacity: 3000, prestress: 800 })
    await putPoint('P1', 'MG-1', { item: 'anchor_force', prestress: 500 })
    const start = Date.now() - 20 * minute
    await publish('P1', 'PIT-F', start, [
      { pointCode: 'ZC-1', item: 'strut_force', value: 1000 },
      { pointCode: 'MG-1', item: 'anchor_force', value: 520 },
    ])
    await publish('P1', 'PIT-F', start + 5 * minute, [
      { pointCode: 'ZC-1', item: 'strut_force', value: 400 }, // lost 60 % of its load
      { pointCode: 'MG-1', item: 'anchor_force', value: 450 }, // inside 80–100 % of fy: warning
    ])
    const collapse = await alertOf('PIT-F', 'pit.strut_force.collapse')
    expect(collapse).toMatchObject({ severity: 'critical', value: 60 })
    // Its evidence is the force itself: the 30 % threshold is not drawn over kN.
    const evidence = await waitFor(async () => {
      const { body } = await api('GET', `/api/alerts/${collapse.id}/telemetry`, supervisor)
      return (body.points as unknown[]).length === 2 && body
    }, 'the force readings stored')
    expect(evidence).toMatchObject({ metric: 'value', point: 'ZC-1', threshold: null })
    expect(evidence.note).toContain('share of it lost (60 %)')
    // 400 kN is also below 80 % of the 800 kN preload: the preload-loss rule alarms.
    expect(await alertOf('PIT-F', 'pit.strut_force.min')).toMatchObject({ severity: 'alarm', threshold: 640 })
    expect(await alertOf('PIT-F', 'pit.anchor_force.value')).toMatchObject({
      severity: 'warning',
      threshold: 500,
    })
    await publish('P1', 'PIT-F', start + 10 * minute, [
      { pointCode: 'MG-1', item: 'anchor_force', value: 390 },
    ])
    expect(await alertOf('PIT-F', 'pit.anchor_force.value', (a) => a.severity === 'alarm')).toMatchObject({
      threshold: 400,
    })
  })

  it('judges differential settlement against the paired point and the designer’s value', async () => {
    await putPoint('P1', 'JZ-A', {
      item: 'building_settlement',
      pairPointCode: 'JZ-B',
      differentialAlarm: 10,
    })
    const start = Date.now() - 20 * minute
    await publish('P1', 'PIT-B', start, [
      { pointCode: 'JZ-A', item: 'building_settlement', value: 0 },
      { pointCode: 'JZ-B', item: 'building_settlement', value: 0 },
    ])
    await publish('P1', 'PIT-B', start + minute, [
      { pointCode: 'JZ-B', item: 'building_settlement', value: -1 },
      { pointCode: 'JZ-A', item: 'building_settlement', value: -12 },
    ])
    expect(await alertOf('PIT-B', 'pit.building_settlement.differential')).toMatchObject({
      subject: 'JZ-A',
      severity: 'alarm',
      value: 11,
      threshold: 10,
    })
  })

  it('flags a grade without a depth and points whose rules need the designer’s value, on the site', async () => {
    await publish('P2', 'PIT-P2', Date.now(), [
      { pointCode: 'CX-9', item: 'deep_horizontal', value: 1, depthM: 3 },
    ])
    const site = await waitFor(async () => {
      const { body } = await api('GET', '/api/sites/P2', supervisor)
      const issues = body.issues as { code: string; ruleId?: string; pointCode?: string }[]
      return issues.some((i) => i.code === 'POINT_VALUE_MISSING') && body
    }, 'the site issues')
    expect(site.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'PIT_DEPTH_MISSING' }),
        expect.objectContaining({
          code: 'POINT_VALUE_MISSING',
          pointCode: 'CX-9',
          ruleId: 'pit.deep_horizontal.rate',
        }),
      ]),
    )
    const rules = await api('GET', '/api/rules?siteId=P2', supervisor)
    const rate = (
      rules.body.items as { ruleId: string; pointCode: string | null; status: string; needs: string }[]
    ).find((r) => r.ruleId === 'pit.deep_horizontal.rate' && r.pointCode === 'CX-9')
    expect(rate).toMatchObject({ status: 'needs-configuration' })
    expect(rate?.needs).toContain('--rate-alarm')
  })

  it("watches a manual survey point's own interval: silence beyond it is a data gap for that point", async () => {
    await putPoint('P1', 'SV-1', { item: 'surface_settlement', expectedIntervalMs: 1_000 })
    await publish('P1', 'PIT-SV', Date.now(), [{ pointCode: 'SV-1', item: 'surface_settlement', value: 3 }])
    // 4 missed intervals of 1 s: the point's gap, while the device's own 15-minute watch is quiet.
    const gap = await alertOf('PIT-SV', 'pit.data_gap', (a) => a.subject === 'SV-1')
    expect(gap).toMatchObject({ severity: 'warning', threshold: 4 })
    expect((await alertsOf('PIT-SV', 'pit.data_gap')).map((a) => a.subject)).toEqual(['SV-1'])
  })

  it("counts a daily survey device's completeness against its own interval, not the automatic sensors' 15 minutes", async () => {
    await sensor('P1', 'PIT-DAY')
    const set = await api('PUT', '/api/devices/PIT-DAY/settings', admin, { expectedIntervalMs: day })
    expect(set).toMatchObject({ status: 200, body: { settings: { expectedIntervalMs: day } } })
    await publish('P1', 'PIT-DAY', Date.now() - 2 * hour, [
      { pointCode: 'SV-D', item: 'surface_settlement', value: 1 },
    ])
    const to = new Date()
    const from = new Date(to.getTime() - day)
    const group = await waitFor(async () => {
      const { body } = await api(
        'GET',
        `/api/reports/summary?from=${from.toISOString()}&to=${to.toISOString()}&groupBy=device&siteId=P1`,
        supervisor,
      )
      const found = (body.groups as { key: string; monitoring: { readingsReceived: number } | null }[]).find(
        (g) => g.key === 'PIT-DAY',
      )
      return found?.monitoring?.readingsReceived === 1 && found
    }, 'the survey counted')
    expect(group.monitoring).toMatchObject({ readingsExpected: 1, completeness: 1 })
  })

  it('keeps the series of two devices reporting the same point code apart', async () => {
    const start = Date.now() - 10 * minute
    await publish('P1', 'PIT-D1', start, [{ pointCode: 'DB-1', item: 'surface_settlement', value: 100 }])
    await publish('P1', 'PIT-D2', start, [{ pointCode: 'DB-1', item: 'surface_settlement', value: 500 }])
    await publish('P1', 'PIT-D1', start + minute, [
      { pointCode: 'DB-1', item: 'surface_settlement', value: 130 },
    ])
    // 30 mm from its own baseline (grade 1: 25 mm), not 370 mm from the other device's.
    expect(await alertOf('PIT-D1', 'pit.surface_settlement.cumulative')).toMatchObject({
      value: 30,
      severity: 'alarm',
    })
  })
})

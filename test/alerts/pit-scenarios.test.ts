import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'

const day = 86_400_000

describe('pit scenarios: automatic and manual readings mixed (GB 50497-2019)', () => {
  let t: TestEngine
  let sensor: MqttClient
  const tokens: Record<string, string> = {}
  const api = apiClient(() => t.httpUrl)

  beforeAll(async () => {
    t = await startTestEngine()
    await t.provisioning.addSite({
      id: 'S1',
      name: '深基坑一号',
      region: '330106',
      pitGrade: 1,
      pitDepthM: 15,
    })
    await t.provisioning.addSite({ id: 'S2', name: 'Other', region: '330106' })
    const secret = (await t.provisioning.addDevice({ siteId: 'S1', id: 'PIT-01', kind: 'pit' })).secret
    sensor = await connectDevice(t.mqttUrl, 'PIT-01', secret)
    tokens.officer = await t.token('officer', { sites: ['S1'] })
    tokens.officerB = await t.token('officer', { sites: ['S2'] })
    tokens.regulator = await t.token('regulator')
  })
  afterAll(async () => {
    await sensor?.endAsync()
    await t?.stop()
  })

  it("raises a critical alert at once from a surveyor's manual danger report (GB 50497-2019 §8.0.9)", async () => {
    const answer = await api('POST', '/api/sites/S1/readings', tokens.officer as string, {
      deviceId: 'PIT-01',
      channel: 'event',
      ts: Date.now(),
      code: 'DANGER_REPORT',
      detail: '东侧坡顶出现裂缝',
    })
    expect(answer).toMatchObject({ status: 201, body: { accepted: 1, rejected: [] } })
    const alert = await waitFor(async () => {
      const { body } = await api('GET', '/api/alerts?ruleId=pit.danger_report', tokens.officer as string)
      return (body.items as Alert[])[0]
    }, 'the danger alert')
    expect(alert).toMatchObject({
      severity: 'critical',
      subject: 'DANGER_REPORT',
      state: 'open',
      retrospective: false,
    })
  })

  it('evaluates the rate rule across sensor and surveyor readings: 3 readings over 70 % of 2 mm/d alarm', async () => {
    const start = Date.now() - 4 * day
    const point = (value: number) => ({ pointCode: 'ZQS-01', item: 'wall_top_horizontal', value })
    const automatic = (ts: number, value: number) =>
      sensor.publishAsync(
        'sites/S1/devices/PIT-01/telemetry',
        JSON.stringify({ ts, points: [point(value)] }),
        { qos: 1 },
      )
    const manual = (ts: number, value: number) =>
      api('POST', '/api/sites/S1/readings', tokens.officer as string, {
        deviceId: 'PIT-01',
        ts,
        points: [point(value)],
      })

    await automatic(start, 100) // baseline
    const first = await manual(start + day, 101.5) // 1.5 mm/d: over 70 % of 2 (1.4) → warning
    expect(first).toMatchObject({ status: 201, body: { accepted: 1, duplicates: 0, rejected: [] } })
    await automatic(start + 2 * day, 103) // 1.5 mm/d again
    await manual(start + 3 * day, 104.5) // the third in a row → alarm (§8.0.3)

    const alert = await waitFor(async () => {
      const { body } = await api(
        'GET',
        '/api/alerts?ruleId=pit.wall_top_horizontal.rate',
        tokens.officer as string,
      )
      const [found] = body.items as Alert[]
      return found?.severity === 'alarm' && found
    }, 'the rate alert at alarm')
    // Judged at 70 % of the limit on 3 consecutive days: the alert records that level and why.
    expect(alert).toMatchObject({
      siteId: 'S1',
      deviceId: 'PIT-01',
      subject: 'ZQS-01',
      threshold: 1.4,
      thresholdOrigin: 'grade 1: 2 per day; ≥ 1.4 per day (70 % of 2) on 3 consecutive days',
    })
    const events = await api('GET', `/api/alerts/${alert.id}/events`, tokens.officer as string)
    expect((events.body.items as { type: string }[]).map((e) => e.type)).toEqual([
      'raised',
      'severity_raised',
    ])
    // Cumulative 4.5 mm stays under grade 1's min(20 mm, 0.2 % × 15 m) × 70 % = 14 mm: no cumulative alert.
    const cumulative = await api(
      'GET',
      '/api/alerts?ruleId=pit.wall_top_horizontal.cumulative',
      tokens.officer as string,
    )
    expect(cumulative.body.items).toEqual([])
  })

  it('validates manual readings like MQTT payloads and answers with the reasons; scopes and roles hold', async () => {
    const mixed = await api('POST', '/api/sites/S1/readings', tokens.officer as string, [
      {
        deviceId: 'PIT-01',
        ts: Date.now(),
        points: [{ pointCode: 'ZQS-02', item: 'strut_force', value: 900 }],
      },
      {
        deviceId: 'PIT-01',
        ts: Date.now(),
        points: [{ pointCode: 'ZQS-02', item: 'strut_force', value: 'a lot' }],
      },
      { deviceId: 'NOPE', ts: Date.now() },
    ])
    expect(mixed.body).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [
        { index: 1, reason: 'points[0].value: expected number, got string' },
        { index: 2, reason: 'deviceId: no device NOPE on site S1' },
      ],
    })
    const none = await api('POST', '/api/sites/S1/readings', tokens.officer as string, {
      deviceId: 'PIT-01',
      ts: 'yesterday',
      points: [],
    })
    expect(none.status).toBe(400)
    expect(none.body.error?.message).toMatch(/^\[0\] ts: expected ISO-8601/)
    expect(
      (await api('POST', '/api/sites/S1/readings', tokens.regulator as string, { deviceId: 'PIT-01' }))
        .status,
    ).toBe(403)
    expect(
      (await api('POST', '/api/sites/S1/readings', tokens.officerB as string, { deviceId: 'PIT-01' })).status,
    ).toBe(404)
  })
})

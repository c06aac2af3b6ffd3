import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import { SettingsRepository } from '../../storage/sqlite/settings-repository.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'

describe('threshold overrides per site, device and pit point (CONTRACT §4)', () => {
  let t: TestEngine
  const clients: Record<string, MqttClient> = {}
  const tokens: Record<string, string> = {}
  const api = apiClient(() => t.httpUrl)
  const alertOf = (deviceId: string, ruleId: string) =>
    waitFor(async () => {
      const { body } = await api(
        'GET',
        `/api/alerts?deviceId=${deviceId}&ruleId=${ruleId}`,
        tokens.admin as string,
      )
      return (body.items as Alert[])[0]
    }, `an alert of ${deviceId} ${ruleId}`)
  const send = (deviceId: string, channel: string, payload: unknown) =>
    clients[deviceId]?.publishAsync(`sites/S1/devices/${deviceId}/${channel}`, JSON.stringify(payload), {
      qos: 1,
    })

  beforeAll(async () => {
    t = await startTestEngine()
    await t.provisioning.addSite({ id: 'S1', name: 'Site A', region: '330106', pitGrade: 1, pitDepthM: 15 })
    for (const [id, kind] of [
      ['TC-01', 'crane'],
      ['TC-02', 'crane'],
      ['TC-03', 'crane'],
      ['TC-04', 'crane'],
      ['PIT-01', 'pit'],
    ] as const) {
      const secret = (await t.provisioning.addDevice({ siteId: 'S1', id, kind })).secret
      clients[id] = await connectDevice(t.mqttUrl, id, secret)
    }
    tokens.admin = await t.token('admin')
    tokens.supervisor = await t.token('supervisor', { sites: ['S1'] })
    tokens.officer = await t.token('officer', { sites: ['S1'] })
    tokens.regulator = await t.token('regulator')
  })
  afterAll(async () => {
    for (const client of Object.values(clients)) await client.endAsync()
    await t?.stop()
  })

  it('applies a site override, and a device override over it, and records where each threshold came from', async () => {
    const site = await api('PUT', '/api/sites/S1/rules/crane.moment', tokens.supervisor as string, {
      levels: { warning: 85, alarm: 95 },
    })
    expect(site.status).toBe(200)
    const device = await api('PUT', '/api/sites/S1/rules/crane.moment', tokens.supervisor as string, {
      deviceId: 'TC-02',
      levels: { alarm: 98 },
    })
    expect(device.body).toMatchObject({ deviceId: 'TC-02', settings: { levels: { alarm: 98 } } })

    await send('TC-01', 'telemetry', { ts: Date.now(), momentPct: 96 })
    await send('TC-02', 'telemetry', { ts: Date.now(), momentPct: 96 })
    const onSite = await alertOf('TC-01', 'crane.moment')
    expect(onSite).toMatchObject({
      severity: 'alarm',
      threshold: 95,
      thresholdOrigin: expect.stringMatching(/^site override by /),
    })
    const onDevice = await alertOf('TC-02', 'crane.moment')
    expect(onDevice).toMatchObject({
      severity: 'warning',
      threshold: 85,
      thresholdOrigin: expect.stringMatching(/^device override by /),
    })
  })

  it("uses the designer's alarm value and configured baseline for a pit point", async () => {
    const point = await api('PUT', '/api/sites/S1/points/ZQS-01', tokens.supervisor as string, {
      item: 'wall_top_horizontal',
      baseline: 100,
      cumulativeAlarm: 10,
    })
    expect(point.body).toMatchObject({ pointCode: 'ZQS-01', baseline: 100, cumulativeAlarm: 10 })
    await send('PIT-01', 'telemetry', {
      ts: Date.now(),
      points: [{ pointCode: 'ZQS-01', item: 'wall_top_horizontal', value: 111 }],
    })
    const alert = await alertOf('PIT-01', 'pit.wall_top_horizontal.cumulative')
    // 111 − baseline 100 = 11 mm, over the designer's 10 mm (the table would have said 20 mm).
    expect(alert).toMatchObject({
      subject: 'ZQS-01',
      severity: 'alarm',
      value: 11,
      threshold: 10,
      thresholdOrigin: 'point design value: 10',
    })
  })

  it('takes a baseline written by another connection (siteward point set) while running', async () => {
    const reading = (value: number) =>
      send('PIT-01', 'telemetry', {
        ts: Date.now(),
        points: [{ pointCode: 'ZQS-02', item: 'wall_top_horizontal', value }],
      })
    await reading(200) // the first reading: the baseline until a surveyor's is set
    await new Promise((resolve) => setTimeout(resolve, 300))
    await new SettingsRepository(t.db).putPoint(
      'S1',
      'ZQS-02',
      { item: 'wall_top_horizontal', baseline: 150, cumulativeAlarm: 10 },
      'cli',
    )
    await new Promise((resolve) => setTimeout(resolve, 2_500)) // the engine polls SQLite's data_version every 2 s
    await reading(205) // 55 mm from the surveyor's 150, not 5 mm from the first reading's 200
    const alert = await waitFor(async () => {
      const { body } = await api(
        'GET',
        '/api/alerts?deviceId=PIT-01&ruleId=pit.wall_top_horizontal.cumulative',
        tokens.admin as string,
      )
      return (body.items as Alert[]).find((a) => a.subject === 'ZQS-02')
    }, 'the alert of point ZQS-02')
    expect(alert).toMatchObject({ value: 55, threshold: 10 })
  })

  it('picks up a change written by another connection (the CLI) while running, and honours a disabled rule', async () => {
    await new SettingsRepository(t.db).putRuleOverride(
      'S1',
      'crane.device_event',
      null,
      { enabled: false },
      'cli',
    )
    await new Promise((resolve) => setTimeout(resolve, 2_500)) // the engine polls SQLite's data_version every 2 s
    await send('TC-03', 'event', { ts: Date.now(), code: 'LIMITER_BYPASS' })
    await send('TC-03', 'telemetry', { ts: Date.now(), momentPct: 120 }) // a marker that the event has been processed
    await alertOf('TC-03', 'crane.moment')
    const { body } = await api(
      'GET',
      '/api/alerts?deviceId=TC-03&ruleId=crane.device_event',
      tokens.admin as string,
    )
    expect(body.items).toEqual([])
  })

  it("computes moment % through the crane's load chart when the monitor sends only load and radius", async () => {
    const chart = [
      { radiusM: 12, ratedLoadT: 8 },
      { radiusM: 20, ratedLoadT: 5 },
      { radiusM: 40, ratedLoadT: 2.2 },
      { radiusM: 60, ratedLoadT: 1.3 },
    ]
    expect(
      (await api('PUT', '/api/devices/TC-04/load-chart', tokens.supervisor as string, { points: chart }))
        .status,
    ).toBe(200)
    expect(
      (await api('PUT', '/api/devices/PIT-01/load-chart', tokens.supervisor as string, { points: chart }))
        .status,
    ).toBe(400)
    expect(
      (await api('PUT', '/api/devices/TC-04/load-chart', tokens.officer as string, { points: chart })).status,
    ).toBe(403)
    await send('TC-04', 'telemetry', { ts: Date.now(), loadT: 2.3, radiusM: 35 }) // rated 2.2 t out to 40 m: 104.5 %
    const alert = await alertOf('TC-04', 'crane.moment')
    expect(alert.value).toBeCloseTo(104.545, 2)
    expect(alert.severity).toBe('alarm') // over the site's 95 % override, under the default 110 % critical
  })

  it('refuses what it must: roles, unknown rules, unordered levels, levels on event rules, foreign devices', async () => {
    expect(
      (
        await api('PUT', '/api/sites/S1/rules/crane.moment', tokens.officer as string, {
          levels: { alarm: 90 },
        })
      ).status,
    ).toBe(403)
    expect(
      (
        await api('PUT', '/api/sites/S1/rules/crane.moment', tokens.regulator as string, {
          levels: { alarm: 90 },
        })
      ).status,
    ).toBe(403)
    const unknown = await api('PUT', '/api/sites/S1/rules/crane.nope', tokens.admin as string, {
      enabled: false,
    })
    expect(unknown.body.error?.code).toBe('RULE_NOT_FOUND')
    const unordered = await api('PUT', '/api/sites/S1/rules/crane.moment', tokens.admin as string, {
      levels: { warning: 120 },
    })
    expect(unordered.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'body.levels: must rise from warning to critical',
    })
    const eventLevels = await api('PUT', '/api/sites/S1/rules/crane.device_event', tokens.admin as string, {
      levels: { alarm: 1 },
    })
    expect(eventLevels.status).toBe(400)
    const foreign = await api('PUT', '/api/sites/S1/rules/crane.moment', tokens.admin as string, {
      deviceId: 'NOPE',
      levels: { alarm: 90 },
    })
    expect(foreign.body.error?.code).toBe('DEVICE_NOT_FOUND')
    const noSite = await api('PUT', '/api/sites/S9/rules/crane.moment', tokens.admin as string, {
      levels: { alarm: 90 },
    })
    expect(noSite.body.error?.code).toBe('SITE_NOT_FOUND')
    const strict = await api('PUT', '/api/sites/S1/points/P9', tokens.admin as string, {
      item: 'wall_top_horizontal',
      colour: 'red',
    })
    expect(strict.status).toBe(400)
  })
})

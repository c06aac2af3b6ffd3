import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'

/**
 * The crane hazards a safety engineer found missed (issue 12), each published over MQTT as a
 * monitor would and read back as the alert a supervisor sees.
 */
describe('crane rules that miss nothing (JGJ 33, JGJ 332, DOMAIN.md §4)', () => {
  let t: TestEngine
  const api = apiClient(() => t.httpUrl)
  let admin: string
  let supervisor: string
  const cranes: Record<string, MqttClient> = {}

  const crane = async (id: string) => {
    if (cranes[id] === undefined) {
      const secret = await t.addDevice('S1', id, 'crane')
      cranes[id] = await connectDevice(t.mqttUrl, id, secret)
    }
    return cranes[id] as MqttClient
  }
  const publish = async (id: string, channel: string, payload: unknown) => {
    const client = await crane(id)
    await client.publishAsync(`sites/S1/devices/${id}/${channel}`, JSON.stringify(payload), { qos: 1 })
  }
  const alertsOf = async (deviceId: string, ruleId?: string) => {
    const query = `deviceId=${deviceId}${ruleId === undefined ? '' : `&ruleId=${ruleId}`}`
    const { body } = await api('GET', `/api/alerts?${query}&limit=100`, supervisor)
    if (!Array.isArray(body.items)) throw new Error(`GET /api/alerts: ${JSON.stringify(body)}`)
    return body.items as Alert[]
  }
  const alertOf = (deviceId: string, ruleId: string, accept: (alert: Alert) => boolean = () => true) =>
    waitFor(async () => (await alertsOf(deviceId, ruleId)).find(accept), `${ruleId} on ${deviceId}`)

  beforeAll(async () => {
    // Polling for alerts asks often: above the per-token rate limit of a real deployment.
    t = await startTestEngine({ env: { SITEWARD_HTTP_RATE_LIMIT: '100000' } })
    await t.provisioning.addSite({ id: 'S1', name: '塔吊工地', region: '330106' })
    admin = await t.token('admin')
    supervisor = await t.token('supervisor', { sites: ['S1'] })
  })
  afterAll(async () => {
    for (const client of Object.values(cranes)) await client.endAsync()
    await t?.stop()
  })

  it('applies the working wind limits to a crane that never reports its mode, alarming at force 6', async () => {
    await publish('TC-WIND', 'telemetry', { ts: Date.now(), windMps: 15 })
    const alert = await alertOf('TC-WIND', 'crane.wind_work')
    // JGJ 33-2012: force 6 (10.8 m/s) stops work; 15 m/s is past it.
    expect(alert).toMatchObject({ severity: 'alarm', threshold: 10.8, value: 15, condition: 'active' })
    // 10.8 m/s exactly, on a second crane, is the alarm (reaching the value reaches it); 9.5 a warning.
    await publish('TC-WIND2', 'telemetry', { ts: Date.now(), windMps: 9.5 })
    expect(await alertOf('TC-WIND2', 'crane.wind_work')).toMatchObject({ severity: 'warning', threshold: 9 })
    await publish('TC-WIND2', 'telemetry', { ts: Date.now(), windMps: 10.8 })
    expect(await alertOf('TC-WIND2', 'crane.wind_work', (a) => a.severity === 'alarm')).toMatchObject({
      threshold: 10.8,
      value: 10.8,
    })
  })

  it('stops the working limits once the crane says it is idle, and raises the storm rule in every mode', async () => {
    await publish('TC-STORM', 'telemetry', { ts: Date.now(), mode: 'idle', windMps: 21 })
    const storm = await alertOf('TC-STORM', 'crane.wind_storm')
    expect(storm).toMatchObject({ severity: 'alarm', threshold: 20.8, value: 21 })
    // Idle: no working-wind alert for the same 21 m/s.
    expect(await alertsOf('TC-STORM', 'crane.wind_work')).toEqual([])
    await publish('TC-STORM', 'telemetry', { ts: Date.now(), mode: 'out_of_service', windMps: 25 })
    expect(await alertOf('TC-STORM', 'crane.wind_storm', (a) => a.severity === 'critical')).toMatchObject({
      threshold: 24.5,
      peakValue: 25,
    })
  })

  it("judges every work cycle: a lift's peak moment, load, wind and violations, late lifts as retrospective", async () => {
    await crane('TC-CYCLE')
    const put = await api('PUT', '/api/devices/TC-CYCLE/settings', admin, { ratedCapacityT: 8 })
    expect(put).toMatchObject({ status: 200, body: { settings: { ratedCapacityT: 8 } } })
    // Live telemetry missed the peak: it only ever said 60 %.
    await publish('TC-CYCLE', 'telemetry', { ts: Date.now() - 60_000, momentPct: 60, loadT: 3 })
    const end = Date.now()
    await publish('TC-CYCLE', 'cycle', {
      ts: end,
      startTs: end - 90_000,
      cycleNo: 41,
      operatorId: 'OP-7',
      maxLoadT: 8.8,
      maxMomentPct: 112,
      maxWindMps: 11,
      violations: ['ANTI_COLLISION'],
    })
    const moment = await alertOf('TC-CYCLE', 'crane.moment')
    expect(moment).toMatchObject({
      severity: 'critical',
      value: 112,
      threshold: 110,
      condition: 'cleared', // the lift is over; the alert stays for people to handle
      state: 'open',
      retrospective: false,
    })
    expect(moment.thresholdOrigin).toContain('peak of lift 41')
    // 8.8 t over a rated capacity of 8 t is 110 %: critical.
    expect(await alertOf('TC-CYCLE', 'crane.load')).toMatchObject({ severity: 'critical', value: 110 })
    expect(await alertOf('TC-CYCLE', 'crane.wind_work')).toMatchObject({ severity: 'alarm', value: 11 })
    expect(await alertOf('TC-CYCLE', 'crane.anti_collision')).toMatchObject({
      severity: 'critical',
      subject: 'ANTI_COLLISION',
    })
    // A lift record arriving an hour late (backfill) is retrospective.
    const late = Date.now() - 3_600_000
    await publish('TC-CYCLE', 'cycle', {
      ts: late,
      startTs: late - 60_000,
      cycleNo: 12,
      operatorId: 'OP-7',
      maxLoadT: 2,
      maxMomentPct: 101,
      maxWindMps: 3,
    })
    // The key already has an open alert: the late lift joins its timeline without re-activating it
    // or making it retrospective (late data never takes over a live alert's condition).
    const events = await waitFor(async () => {
      const { body } = await api('GET', `/api/alerts/${moment.id}/events`, supervisor)
      const items = body.items as { type: string; data: { outOfOrder?: boolean; value?: number } }[]
      return items.some((e) => e.type === 'updated' && e.data.outOfOrder === true) && items
    }, 'the late lift on the moment alert')
    expect(events.find((e) => e.type === 'updated')?.data.value).toBe(101)
    expect(await alertOf('TC-CYCLE', 'crane.moment')).toMatchObject({ retrospective: false, count: 1 })
  })

  it('raises a late lift on a quiet key as its own retrospective alert', async () => {
    const late = Date.now() - 2 * 3_600_000
    await publish('TC-LATE', 'cycle', {
      ts: late,
      startTs: late - 60_000,
      cycleNo: 3,
      operatorId: 'OP-1',
      maxLoadT: 1,
      maxMomentPct: 104,
      maxWindMps: 2,
    })
    expect(await alertOf('TC-LATE', 'crane.moment')).toMatchObject({
      severity: 'alarm',
      retrospective: true,
      condition: 'cleared',
    })
  })

  it('maps every monitor alarm code JGJ 332 names; an unknown code still raises a warning naming it, counted', async () => {
    await publish('TC-CODES', 'telemetry', {
      ts: Date.now(),
      loadT: 2,
      deviceAlarms: ['ZONE_PROTECTION', 'HEIGHT_LIMIT', 'VENDOR_X9'],
    })
    expect(await alertOf('TC-CODES', 'crane.zone_protection')).toMatchObject({
      severity: 'critical',
      subject: 'ZONE_PROTECTION',
      condition: 'active',
    })
    expect(await alertOf('TC-CODES', 'crane.limit_switch')).toMatchObject({
      severity: 'alarm',
      subject: 'HEIGHT_LIMIT',
    })
    const unknown = await alertOf('TC-CODES', 'device.unknown_alarm')
    expect(unknown).toMatchObject({ severity: 'warning', subject: 'VENDOR_X9', condition: 'active' })
    // On the event channel too, and for pit devices alike.
    await publish('TC-CODES', 'event', { ts: Date.now(), code: 'BRAKE_WORN' })
    expect(
      await alertOf('TC-CODES', 'device.unknown_alarm', (a) => a.subject === 'BRAKE_WORN'),
    ).toMatchObject({
      severity: 'warning',
    })
    const metrics = await fetch(`${t.httpUrl}/metrics`).then((r) => r.text())
    const counted = /siteward_unknown_device_codes_total\{rule="device.unknown_alarm"\} (\d+)/.exec(metrics)
    expect(Number(counted?.[1])).toBeGreaterThanOrEqual(2)
    // The list leaving the codes out clears them: a supervisor can then close.
    await publish('TC-CODES', 'telemetry', { ts: Date.now(), loadT: 2, deviceAlarms: [] })
    await waitFor(
      async () => (await alertsOf('TC-CODES')).every((a) => a.condition === 'cleared'),
      'every code cleared',
    )
  })

  it("applies a crane's own limits: site height limit, forbidden slew sectors, radius", async () => {
    await crane('TC-LIMITS')
    const put = await api('PUT', '/api/devices/TC-LIMITS/settings', admin, {
      hookHeightMaxM: 45,
      forbiddenSlewSectors: [{ fromDeg: 350, toDeg: 20 }],
      radiusMinM: 2.5,
      radiusMaxM: 50,
    })
    expect(put.status).toBe(200)
    // The engine reads settings at once after an API change.
    await publish('TC-LIMITS', 'telemetry', { ts: Date.now(), hookHeightM: 46, slewDeg: 5, radiusM: 51 })
    expect(await alertOf('TC-LIMITS', 'crane.hook_height')).toMatchObject({
      severity: 'alarm',
      threshold: 45,
      value: 46,
    })
    // 5° is 15° inside the sector 350°–20° (it wraps through north).
    expect(await alertOf('TC-LIMITS', 'crane.slew_sector')).toMatchObject({ severity: 'alarm', value: 15 })
    expect(await alertOf('TC-LIMITS', 'crane.radius_max')).toMatchObject({ severity: 'alarm', threshold: 50 })
    await publish('TC-LIMITS', 'telemetry', { ts: Date.now(), radiusM: 2.2 })
    expect(await alertOf('TC-LIMITS', 'crane.radius_min')).toMatchObject({
      severity: 'alarm',
      threshold: 2.5,
    })
    // A crane setting for a pit device is refused with the field named.
    await t.addDevice('S1', 'PIT-X', 'pit')
    const refused = await api('PUT', '/api/devices/PIT-X/settings', admin, { hookHeightMaxM: 40 })
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } })
    expect(refused.body.error?.message).toContain('hookHeightMaxM')
  })

  it('warns on tilt from the 4 ‰ verticality reference (0.23°) after 3 readings', async () => {
    for (let i = 0; i < 3; i++) await publish('TC-TILT', 'telemetry', { ts: Date.now() + i, tiltDeg: 0.25 })
    expect(await alertOf('TC-TILT', 'crane.tilt')).toMatchObject({ severity: 'warning', threshold: 0.23 })
  })
})

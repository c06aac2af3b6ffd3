import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runSimulate } from '../../app/simulate-command.js'
import type { Alert } from '../../domain/alert.js'
import { craneCycleSchema, craneTelemetrySchema, pitTelemetrySchema } from '../../domain/payloads.js'
import { CraneModel } from '../../simulators/crane-model.js'
import { PitModel } from '../../simulators/pit-model.js'
import { seededRandom } from '../../simulators/random.js'
import { type Scenario, scenarioNamed, scenarios } from '../../simulators/scenarios.js'
import { simulate } from '../../simulators/simulator.js'
import { startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'

const scenario = (name: string) => scenarioNamed(name) as Scenario

describe('crane and pit models', () => {
  const craneRun = (name: string, ticks: number) => {
    const model = new CraneModel('TC-01', scenario(name), seededRandom(1))
    return Array.from({ length: ticks }, (_, i) => model.next(1_700_000_000_000 + i * 1_000))
  }

  it('sends valid payloads: telemetry every tick and a cycle record per finished lift', () => {
    const run = craneRun('normal', 500)
    for (const { telemetry, cycle } of run) {
      expect(craneTelemetrySchema.safeParse(telemetry).success).toBe(true)
      if (cycle !== undefined) expect(craneCycleSchema.safeParse(cycle).success).toBe(true)
    }
    const cycles = run.flatMap((r) => (r.cycle === undefined ? [] : [r.cycle]))
    expect(cycles.length).toBeGreaterThan(10)
    expect(new Set(cycles.map((c) => c.operatorId)).size).toBe(2) // operators take turns
  })

  it('stays inside the load chart under normal, and goes past it under overload', () => {
    const peak = (name: string) => Math.max(...craneRun(name, 2_000).map((r) => r.telemetry.momentPct ?? 0))
    expect(peak('normal')).toBeLessThanOrEqual(80)
    expect(peak('overload')).toBeGreaterThan(100)
    const overloadCycles = craneRun('overload', 2_000).flatMap((r) => r.cycle?.violations ?? [])
    expect(overloadCycles).toContain('OVERLOAD')
  })

  it('blows harder in wind-gust, and jacks in jacking-in-wind', () => {
    const winds = (name: string) => craneRun(name, 1_000).map((r) => r.telemetry.windMps ?? 0)
    expect(Math.max(...winds('normal'))).toBeLessThan(10.8)
    expect(Math.max(...winds('wind-gust'))).toBeGreaterThan(12)
    expect(new Set(craneRun('jacking-in-wind', 10).map((r) => r.telemetry.mode))).toEqual(
      new Set(['jacking']),
    )
  })

  it('moves pit points by a rate per day of event time, faster and faster under pit-acceleration', () => {
    const day = 86_400_000
    const readings = (name: string) => {
      const model = new PitModel(scenario(name), seededRandom(2))
      return Array.from({ length: 5 }, (_, i) => model.next(1_700_000_000_000 + i * day))
    }
    for (const reading of readings('normal')) expect(pitTelemetrySchema.safeParse(reading).success).toBe(true)
    const wall = (name: string) =>
      readings(name).map((r) => r.points.find((p) => p.pointCode === 'ZQS-01')?.value ?? 0)
    const normal = wall('normal')
    const fast = wall('pit-acceleration')
    expect(normal[4] as number).toBeGreaterThan(1) // 0.4 mm/d for 4 days, give or take noise
    expect(normal[4] as number).toBeLessThan(2.5)
    const steps = fast.slice(1).map((v, i) => v - (fast[i] as number))
    expect(steps[3] as number).toBeGreaterThan(steps[0] as number) // accelerating
  })

  it('documents every scenario the issue names', () => {
    expect(scenarios.map((s) => s.name).sort()).toEqual(
      [
        'normal',
        'overload',
        'wind-gust',
        'jacking-in-wind',
        'pit-acceleration',
        'sensor-silence',
        'backfill-after-outage',
        'bad-payloads',
        'reconnect-storm',
      ].sort(),
    )
    for (const s of scenarios) expect(s.description.length).toBeGreaterThan(20)
  })
})

describe('simulations against a running engine', () => {
  let t: TestEngine
  const api = apiClient(() => t.httpUrl)
  let officer: string
  beforeAll(async () => {
    t = await startTestEngine()
    await t.provisioning.addSite({
      id: 'SIM',
      name: 'Simulated',
      region: '330106',
      pitGrade: 1,
      pitDepthM: 15,
    })
    officer = await t.token('officer', { sites: ['SIM'] })
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('overload: every message acknowledged, and the overload raised as an alert', async () => {
    const secret = (await t.provisioning.addDevice({ siteId: 'SIM', id: 'SIM-TC1', kind: 'crane' })).secret
    const result = await simulate({
      mqttUrl: t.mqttUrl,
      devices: [{ id: 'SIM-TC1', siteId: 'SIM', kind: 'crane', secret }],
      scenario: scenario('overload'),
      durationMs: 5_000,
      craneIntervalMs: 50,
      pitIntervalMs: 60_000,
      seed: 3,
    })
    expect(result.sent).toBeGreaterThan(50)
    expect(result.acked).toBe(result.sent)
    expect(result.errors).toBe(0)
    // Acknowledged is not yet evaluated: wait for the overload to reach critical, not its first warning.
    const alerts = await waitFor(async () => {
      const items = (await api('GET', '/api/alerts?deviceId=SIM-TC1', officer)).body.items as Alert[]
      const overloads = items.filter((a) => a.ruleId === 'crane.moment' || a.ruleId === 'crane.load')
      return overloads.some((a) => a.severity === 'critical') && overloads
    }, 'a critical overload alert')
    expect(alerts.every((a) => a.retrospective === false)).toBe(true)
  })

  it('bad-payloads: the bad ones become dead letters with reasons, the good ones count', async () => {
    const secret = (await t.provisioning.addDevice({ siteId: 'SIM', id: 'SIM-TC2', kind: 'crane' })).secret
    const result = await simulate({
      mqttUrl: t.mqttUrl,
      devices: [{ id: 'SIM-TC2', siteId: 'SIM', kind: 'crane', secret }],
      scenario: scenario('bad-payloads'),
      durationMs: 3_000,
      craneIntervalMs: 50,
      pitIntervalMs: 60_000,
      seed: 4,
    })
    expect(result.acked).toBe(result.sent) // refused payloads are acknowledged, then dead-lettered
    const device = await waitFor(async () => {
      const body = (await api('GET', '/api/devices/SIM-TC2', officer)).body
      return (body.rejectedCount as number) > 0 && body
    }, 'rejections counted')
    expect(device.lastRejectReason).toEqual(expect.any(String))
  })

  it('reconnect-storm: connections drop every 2 s, and every object is stored exactly once', async () => {
    const secret = (await t.provisioning.addDevice({ siteId: 'SIM', id: 'SIM-TC3', kind: 'crane' })).secret
    const result = await simulate({
      mqttUrl: t.mqttUrl,
      devices: [{ id: 'SIM-TC3', siteId: 'SIM', kind: 'crane', secret }],
      scenario: scenario('reconnect-storm'),
      durationMs: 6_500,
      craneIntervalMs: 20,
      pitIntervalMs: 60_000,
      seed: 5,
      timeScale: 10, // a storm every 2 s instead of every 20 s; MQTT.js comes back after 1 s
    })
    expect(result.errors).toBe(0)
    expect(result.acked).toBe(result.sent)
    // Telemetry, cycle and status objects each count once, however often a PUBACK was lost in a
    // dropped connection and the publish resent.
    const device = await waitFor(async () => {
      const body = (await api('GET', '/api/devices/SIM-TC3', officer)).body
      return (body.acceptedCount as number) >= result.sent && body
    }, 'every object accepted')
    expect(device.acceptedCount).toBe(result.sent)
    expect(device.rejectedCount).toBe(0)
    expect(result.reconnects).toBeGreaterThanOrEqual(2) // storms at 2, 4 and 6 s
  })

  it('backfill-after-outage: the buffer arrives as arrays, nothing is lost, alerts are dated in the outage', async () => {
    const secret = (await t.provisioning.addDevice({ siteId: 'SIM', id: 'SIM-TC4', kind: 'crane' })).secret
    const started = Date.now()
    let buffered = 0
    const result = await simulate({
      mqttUrl: t.mqttUrl,
      devices: [{ id: 'SIM-TC4', siteId: 'SIM', kind: 'crane', secret }],
      scenario: scenario('backfill-after-outage'),
      durationMs: 6_000,
      craneIntervalMs: 50,
      pitIntervalMs: 60_000,
      seed: 6,
      timeScale: 100, // offline from 0.1 s to 3.1 s instead of from 10 s for 5 minutes
      onProgress: (p) => {
        buffered = Math.max(buffered, p.buffered)
      },
    })
    const outage = { from: started + 100, to: started + 3_100 }
    expect(buffered).toBeGreaterThan(20) // readings held while offline
    expect(result.buffered).toBe(0) // and all of them sent once back
    expect(result.acked).toBe(result.sent)
    const device = await waitFor(async () => {
      const body = (await api('GET', '/api/devices/SIM-TC4', officer)).body
      return (body.acceptedCount as number) > result.sent && body // arrays: more objects than publishes
    }, 'the backfilled objects accepted')
    expect(device.rejectedCount).toBe(0)
    const alerts = (await api('GET', '/api/incidents?deviceId=SIM-TC4', officer)).body.items as Alert[]
    // Overloads that happened while the crane was offline raise alerts dated when they happened.
    expect(
      alerts.some((a) => Date.parse(a.firstAt) >= outage.from && Date.parse(a.firstAt) < outage.to),
    ).toBe(true)
  })

  it('siteward simulate --rate: all devices together send about that many messages a second', async () => {
    const admin = await t.token('admin')
    const lines: string[] = []
    const code = await runSimulate(
      ['--api-url', t.httpUrl, '--admin-token', admin, '--mqtt-url', t.mqttUrl, '--duration', '3s'],
      (line) => lines.push(line),
    )
    expect(code).toBe(0)
    const paced: string[] = []
    expect(
      await runSimulate(
        [
          ...['--api-url', t.httpUrl, '--admin-token', admin, '--mqtt-url', t.mqttUrl, '--duration', '3s'],
          ...['--rate', '40'],
        ],
        (line) => paced.push(line),
      ),
    ).toBe(0)
    const sent = (line: string | undefined) => (JSON.parse(line as string) as { sent: number }).sent
    // Defaults: 2 cranes every second and a pit every 5 minutes, a handful in 3 s; at 40/s about 120.
    expect(sent(lines.at(-1))).toBeLessThan(20)
    expect(sent(paced.at(-1))).toBeGreaterThan(80)
    expect(sent(paced.at(-1))).toBeLessThan(160)
    await expect(runSimulate(['--rate', '0'], () => undefined)).rejects.toThrow(
      '--rate: expected a number above 0',
    )
  })

  it('siteward simulate provisions through the admin API and prints a summary', async () => {
    const admin = await t.token('admin')
    const lines: string[] = []
    const code = await runSimulate(
      [
        '--api-url',
        t.httpUrl,
        '--admin-token',
        admin,
        '--mqtt-url',
        t.mqttUrl,
        '--duration',
        '2s',
        '--crane-interval',
        '100ms',
        '--pits',
        '1',
        '--pit-interval',
        '500ms',
        '--cranes',
        '1',
        '--sites',
        '2',
      ],
      (line) => lines.push(line),
    )
    expect(code).toBe(0)
    const summary = JSON.parse(lines.at(-1) as string) as {
      scenario: string
      devices: string[]
      sent: number
      acked: number
    }
    expect(summary.scenario).toBe('normal')
    expect(summary.devices).toHaveLength(4) // a crane and a pit on each of two sites
    expect(summary.devices.filter((id) => id.startsWith('SIM-2-'))).toHaveLength(2)
    expect(summary.sent).toBeGreaterThan(10)
    expect(summary.acked).toBe(summary.sent)
    const lines2: string[] = []
    expect(await runSimulate(['--list'], (line) => lines2.push(line))).toBe(0)
    expect(lines2).toHaveLength(scenarios.length)
    await expect(runSimulate(['--scenario', 'earthquake'], () => undefined)).rejects.toThrow(
      /no scenario "earthquake"/,
    )
  })
})

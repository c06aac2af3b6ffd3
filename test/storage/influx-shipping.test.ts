import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { InfluxV1Client } from '../../storage/influx/influx-client.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { freePort, influxdOnPath, startInfluxd } from '../helpers/influxd.js'

const influxUrl = inject('influxUrl')
const skipReason = inject('influxSkipReason')

const metric = async (t: TestEngine, name: string) => {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? Number.NaN : Number(line.split(' ').at(-1))
}

describe.skipIf(skipReason !== '')(
  `telemetry into InfluxDB (CONTRACT §3)${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let t: TestEngine
    const database = `e2e_${randomUUID().replace(/-/g, '')}`
    const influx = () => new InfluxV1Client({ url: influxUrl, database, credentials: { kind: 'none' } })
    const secrets: Record<string, string> = {}

    beforeAll(async () => {
      t = await startTestEngine({ influxUrl, influxDatabase: database })
      secrets.crane = await t.addDevice('S1', 'TC-01', 'crane')
      secrets.pit = await t.addDevice('S1', 'PIT-01', 'pit')
    })
    afterAll(async () => {
      await t?.stop()
    })

    it('creates the database and writes every channel with the device timestamps in ms', async () => {
      const crane = await connectDevice(t.mqttUrl, 'TC-01', secrets.crane as string)
      const pit = await connectDevice(t.mqttUrl, 'PIT-01', secrets.pit as string)
      const ts = Date.now() - 60_000
      await crane.publishAsync(
        'sites/S1/devices/TC-01/telemetry',
        JSON.stringify([
          { ts, loadT: 3.5, momentPct: 88.5, windMps: 7.25, mode: 'work', operatorId: 'OP-1' },
          { ts: ts + 1, loadT: 3.6 },
        ]),
        { qos: 1 },
      )
      await crane.publishAsync(
        'sites/S1/devices/TC-01/cycle',
        JSON.stringify({
          ts: ts + 2,
          startTs: ts - 90_000,
          cycleNo: 41,
          operatorId: 'OP-1',
          maxLoadT: 3.6,
          maxMomentPct: 90,
          maxWindMps: 8,
          violations: ['SLEW_LIMIT'],
        }),
        { qos: 1 },
      )
      await crane.publishAsync(
        'sites/S1/devices/TC-01/status',
        JSON.stringify({ ts: ts + 3, online: true, fw: 'v2.1', signalCsq: 23 }),
        { qos: 1 },
      )
      await pit.publishAsync(
        'sites/S1/devices/PIT-01/telemetry',
        JSON.stringify({
          ts,
          points: [
            { pointCode: 'ZQS-01', item: 'wall_top_horizontal', value: 10 },
            { pointCode: 'ZC-02', item: 'strut_force', value: 850 },
          ],
        }),
        { qos: 1 },
      )
      await pit.publishAsync(
        'sites/S1/devices/PIT-01/telemetry',
        JSON.stringify({
          ts: ts + 43_200_000 / 1000,
          points: [{ pointCode: 'ZQS-01', item: 'wall_top_horizontal', value: 10.5 }],
        }),
        { qos: 1 },
      )

      const craneRows = await waitFor(async () => {
        const series = await influx()
          .query('SELECT * FROM crane')
          .catch(() => [])
        return (series[0]?.values.length ?? 0) >= 2 && series[0]
      }, 'crane points in InfluxDB')
      const row = Object.fromEntries(craneRows.columns.map((column, i) => [column, craneRows.values[0]?.[i]]))
      expect(row).toMatchObject({
        time: ts,
        site: 'S1',
        device: 'TC-01',
        loadT: 3.5,
        momentPct: 88.5,
        windMps: 7.25,
        mode: 'work',
        operator: 'OP-1',
      })
      expect(craneRows.values[1]?.[0]).toBe(ts + 1)

      const cycle = await waitFor(
        async () => (await influx().query('SELECT * FROM crane_cycle'))[0],
        'crane_cycle point',
      )
      expect(Object.fromEntries(cycle.columns.map((c, i) => [c, cycle.values[0]?.[i]]))).toMatchObject({
        time: ts + 2,
        cycleNo: 41,
        operator: 'OP-1',
        maxLoadT: 3.6,
        violations: 'SLEW_LIMIT',
        startTs: ts - 90_000,
      })
      const status = await waitFor(
        async () => (await influx().query("SELECT * FROM device_status WHERE fw = 'v2.1'"))[0],
        'device_status point',
      )
      expect(Object.fromEntries(status.columns.map((c, i) => [c, status.values[0]?.[i]]))).toMatchObject({
        time: ts + 3,
        online: true,
        signalCsq: 23,
      })

      const pitSeries = await waitFor(async () => {
        const series = await influx().query(
          `SELECT value, cumulative, rate_per_day FROM pit WHERE point = 'ZQS-01'`,
        )
        return (series[0]?.values.length ?? 0) >= 2 && series[0]
      }, 'pit points')
      expect(pitSeries.values[0]).toEqual([ts, 10, 0, null])
      // 0.5 mm in 43.2 s of device time: a rate per day over at least a day of event time
      // (GB 50497-2019 §8.0.3, DOMAIN.md §4), so 0.5 mm/d, not the 1000 mm/d of a per-reading rate.
      expect(pitSeries.values[1]?.[0]).toBe(ts + 43_200)
      expect(pitSeries.values[1]?.[2]).toBe(0.5)
      expect(pitSeries.values[1]?.[3]).toBe(0.5)

      // The API reads the same data back.
      const admin = await t.token('admin')
      const response = await fetch(
        `${t.httpUrl}/api/devices/TC-01/telemetry?metric=loadT&from=${new Date(ts - 1000).toISOString()}`,
        {
          headers: { authorization: `Bearer ${admin}` },
        },
      )
      expect(response.status).toBe(200)
      const body = (await response.json()) as { series: { points: { ts: string; value: number }[] }[] }
      expect(body.series[0]?.points).toEqual([
        { ts: new Date(ts).toISOString(), value: 3.5 },
        { ts: new Date(ts + 1).toISOString(), value: 3.6 },
      ])
      await crane.endAsync()
      await pit.endAsync()
    })

    it('dead-letters the points InfluxDB refuses (400) with its reason, and writes the rest of the batch', async () => {
      // A field type conflict is InfluxDB's own "bad point": powerV already exists as a string.
      const ts = Date.now() - 30_000
      const seeded = await influx().write(`crane,site=S9,device=SEED powerV="mains" ${ts - 10_000}`)
      expect(seeded).toEqual({ ok: true })
      const secret = await t.addDevice('S1', 'TC-40', 'crane')
      const client = await connectDevice(t.mqttUrl, 'TC-40', secret)
      await client.publishAsync(
        'sites/S1/devices/TC-40/telemetry',
        JSON.stringify([
          { ts, loadT: 1.25 },
          { ts: ts + 1, powerV: 380 }, // refused by InfluxDB: a float into a string field
          { ts: ts + 2, loadT: 1.5 },
        ]),
        { qos: 1 },
      )
      await client.publishAsync(
        'sites/S1/devices/TC-40/telemetry',
        JSON.stringify({ ts: ts + 3, loadT: 2 }),
        {
          qos: 1,
        },
      )
      await client.endAsync()
      const written = await waitFor(async () => {
        const [series] = await influx().query("SELECT loadT FROM crane WHERE device = 'TC-40'")
        return (series?.values.length ?? 0) >= 3 && series
      }, 'the good points of the batch, and the next message')
      expect(written.values.map((row) => row[1])).toEqual([1.25, 1.5, 2])
      const letter = await waitFor(
        () =>
          t.db
            .prepare(
              "SELECT stage, reason, payload FROM dead_letters WHERE device_id = 'TC-40' AND stage = 'telemetry'",
            )
            .get() as { stage: string; reason: string; payload: string } | undefined,
        'a dead letter for the refused point',
      )
      expect(letter.reason).toMatch(/field type conflict/)
      expect(letter.payload).toContain('powerV')
    })
  },
)

describe.skipIf(influxdOnPath() === null)(
  'InfluxDB outage: spool in the log, drain in order when it returns',
  () => {
    it('keeps accepting, reports the lag, and ships the backlog exactly once after influxd starts', async () => {
      const port = await freePort()
      const database = 'outage'
      const t = await startTestEngine({ influxUrl: `http://127.0.0.1:${port}`, influxDatabase: database })
      const secret = await t.addDevice('S1', 'TC-01', 'crane')
      const client = await connectDevice(t.mqttUrl, 'TC-01', secret)
      const base = Date.now() - 120_000
      const count = 300
      for (let i = 0; i < count; i++) {
        await client.publishAsync(
          'sites/S1/devices/TC-01/telemetry',
          JSON.stringify({ ts: base + i, seq: i, loadT: i }),
          { qos: 1 },
        )
      }
      await waitFor(
        async () => (await metric(t, 'siteward_telemetry_write_errors_total')) > 0,
        'a failed write',
      )
      const ready = (await (await fetch(`${t.httpUrl}/readyz`)).json()) as {
        status: string
        checks: { name: string; detail: string }[]
      }
      expect(ready.status).toBe('ready')
      expect(ready.checks.find((c) => c.name === 'telemetry')?.detail).toMatch(/spooling/)
      expect(await metric(t, 'siteward_log_depth_bytes{consumer="shipper"}')).toBeGreaterThan(0)
      expect(await metric(t, 'siteward_shipper_lag_seconds')).toBeGreaterThan(0)

      const influxd = await startInfluxd({ httpPort: port })
      try {
        const client1 = new InfluxV1Client({ url: influxd.url, database, credentials: { kind: 'none' } })
        const rows = await waitFor(
          async () => {
            const series = await client1.query('SELECT loadT FROM crane').catch(() => [])
            return (series[0]?.values.length ?? 0) >= count && series[0]
          },
          'the backlog in InfluxDB',
          60_000,
        )
        expect(rows.values.map((row) => row[0])).toEqual(Array.from({ length: count }, (_, i) => base + i))
        expect(rows.values.map((row) => row[1])).toEqual(Array.from({ length: count }, (_, i) => i))
        await waitFor(
          async () => (await metric(t, 'siteward_log_depth_bytes{consumer="shipper"}')) === 0,
          'log drained',
        )
        expect(await metric(t, 'siteward_shipper_lag_seconds')).toBe(0)
        expect(t.lines.some((line) => line.msg === 'telemetry store is back; shipping the backlog')).toBe(
          true,
        )
      } finally {
        await client.endAsync()
        await t.stop()
        await influxd.stop()
      }
    }, 120_000)
  },
)

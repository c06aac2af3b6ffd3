import { describe, expect, inject, it } from 'vitest'
import { InfluxV1Client } from '../../storage/influx/influx-client.js'
import { connectDevice, metricValue, startTestEngine, waitFor } from '../helpers/engine.js'
import { freePort, startInfluxd } from '../helpers/influxd.js'

const skipReason = inject('influxSkipReason')

const metric = metricValue

describe.skipIf(skipReason !== '')(
  `a bounded write-ahead log during an InfluxDB outage${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    it('delays PUBACKs, then refuses with a logged reason, loses nothing, and recovers when InfluxDB returns', async () => {
      const port = await freePort()
      const database = 'bounded'
      const t = await startTestEngine({
        influxUrl: `http://127.0.0.1:${port}`, // nothing listens there yet: InfluxDB is "down"
        influxDatabase: database,
        env: { SITEWARD_WAL_SEGMENT_MB: '1', SITEWARD_WAL_MAX_MB: '2' },
      })
      const secret = await t.addDevice('S1', 'TC-01', 'crane')
      const base = Date.now() - 3_600_000
      let acked = 0
      let refusedAfter = -1
      const client = await connectDevice(t.mqttUrl, 'TC-01', secret)
      const closed = new Promise((_, reject) => client.once('close', () => reject(new Error('closed'))))
      closed.catch(() => undefined)
      // ~45 KB per message: about 50 messages fill 2 MB.
      for (let message = 0; message < 200 && refusedAfter < 0; message++) {
        const items = Array.from({ length: 1_000 }, (_, i) => ({ ts: base + acked + i, loadT: 1.5 }))
        try {
          // A refused publish closes the connection; mqtt.js would keep the message for a resend.
          await Promise.race([
            client.publishAsync('sites/S1/devices/TC-01/telemetry', JSON.stringify(items), { qos: 1 }),
            closed,
          ])
          acked += items.length
        } catch {
          refusedAfter = message
        }
      }
      client.end(true)
      expect(refusedAfter).toBeGreaterThan(0)
      expect(await metric(t, 'siteward_mqtt_delayed_acks_total')).toBeGreaterThan(0)
      expect(await metric(t, 'siteward_mqtt_refused_total{reason="log_full"}')).toBeGreaterThanOrEqual(1)
      expect(await metric(t, 'siteward_log_fullness_ratio')).toBeGreaterThanOrEqual(1)
      const ready = await fetch(`${t.httpUrl}/readyz`)
      expect(ready.status).toBe(503)
      const body = (await ready.json()) as { checks: { name: string; ok: boolean; detail: string }[] }
      expect(body.checks.find((c) => c.name === 'wal')).toMatchObject({
        ok: false,
        detail: /refusing new publishes/,
      })
      expect(t.lines.some((l) => /write-ahead log is full/.test(String(l.reason)))).toBe(true)
      // The manual route refuses too, with its own code.
      const officer = await t.token('officer', { sites: ['S1'] })
      const manual = await fetch(`${t.httpUrl}/api/sites/S1/readings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${officer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ deviceId: 'TC-01', ts: Date.now(), windMps: 3 }),
      })
      expect(manual.status).toBe(503)
      expect(((await manual.json()) as { error: { code: string } }).error.code).toBe('LOG_FULL')

      const influxd = await startInfluxd({ httpPort: port })
      try {
        const influx = new InfluxV1Client({ url: influxd.url, database, credentials: { kind: 'none' } })
        const count = async () => {
          const [series] = await influx.query('SELECT count(loadT) FROM crane').catch(() => [])
          return Number(series?.values[0]?.[1] ?? 0)
        }
        // Every acknowledged reading arrives exactly once (points are keyed by ts: a duplicate
        // would not add to the count, a loss would be missing from it).
        await waitFor(async () => (await count()) >= acked, 'the backlog in InfluxDB', 90_000)
        expect(await count()).toBe(acked)
        await waitFor(
          async () => (await fetch(`${t.httpUrl}/readyz`)).status === 200,
          'the log trimmed',
          20_000,
        )
        const again = await connectDevice(t.mqttUrl, 'TC-01', secret)
        await again.publishAsync(
          'sites/S1/devices/TC-01/telemetry',
          JSON.stringify({ ts: Date.now(), loadT: 2 }),
          {
            qos: 1,
          },
        )
        await again.endAsync()
      } finally {
        await t.stop()
        await influxd.stop()
      }
    }, 150_000)
  },
)

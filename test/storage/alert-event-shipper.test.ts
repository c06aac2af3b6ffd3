import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest'
import type { Principal } from '../../domain/registry.js'
import type { KeyedSignal, Signal } from '../../domain/rules.js'
import { InfluxTelemetryStore } from '../../storage/influx/influx-telemetry-store.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { AlertTimelinePoints } from '../../storage/sqlite/alert-timeline-points.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { AlertEventShipper, alertEventsConsumer } from '../../storage/telemetry/alert-event-shipper.js'
import { waitFor } from '../helpers/engine.js'
import { memoryLogger } from '../helpers/log-sink.js'

const person = (role: Principal['role']): Principal => ({
  tokenId: role,
  name: role,
  role,
  sites: ['S1'],
  region: null,
})
const keyed = (signal: Signal): KeyedSignal => ({
  siteId: 'S1',
  deviceId: 'TC-01',
  ruleId: 'crane.moment',
  subject: 'momentPct',
  origin: 'rule default',
  retrospective: false,
  signal,
})
const at = Date.UTC(2026, 10, 29, 8, 0, 0)
const counting = { written: () => {}, writeFailed: () => {}, rejected: () => {} }
const skipReason = inject('influxSkipReason')

/** An alert through its whole loop: raised, worse, cleared, acknowledged, resolved, closed. */
async function wholeLoop(alerts: AlertRepository): Promise<string> {
  const raised = await alerts.applySignal(
    keyed({ type: 'raise', severity: 'warning', value: 92, threshold: 90, ts: at }),
    at,
  )
  const id = raised?.alert.id as string
  await alerts.applySignal(
    keyed({ type: 'raise', severity: 'critical', value: 112, threshold: 110, ts: at + 1 }),
    at + 1,
  )
  await alerts.applySignal(keyed({ type: 'clear', value: 60, ts: at + 2 }), at + 2)
  await alerts.transition(id, { action: 'acknowledge', note: null }, person('officer'), undefined, at + 3)
  await alerts.transition(
    id,
    { action: 'resolve', note: null, resolution: 'load reduced' },
    person('officer'),
    undefined,
    at + 4,
  )
  await alerts.transition(id, { action: 'close', note: null }, person('supervisor'), undefined, at + 5)
  return id
}

describe('alert timelines as telemetry points (CONTRACT §3 alert_event)', () => {
  let dir: string
  let db: SqliteDatabase
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'siteward-alert-points-'))
    db = openDatabase(join(dir, 'siteward.db'))
    await new RegistryRepository(db).upsertSite({ id: 'S1', name: 'S1', region: '330106' })
  })
  afterEach(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('gives each event the state, severity and value it left the alert at, however the page is cut', async () => {
    await wholeLoop(new AlertRepository(db))
    const source = new AlertTimelinePoints(db)
    const whole = await source.after(0, 100)
    expect(whole.map((e) => [e.eventType, e.state, e.severity, e.value])).toEqual([
      ['raised', 'open', 'warning', 92],
      ['severity_raised', 'open', 'critical', 112],
      ['cleared', 'open', 'critical', 112],
      ['acknowledged', 'acknowledged', 'critical', 112],
      ['resolved', 'resolved', 'critical', 112],
      ['closed', 'closed', 'critical', 112],
    ])
    // A page that starts in the middle folds the events before it.
    const tail = await source.after((whole[2]?.seq ?? 0) as number, 100)
    expect(tail).toEqual(whole.slice(3))
    expect(await source.lastSeq()).toBe(whole.at(-1)?.seq)
  })

  describe.skipIf(skipReason !== '')(
    `shipped to InfluxDB${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
    () => {
      it('writes them by their own cursor, and a restart ships only what came after it', async () => {
        const database = `alerts_${randomUUID().replace(/-/g, '')}`
        const url = inject('influxUrl')
        const telemetry = new InfluxTelemetryStore(
          { url, database, credentials: { kind: 'none' } },
          memoryLogger().logger,
        )
        await telemetry.start()
        const cursors = new ProjectionRepository(db)
        const shipper = () =>
          new AlertEventShipper({
            source: new AlertTimelinePoints(db),
            cursors,
            store: telemetry,
            deadLetters: cursors,
            metrics: counting,
            logger: memoryLogger().logger,
          })
        const query = async () => {
          const q = encodeURIComponent('SELECT "type", "state", "value", "severity" FROM alert_event')
          const body = (await (await fetch(`${url}/query?db=${database}&q=${q}`)).json()) as {
            results: { series?: { values: unknown[][] }[] }[]
          }
          return body.results[0]?.series?.[0]?.values ?? []
        }

        const first = shipper()
        await first.start() // an empty store: the cursor starts at 0
        const alerts = new AlertRepository(db)
        await wholeLoop(alerts)
        first.wake()
        const rows = await waitFor(async () => {
          const found = await query()
          return found.length === 6 && found
        }, 'six alert_event points')
        expect(rows.map((row) => row.slice(1))).toEqual([
          ['raised', 'open', 92, 'warning'],
          ['severity_raised', 'open', 112, 'critical'],
          ['cleared', 'open', 112, 'critical'],
          ['acknowledged', 'acknowledged', 112, 'critical'],
          ['resolved', 'resolved', 112, 'critical'],
          ['closed', 'closed', 112, 'critical'],
        ])
        await first.stop()
        const shippedTo = await cursors.get(alertEventsConsumer)
        expect(shippedTo).toBe(await new AlertTimelinePoints(db).lastSeq())

        // Stopped; an officer comments meanwhile; the next start ships that one event.
        const id = (await alerts.list({}, 1)).items[0]?.id as string
        await alerts.comment(id, person('supervisor'), 'crane inspected', at + 6)
        const second = shipper()
        await second.start()
        await waitFor(async () => (await query()).length === 7, 'the comment shipped')
        await second.stop()
        expect(await cursors.get(alertEventsConsumer)).toBe(shippedTo + 1)
        await telemetry.stop()
      })

      it('dead-letters an event the telemetry store refuses, with its reason, and ships the rest', async () => {
        const database = `alerts_${randomUUID().replace(/-/g, '')}`
        const url = inject('influxUrl')
        const telemetry = new InfluxTelemetryStore(
          { url, database, credentials: { kind: 'none' } },
          memoryLogger().logger,
        )
        await telemetry.start()
        // Someone else wrote alert_event.state as a number: InfluxDB refuses our string from now on.
        await fetch(`${url}/write?db=${database}&precision=ms`, {
          method: 'POST',
          body: `alert_event,site=S0,device=X,rule=r,severity=warning state=1 ${at - 1}`,
        })
        const cursors = new ProjectionRepository(db)
        const shipper = new AlertEventShipper({
          source: new AlertTimelinePoints(db),
          cursors,
          store: telemetry,
          deadLetters: cursors,
          metrics: counting,
          logger: memoryLogger().logger,
        })
        await shipper.start()
        await wholeLoop(new AlertRepository(db))
        shipper.wake()
        const letters = await waitFor(async () => {
          const found = await cursors.listDeadLetters({ limit: 100 })
          return found.length === 6 && found
        }, 'six dead letters')
        expect(letters[0]).toMatchObject({ stage: 'telemetry', topic: 'alert_event', deviceId: 'TC-01' })
        expect(letters[0]?.reason).toMatch(/field type conflict/)
        await waitFor(
          async () =>
            (await cursors.get(alertEventsConsumer)) === (await new AlertTimelinePoints(db).lastSeq()),
          'cursor past them',
        )
        await shipper.stop()
        await telemetry.stop()
      })
    },
  )
})

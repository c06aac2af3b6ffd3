import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { Alert, AlertChange } from '../../domain/alert.js'
import type { AlertStore } from '../../domain/ports.js'
import type { KeyedSignal } from '../../domain/rules.js'
import { PostgresAlertRepository } from '../../storage/postgres/alert-repository.js'
import { lockTimeline } from '../../storage/postgres/alert-signals.js'
import { inTransaction } from '../../storage/postgres/database.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { freshPostgresSchema, type PostgresSchema } from '../helpers/postgres-schema.js'

const skipReason = inject('postgresSkipReason')
const now = Date.UTC(2026, 11, 4, 4, 0, 0)

const severity = fc.constantFrom('warning', 'alarm', 'critical' as const)
const signal = fc.record({
  device: fc.constantFrom('TC-01', 'TC-02'),
  kind: fc.constantFrom('raise', 'escalate', 'clear'),
  severity,
  value: fc.integer({ min: 80, max: 130 }),
  ts: fc.integer({ min: 0, max: 50 }),
  outOfOrder: fc.boolean(),
  retrospective: fc.boolean(),
})

const keyedOf = (
  siteId: string,
  s: typeof signal extends fc.Arbitrary<infer T> ? T : never,
): KeyedSignal => ({
  siteId,
  deviceId: s.device,
  ruleId: 'crane.moment',
  subject: 'momentPct',
  origin: 'rule default',
  retrospective: s.retrospective,
  outOfOrder: s.outOfOrder,
  signal:
    s.kind === 'clear'
      ? { type: 'clear', value: 60, ts: now + s.ts }
      : { type: s.kind, severity: s.severity, value: s.value, threshold: 100, ts: now + s.ts },
})

/** An alert and its timeline without what differs between two stores by design (ids, seqs). */
const comparable = (alert: Alert, events: Awaited<ReturnType<AlertStore['events']>>) => {
  const { id: _id, ...rest } = alert
  return { ...rest, events: events.map((e) => [e.type, e.actor, e.data]) }
}
const changeShape = (changes: readonly AlertChange[]) =>
  changes.map((change) => [change.alert.deviceId, change.alert.version, change.events.map((e) => e.type)])

describe.skipIf(skipReason !== '')(
  `PostgreSQL applies a batch's signals in one round trip as SQLite applies them one by one${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let schema: PostgresSchema
    let dir: string
    let db: SqliteDatabase
    beforeAll(async () => {
      schema = await freshPostgresSchema(inject('postgresUrl'))
      dir = mkdtempSync(join(tmpdir(), 'siteward-batch-'))
      db = openDatabase(join(dir, 'siteward.db'))
    })
    afterAll(async () => {
      await schema?.drop()
      db?.close()
      rmSync(dir, { recursive: true, force: true })
    })

    it('leaves the same alerts, the same timelines and the same changes for any run of signals', async () => {
      const sqlite = new AlertRepository(db)
      const postgres = new PostgresAlertRepository(schema.pool)
      let run = 0
      await fc.assert(
        fc.asyncProperty(fc.array(signal, { minLength: 1, maxLength: 25 }), async (signals) => {
          const siteId = `S${++run}` // each run on a site of its own: timelines cannot be deleted
          const keyed = signals.map((s) => keyedOf(siteId, s))
          const oneByOne: AlertChange[] = []
          for (const k of keyed) {
            const change = await sqlite.applySignal(k, now)
            if (change !== null) oneByOne.push(change)
          }
          const batched = await inTransaction(schema.pool, async (client) => {
            await lockTimeline(client)
            return postgres.applySignalsWithin(client, keyed, now)
          })
          expect(changeShape(batched)).toEqual(changeShape(oneByOne))
          const stored = async (store: AlertStore) => {
            const { items } = await store.list({ siteId }, 100)
            const all = await Promise.all(items.map(async (a) => comparable(a, await store.events(a.id))))
            return all.sort(
              (a, b) => a.deviceId.localeCompare(b.deviceId) || a.raisedAt.localeCompare(b.raisedAt),
            )
          }
          expect(await stored(postgres)).toEqual(await stored(sqlite))
          for (const change of batched) {
            expect((await postgres.verify(change.alert.id)).valid).toBe(true)
            // What the batch returned is what was stored, event by event.
            const events = await postgres.events(change.alert.id)
            for (const event of change.events) expect(events).toContainEqual(event)
          }
        }),
        { numRuns: 60 },
      )
    })
  },
)

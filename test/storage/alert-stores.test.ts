import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { PostgresAlertRepository } from '../../storage/postgres/alert-repository.js'
import { PostgresAlertTimelinePoints } from '../../storage/postgres/alert-timeline-points.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { AlertTimelinePoints } from '../../storage/sqlite/alert-timeline-points.js'
import { openDatabase } from '../../storage/sqlite/database.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { freshPostgresSchema } from '../helpers/postgres-schema.js'
import { describeAlertStoreContract } from './alert-store.contract.js'

const duplicate = `INSERT INTO alerts (id, site_id, device_id, rule_id, subject, severity, state, condition,
  threshold_origin, count, first_at, last_at, retrospective, version, raised_at)
  VALUES ('X', 'S1', 'TC-01', 'crane.moment', 'momentPct', 'alarm', 'open', 'active', 'x', 1, 1, 1, `

describeAlertStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siteward-alerts-'))
  const db = openDatabase(join(dir, 'siteward.db'))
  await new RegistryRepository(db).upsertSite({ id: 'S1', name: 'S1', region: '330106' })
  return {
    alerts: new AlertRepository(db),
    timeline: new AlertTimelinePoints(db),
    insertSecondNotClosed: async () => {
      db.prepare(`${duplicate} 0, 1, 1)`).run()
    },
    updateEvents: async (id) => {
      db.prepare("UPDATE alert_events SET data = '{}' WHERE alert_id = ?").run(id)
    },
    deleteEvents: async (id) => {
      db.prepare('DELETE FROM alert_events WHERE alert_id = ?').run(id)
    },
    tamper: async (seq, data) => {
      db.exec('DROP TRIGGER alert_events_append_only_update')
      db.prepare('UPDATE alert_events SET data = ? WHERE seq = ?').run(data, seq)
    },
    close: async () => {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

describeAlertStoreContract(
  'PostgreSQL',
  async () => {
    const schema = await freshPostgresSchema(inject('postgresUrl'))
    const { pool } = schema
    await pool.query(
      "INSERT INTO sites (id, name, region, created_at, updated_at) VALUES ('S1', 'S1', '330106', '', '')",
    )
    return {
      alerts: new PostgresAlertRepository(pool),
      timeline: new PostgresAlertTimelinePoints(pool),
      insertSecondNotClosed: async () => {
        await pool.query(`${duplicate} false, 1, 1)`)
      },
      updateEvents: async (id) => {
        await pool.query("UPDATE alert_events SET data = '{}' WHERE alert_id = $1", [id])
      },
      deleteEvents: async (id) => {
        await pool.query('DELETE FROM alert_events WHERE alert_id = $1', [id])
      },
      tamper: async (seq, data) => {
        await pool.query('ALTER TABLE alert_events DISABLE TRIGGER alert_events_append_only')
        await pool.query('UPDATE alert_events SET data = $1 WHERE seq = $2', [data, seq])
      },
      close: () => schema.drop(),
    }
  },
  inject('postgresSkipReason'),
)

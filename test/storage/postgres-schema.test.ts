import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { migratePostgres } from '../../storage/postgres/database.js'
import { postgresMigrations } from '../../storage/postgres/migrations.js'

const skipReason = inject('postgresSkipReason')

/** What PostgreSQL said, as `code: message`, or 'ok'. */
async function outcome(run: Promise<unknown>): Promise<string> {
  try {
    await run
    return 'ok'
  } catch (error) {
    return `${(error as { code?: string }).code}: ${(error as Error).message}`
  }
}

const alertRow = (id: string, state: string) => [id, 'S1', 'TC-01', 'crane.moment', '', 'alarm', state]
const insertAlert = `INSERT INTO alerts (id, site_id, device_id, rule_id, subject, severity, state, condition,
  threshold_origin, count, first_at, last_at, retrospective, version, raised_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', 'standard', 1, 0, 0, false, 1, 0)`

describe.skipIf(skipReason !== '')(
  `the PostgreSQL store's own invariants (issue 15)${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    // A schema of its own per run of this file, in the cluster the suites share.
    const schema = `t_${randomBytes(4).toString('hex')}`
    const pools: pg.Pool[] = []
    const open = () => {
      const pool = new pg.Pool({
        connectionString: inject('postgresUrl'),
        options: `-c search_path=${schema}`,
        max: 4,
      })
      pools.push(pool)
      return pool
    }
    let db: pg.Pool

    beforeAll(async () => {
      db = open()
      await db.query(`CREATE SCHEMA ${schema}`)
    })
    afterAll(async () => {
      await db.query(`DROP SCHEMA ${schema} CASCADE`)
      await Promise.all(pools.map((pool) => pool.end()))
    })

    it('migrates once when several nodes start together, and again finds nothing to do', async () => {
      const nodes = [open(), open(), open()]
      const versions = await Promise.all(nodes.map((pool) => migratePostgres(pool)))
      const latest = postgresMigrations.at(-1)?.version
      expect(versions).toEqual([latest, latest, latest])
      const applied = await db.query('SELECT version FROM schema_migrations ORDER BY version')
      expect(applied.rows.map((row) => row.version)).toEqual(postgresMigrations.map((m) => m.version))
      expect(await migratePostgres(db)).toBe(latest)
    })

    it('holds one alert that is not closed per key, whatever the code that writes', async () => {
      expect(await outcome(db.query(insertAlert, alertRow('A1', 'open')))).toBe('ok')
      expect(await outcome(db.query(insertAlert, alertRow('A2', 'acknowledged')))).toMatch(
        /^23505: .*alerts_one_not_closed/,
      )
      await db.query("UPDATE alerts SET state = 'closed' WHERE id = 'A1'")
      expect(await outcome(db.query(insertAlert, alertRow('A2', 'open')))).toBe('ok')
    })

    it('refuses to change, delete or truncate a timeline event', async () => {
      await db.query(
        `INSERT INTO alert_events (alert_id, type, actor, at, data, prev_hash, hash)
         VALUES ('A2', 'raised', 'engine', 0, '{}', '', 'h1')`,
      )
      const refused = /^23001: alert events are append-only$/
      expect(await outcome(db.query("UPDATE alert_events SET actor = 'someone'"))).toMatch(refused)
      expect(await outcome(db.query('DELETE FROM alert_events'))).toMatch(refused)
      expect(await outcome(db.query('TRUNCATE alert_events'))).toMatch(refused)
      expect((await db.query('SELECT count(*)::int AS n FROM alert_events')).rows[0].n).toBe(1)
    })
  },
)

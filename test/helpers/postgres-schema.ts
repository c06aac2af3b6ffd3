import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import { migratePostgres, openPostgres } from '../../storage/postgres/database.js'

export interface PostgresSchema {
  /** The suite's URL: the shared test cluster, with this schema first on the search path. */
  readonly url: string
  readonly pool: pg.Pool
  drop(): Promise<void>
}

/**
 * A schema of its own in the test cluster the suites share, migrated: what a fresh PostgreSQL
 * store looks like, without a cluster per test.
 */
export async function freshPostgresSchema(clusterUrl: string): Promise<PostgresSchema> {
  const name = `t_${randomBytes(6).toString('hex')}`
  const admin = openPostgres(clusterUrl, { max: 1 })
  await admin.query(`CREATE SCHEMA ${name}`)
  const url = withSearchPath(clusterUrl, name)
  const pool = openPostgres(url, { max: 8 })
  await migratePostgres(pool)
  return {
    url,
    pool,
    drop: async () => {
      await pool.end()
      await admin.query(`DROP SCHEMA ${name} CASCADE`)
      await admin.end()
    },
  }
}

function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set('options', `-c search_path=${schema}`)
  return parsed.toString()
}

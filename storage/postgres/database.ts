import type pg from 'pg'
import type { Migration } from '../sqlite/migrations.js'
import { postgresMigrations } from './migrations.js'

/** The key of the transaction-scoped lock that lets one migrator at a time in (any 64-bit number). */
const migrationLockKey = 0x5173_7761_7264 // "Sqward"

/**
 * Brings a PostgreSQL store's schema up to date and returns its version. Several nodes may
 * start at once: each migration runs in its own transaction after taking a transaction-scoped
 * advisory lock, and reads the applied versions again under it, so each is applied exactly once
 * and a failed one leaves nothing behind. (The lock only orders migrators; it fences nothing.)
 */
export async function migratePostgres(
  pool: pg.Pool,
  migrations: readonly Migration[] = postgresMigrations,
): Promise<number> {
  for (const migration of migrations) {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock($1)', [migrationLockKey])
      // Under the lock: two nodes creating it at once would collide in the catalogue.
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`)
      const applied = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [
        migration.version,
      ])
      if (applied.rowCount === 0) {
        await client.query(migration.sql)
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ])
      }
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw new Error(
        `PostgreSQL migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`,
      )
    } finally {
      client.release()
    }
  }
  if (migrations.length === 0) return 0
  const version = await pool.query<{ version: number | null }>(
    'SELECT max(version) AS version FROM schema_migrations',
  )
  return version.rows[0]?.version ?? 0
}

import pg from 'pg'
import type { Migration } from '../sqlite/migrations.js'
import { postgresMigrations } from './migrations.js'

/**
 * A connection pool whose numbers come back as numbers: BIGINT (epoch milliseconds, counts) and
 * NUMERIC (percentiles) stay well inside 2^53, and the repositories share their row mappings
 * with SQLite's.
 */
export function openPostgres(url: string, options: { readonly max?: number } = {}): pg.Pool {
  const parsers: Record<number, (text: string) => unknown> = {
    [pg.types.builtins.INT8]: Number,
    [pg.types.builtins.NUMERIC]: Number,
  }
  return new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        parsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  })
}

/**
 * Runs `work` in one transaction on a connection of its own: committed when it resolves, rolled
 * back when it throws.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  let result: T
  try {
    await client.query('BEGIN')
    result = await work(client)
    await client.query('COMMIT')
  } catch (error) {
    // A connection that cannot even roll back (the server restarted) is dropped, not pooled.
    const broken = await client.query('ROLLBACK').then(
      () => false,
      () => true,
    )
    client.release(broken)
    throw error
  }
  client.release()
  return result
}

/** SQL written with `?` placeholders (shared with SQLite) numbered for PostgreSQL: `$1, $2…`. */
export function numbered(sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}

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

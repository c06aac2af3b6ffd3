import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { type Migration, migrations as registryMigrations } from './migrations.js'

export type SqliteDatabase = Database.Database

/**
 * Opens the embedded store and brings its schema up to date. WAL journaling lets the CLI write
 * (site add, device add, token create) while `serve` runs; busy_timeout makes either side wait
 * for the other instead of failing. synchronous=NORMAL is safe here: a process crash loses no
 * committed transaction, and what a power loss could cost is re-derived from the write-ahead log,
 * whose cursors commit in the same transactions.
 */
export function openDatabase(
  path: string,
  migrations: readonly Migration[] = registryMigrations,
): SqliteDatabase {
  mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  migrate(db, migrations)
  return db
}

/**
 * Each migration reads the version again inside its own write transaction: several roles
 * (threads or processes) may open the same file at once, and only the first to take the lock
 * migrates. A current store takes no write lock at all.
 */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[]): number {
  const current = db.pragma('user_version', { simple: true }) as number
  for (const migration of migrations) {
    if (migration.version <= current) continue
    db.transaction(() => {
      if ((db.pragma('user_version', { simple: true }) as number) >= migration.version) return
      db.exec(migration.sql)
      db.pragma(`user_version = ${migration.version}`)
    }).immediate()
  }
  return db.pragma('user_version', { simple: true }) as number
}

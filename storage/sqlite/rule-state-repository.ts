import type { SqliteDatabase } from './database.js'

/**
 * Saved threshold state per alert key (migration v5), written with each projected batch. The
 * state is the rule engine's plain data; this store only keeps it as JSON.
 */
export class RuleStateRepository {
  private readonly db: SqliteDatabase
  private readonly statements

  constructor(db: SqliteDatabase) {
    this.db = db
    this.statements = {
      upsert: db.prepare(
        'INSERT INTO rule_states (key, state) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET state = excluded.state',
      ),
      remove: db.prepare('DELETE FROM rule_states WHERE key = ?'),
    }
  }

  loadAll(): [string, unknown][] {
    const rows = this.db.prepare('SELECT key, state FROM rule_states').all() as {
      key: string
      state: string
    }[]
    return rows.map((row) => [row.key, JSON.parse(row.state) as unknown])
  }

  /** Call inside the batch's transaction. */
  save(changes: ReadonlyMap<string, object | null>): void {
    for (const [key, state] of changes) {
      if (state === null) this.statements.remove.run(key)
      else this.statements.upsert.run(key, JSON.stringify(state))
    }
  }
}

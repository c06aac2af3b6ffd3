import type { SqliteDatabase } from './database.js'

/** What a role polls to learn that another connection changed something it caches. */
export type ChangeCounter = 'settings' | 'credentials'

/**
 * Counters that triggers move on every change to thresholds or device credentials (migration
 * 9). A role on its own connection compares one integer instead of reloading on every commit.
 */
export class ChangeCounters {
  private readonly read

  constructor(db: SqliteDatabase) {
    this.read = db.prepare<[string], { value: number }>('SELECT value FROM change_counters WHERE name = ?')
  }

  value(counter: ChangeCounter): number {
    return this.read.get(counter)?.value ?? 0
  }
}

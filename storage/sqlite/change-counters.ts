import type { ChangeCounter, ChangeCounters as ChangeCounterStore } from '../../domain/ports.js'
import type { SqliteDatabase } from './database.js'

/**
 * Counters that triggers move on every change to thresholds or device credentials (migration
 * 9). A role on its own connection compares one integer instead of reloading on every commit.
 */
export class ChangeCounters implements ChangeCounterStore {
  private readonly read

  constructor(db: SqliteDatabase) {
    this.read = db.prepare<[string], { value: number }>('SELECT value FROM change_counters WHERE name = ?')
  }

  async value(counter: ChangeCounter): Promise<number> {
    return this.valueNow(counter)
  }

  /** For SQLite's own synchronous readers (the settings repository). */
  valueNow(counter: ChangeCounter): number {
    return this.read.get(counter)?.value ?? 0
  }
}

import type { ThresholdState } from './threshold.js'

/** A key's state as stored: the out-of-order lane also remembers where its run is in event time. */
export type StoredRuleState = ThresholdState & { readonly lastTs?: number }

/**
 * Threshold state per alert key, with the changes of the batch in progress kept apart from what
 * is committed. The engine saves `pending()` in the same transaction as the projector's cursor
 * and the alerts, then calls `commit()`; a failed batch calls `rollback()` and is evaluated again.
 * A key back at its initial state is stored as `null` (deleted): there is nothing to remember.
 */
export class RuleStates {
  private readonly committed: Map<string, StoredRuleState>
  private readonly changes = new Map<string, StoredRuleState | null>()

  constructor(initial: Iterable<readonly [string, StoredRuleState]> = []) {
    this.committed = new Map(initial)
  }

  get(key: string): StoredRuleState | undefined {
    const changed = this.changes.get(key)
    if (changed !== undefined) return changed ?? undefined
    return this.committed.get(key)
  }

  set(key: string, state: StoredRuleState | null): void {
    this.changes.set(key, state)
  }

  /** What changed since the last commit: null means "back to initial". */
  pending(): ReadonlyMap<string, StoredRuleState | null> {
    return this.changes
  }

  commit(): void {
    for (const [key, state] of this.changes) {
      if (state === null) this.committed.delete(key)
      else this.committed.set(key, state)
    }
    this.changes.clear()
  }

  rollback(): void {
    this.changes.clear()
  }

  /** The committed states (what a restart starts from). */
  entries(): IterableIterator<[string, StoredRuleState]> {
    return this.committed.entries()
  }
}

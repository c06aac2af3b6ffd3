import type { AlertChange } from '../../domain/alert.js'
import type { BatchOutcome, BatchStore } from '../../domain/ports.js'
import type { AlertRepository } from './alert-repository.js'
import type { SqliteDatabase } from './database.js'
import type { ProjectionRepository } from './projection-repository.js'
import type { RuleStateRepository } from './rule-state-repository.js'

/**
 * The worker's batch in one SQLite transaction, each signal applied in turn. Immediate: the write lock is taken at BEGIN,
 * never by upgrading a read (the edge, the shipper and the API write to the same file).
 */
export class SqliteBatchStore implements BatchStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly parts: {
      readonly projection: ProjectionRepository
      readonly alerts: AlertRepository
      readonly ruleStates: RuleStateRepository
    },
  ) {}

  async commitBatch(batch: Parameters<BatchStore['commitBatch']>[0]): Promise<BatchOutcome> {
    const { projection, alerts, ruleStates } = this.parts
    return this.db
      .transaction(() => {
        projection.commitWithin(batch.projection)
        const changes: AlertChange[] = []
        const failed: BatchOutcome['failed'][number][] = []
        for (const signal of batch.signals) {
          // A statement that fails in SQLite undoes only itself: the batch's other alerts stand.
          try {
            const change = alerts.applySignalWithin(signal, batch.now)
            if (change !== null) changes.push(change)
          } catch (error) {
            failed.push({ signal, error })
          }
        }
        ruleStates.save(batch.ruleStates)
        return { changes, failed }
      })
      .immediate()
  }
}

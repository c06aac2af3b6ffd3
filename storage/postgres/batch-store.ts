import type pg from 'pg'
import type { BatchOutcome, BatchStore } from '../../domain/ports.js'
import type { PostgresAlertRepository } from './alert-repository.js'
import { lockTimeline } from './alert-signals.js'
import { inTransaction } from './database.js'
import { writeProjection } from './projection-repository.js'

/**
 * The worker's batch in one PostgreSQL transaction: the batch's signals are folded in memory over
 * the alerts they touch (locked and read in one query) and written in one statement, then the
 * projection, the cursors and the rule state in another. The timeline lock is taken only by a
 * batch that has signals: most have none, and those never wait for a person's action.
 *
 * PostgreSQL aborts the whole transaction on any error, so a signal cannot fail alone: the batch
 * fails and the projector writes it again later (`failed` stays empty).
 */
export class PostgresBatchStore implements BatchStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly alerts: PostgresAlertRepository,
  ) {}

  async commitBatch(batch: Parameters<BatchStore['commitBatch']>[0]): Promise<BatchOutcome> {
    const changes = await inTransaction(this.pool, async (client) => {
      if (batch.signals.length > 0) await lockTimeline(client)
      const changes = await this.alerts.applySignalsWithin(client, batch.signals, batch.now)
      await writeProjection(client, batch.projection, batch.ruleStates)
      return changes
    })
    return { changes, failed: [] }
  }
}

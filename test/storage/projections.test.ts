import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { PostgresAlertRepository } from '../../storage/postgres/alert-repository.js'
import { PostgresBatchStore } from '../../storage/postgres/batch-store.js'
import { PostgresProjectionRepository } from '../../storage/postgres/projection-repository.js'
import { PostgresRegistryRepository } from '../../storage/postgres/registry-repository.js'
import { PostgresRuleStateRepository } from '../../storage/postgres/rule-state-repository.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { SqliteBatchStore } from '../../storage/sqlite/batch-store.js'
import { openDatabase } from '../../storage/sqlite/database.js'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { RuleStateRepository } from '../../storage/sqlite/rule-state-repository.js'
import { freshPostgresSchema } from '../helpers/postgres-schema.js'
import { describeProjectionContract } from './projection.contract.js'

describeProjectionContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siteward-projection-'))
  const db = openDatabase(join(dir, 'siteward.db'))
  const projection = new ProjectionRepository(db)
  const alerts = new AlertRepository(db)
  const ruleStates = new RuleStateRepository(db)
  return {
    projection,
    alerts,
    registry: new RegistryRepository(db),
    batches: new SqliteBatchStore(db, { projection, alerts, ruleStates }),
    ruleStates: { loadAll: async () => ruleStates.loadAll() },
    close: async () => {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

describeProjectionContract(
  'PostgreSQL',
  async () => {
    const schema = await freshPostgresSchema(inject('postgresUrl'))
    const alerts = new PostgresAlertRepository(schema.pool)
    return {
      projection: new PostgresProjectionRepository(schema.pool),
      alerts,
      registry: new PostgresRegistryRepository(schema.pool),
      batches: new PostgresBatchStore(schema.pool, alerts),
      ruleStates: new PostgresRuleStateRepository(schema.pool),
      close: () => schema.drop(),
    }
  },
  inject('postgresSkipReason'),
)

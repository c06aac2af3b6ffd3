import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { PostgresChangeCounters, PostgresManualInbox } from '../../storage/postgres/manual-inbox.js'
import { PostgresRegistryRepository } from '../../storage/postgres/registry-repository.js'
import { ChangeCounters } from '../../storage/sqlite/change-counters.js'
import { openDatabase } from '../../storage/sqlite/database.js'
import { ManualInbox } from '../../storage/sqlite/manual-inbox.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { freshPostgresSchema } from '../helpers/postgres-schema.js'
import { describeInboxContract } from './inbox.contract.js'

describeInboxContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siteward-inbox-'))
  const db = openDatabase(join(dir, 'siteward.db'))
  return {
    inbox: new ManualInbox(db),
    counters: new ChangeCounters(db),
    registry: new RegistryRepository(db),
    close: async () => {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

describeInboxContract(
  'PostgreSQL',
  async () => {
    const schema = await freshPostgresSchema(inject('postgresUrl'))
    return {
      inbox: new PostgresManualInbox(schema.pool),
      counters: new PostgresChangeCounters(schema.pool),
      registry: new PostgresRegistryRepository(schema.pool),
      close: () => schema.drop(),
    }
  },
  inject('postgresSkipReason'),
)

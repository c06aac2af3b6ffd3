import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { PostgresRegistryRepository } from '../../storage/postgres/registry-repository.js'
import { PostgresSettingsRepository } from '../../storage/postgres/settings-repository.js'
import { openDatabase } from '../../storage/sqlite/database.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { SettingsRepository } from '../../storage/sqlite/settings-repository.js'
import { freshPostgresSchema } from '../helpers/postgres-schema.js'
import { describeSettingsContract } from './settings.contract.js'

describeSettingsContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siteward-settings-'))
  const db = openDatabase(join(dir, 'siteward.db'))
  // The version is read on a connection of its own, as another role would.
  const other = openDatabase(join(dir, 'siteward.db'))
  const settings = new SettingsRepository(db)
  const reader = new SettingsRepository(other)
  return {
    settings: Object.assign(Object.create(settings) as SettingsRepository, {
      dataVersion: () => reader.dataVersion(),
    }),
    registry: new RegistryRepository(db),
    close: async () => {
      other.close()
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

describeSettingsContract(
  'PostgreSQL',
  async () => {
    const schema = await freshPostgresSchema(inject('postgresUrl'))
    return {
      settings: new PostgresSettingsRepository(schema.pool),
      registry: new PostgresRegistryRepository(schema.pool),
      close: () => schema.drop(),
    }
  },
  inject('postgresSkipReason'),
)

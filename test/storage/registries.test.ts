import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { PostgresRegistryRepository } from '../../storage/postgres/registry-repository.js'
import { openDatabase } from '../../storage/sqlite/database.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { freshPostgresSchema } from '../helpers/postgres-schema.js'
import { describeRegistryContract } from './registry.contract.js'

const heard = 'INSERT INTO device_state (device_id, online, last_seen_at) VALUES '

describeRegistryContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siteward-registry-'))
  const db = openDatabase(join(dir, 'siteward.db'))
  return {
    registry: new RegistryRepository(db),
    markHeard: async (deviceId, online, lastSeenAt) => {
      db.prepare(`${heard} (?, ?, ?)`).run(deviceId, Number(online), lastSeenAt)
    },
    close: async () => {
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

describeRegistryContract(
  'PostgreSQL',
  async () => {
    const schema = await freshPostgresSchema(inject('postgresUrl'))
    return {
      registry: new PostgresRegistryRepository(schema.pool),
      markHeard: async (deviceId, online, lastSeenAt) => {
        await schema.pool.query(`${heard} ($1, $2, $3)`, [deviceId, online, lastSeenAt])
      },
      close: () => schema.drop(),
    }
  },
  inject('postgresSkipReason'),
)

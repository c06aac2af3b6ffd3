import { randomUUID } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { InfluxTelemetryStore } from '../../storage/influx/influx-telemetry-store.js'
import { EmbeddedTelemetryStore } from '../../storage/telemetry/embedded-telemetry-store.js'
import { memoryLogger } from '../helpers/log-sink.js'
import { describeTelemetryStoreContract } from './telemetry-store.contract.js'

describeTelemetryStoreContract('embedded SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'siteward-telemetry-'))
  // Retention long enough to keep the fixed 2026 test timestamps.
  return new EmbeddedTelemetryStore({
    path: join(dir, 'telemetry.db'),
    retentionDays: 3650,
    logger: memoryLogger().logger,
  })
})

describeTelemetryStoreContract(
  'InfluxDB (v1 HTTP API)',
  async () =>
    new InfluxTelemetryStore(
      {
        url: inject('influxUrl'),
        database: `contract_${randomUUID().replace(/-/g, '')}`,
        credentials: { kind: 'none' },
      },
      memoryLogger().logger,
    ),
  inject('influxSkipReason'),
)

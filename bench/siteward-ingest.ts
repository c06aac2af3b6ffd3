// Siteward's ingest path alone, for the benchmark: the same Broker as `siteward serve` (device
// login against the registry, ACL, payload validation, duplicate check, PUBACK after the
// write-ahead log's fsync) with nothing reading the log: no projector, rules, alerts or InfluxDB.
// Usage: node --import tsx bench/siteward-ingest.ts DATA_DIR (devices provisioned there first).
import { join } from 'node:path'
import { createLogger } from '../app/logger.js'
import { Broker, type IngestMetrics } from '../ingest/broker.js'
import { DeviceAuthenticator } from '../ingest/device-auth.js'
import { IngestState } from '../ingest/ingest-state.js'
import { SegmentLog } from '../storage/log/segment-log.js'
import { openDatabase } from '../storage/sqlite/database.js'
import { RegistryRepository } from '../storage/sqlite/registry-repository.js'

const dataDir = process.argv[2]
if (dataDir === undefined) throw new Error('usage: siteward-ingest.ts DATA_DIR')
const logger = createLogger('warn')
const registry = new RegistryRepository(openDatabase(join(dataDir, 'siteward.db')))
const log = new SegmentLog({ dir: join(dataDir, 'wal'), segmentBytes: 64 * 1024 * 1024, lingerMs: 2, logger })
log.start()
const uncounted: IngestMetrics = {
  accepted: () => {},
  rejected: () => {},
  duplicates: () => {},
  refused: () => {},
  delayed: () => {},
}
const broker = new Broker({
  host: '127.0.0.1',
  port: 0,
  connectTimeoutMs: 60_000,
  maxUnauthenticated: 1_000,
  // Every bench client connects from loopback: one address, so no per-address cap.
  maxUnauthenticatedPerAddress: 1_000,
  authenticator: new DeviceAuthenticator((id) => registry.getCredentials(id)),
  state: new IngestState({ deliveries: new Map(), pitPoints: [] }),
  log,
  metrics: uncounted,
  logger,
})
await broker.start()
process.stdout.write(`${JSON.stringify({ port: broker.port })}\n`)
process.on('SIGTERM', async () => {
  await broker.stop()
  await log.stop()
  process.exit(0)
})

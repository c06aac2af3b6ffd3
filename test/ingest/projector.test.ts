import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { MessageRecord } from '../../domain/log-record.js'
import type { ProjectionStore } from '../../domain/ports.js'
import type { Reading } from '../../domain/reading.js'
import { IngestState } from '../../ingest/ingest-state.js'
import { Projector } from '../../ingest/projector.js'
import { SegmentLog } from '../../storage/log/segment-log.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { waitFor } from '../helpers/engine.js'
import { memoryLogger } from '../helpers/log-sink.js'

const message = (loadT: number): MessageRecord => ({
  type: 'message',
  receivedAt: Date.now(),
  siteId: 'S1',
  deviceId: 'TC-01',
  topic: 'sites/S1/devices/TC-01/telemetry',
  source: 'mqtt',
  kind: 'crane',
  channel: 'telemetry',
  items: [{ ts: Date.now(), loadT }],
  rejects: [],
  duplicates: 0,
})

describe('Projector', () => {
  let dir: string
  let db: SqliteDatabase
  let log: SegmentLog

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'siteward-projector-'))
    db = openDatabase(join(dir, 'siteward.db'))
    const registry = new RegistryRepository(db)
    await registry.upsertSite({ id: 'S1', name: 'S1', region: '330106' })
    await registry.createDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' }, 'x')
    log = new SegmentLog({
      dir: join(dir, 'wal'),
      segmentBytes: 1024 * 1024,
      lingerMs: 0,
      logger: memoryLogger().logger,
    })
    log.start()
  })
  afterEach(async () => {
    await log.stop()
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('survives a store that fails (disk full), retries, and then projects every record exactly once', async () => {
    const repository = new ProjectionRepository(db)
    let failures = 2
    const flaky: ProjectionStore = {
      loadDeliveries: () => repository.loadDeliveries(),
      loadPitPoints: () => repository.loadPitPoints(),
      commit: async (batch) => {
        if (failures > 0) {
          failures -= 1
          throw new Error('SQLITE_FULL: database or disk is full')
        }
        await repository.commit(batch)
      },
    }
    const { logger, lines } = memoryLogger()
    const projector = new Projector({
      log,
      cursors: repository,
      store: flaky,
      state: new IngestState({ deliveries: new Map(), pitPoints: [] }),
      logger,
    })
    const readings: Reading[] = []
    projector.readings$.subscribe((reading) => readings.push(reading))
    for (let i = 0; i < 5; i++) await log.append(message(i))
    await projector.start()
    await waitFor(() => readings.length >= 5, 'all readings after the store recovered')
    expect(readings.map((r) => r.kind === 'crane' && r.channel === 'telemetry' && r.data.loadT)).toEqual([
      0, 1, 2, 3, 4,
    ])
    expect(lines.filter((line) => line.msg === 'projecting the log failed; will retry')).toHaveLength(2)
    expect((await new RegistryRepository(db).getDevice('TC-01'))?.acceptedCount).toBe(5)
    expect(await repository.get('projector')).toBe(log.endPosition)
    await projector.stop()
  })

  it('resumes after a restart at its cursor: nothing counted twice', async () => {
    const repository = new ProjectionRepository(db)
    const state = () => new IngestState({ deliveries: new Map(), pitPoints: [] })
    const first = new Projector({
      log,
      cursors: repository,
      store: repository,
      state: state(),
      logger: memoryLogger().logger,
    })
    for (let i = 0; i < 3; i++) await log.append(message(i))
    await first.start()
    await waitFor(async () => (await repository.get('projector')) === log.endPosition, 'first projection')
    await first.stop()
    for (let i = 3; i < 5; i++) await log.append(message(i))
    const second = new Projector({
      log,
      cursors: repository,
      store: repository,
      state: state(),
      logger: memoryLogger().logger,
    })
    const readings: Reading[] = []
    second.readings$.subscribe((reading) => readings.push(reading))
    await second.start()
    await waitFor(() => readings.length >= 2, 'the tail after the restart')
    expect(readings.map((r) => r.kind === 'crane' && r.channel === 'telemetry' && r.data.loadT)).toEqual([
      3, 4,
    ])
    expect((await new RegistryRepository(db).getDevice('TC-01'))?.acceptedCount).toBe(5)
    await second.stop()
    // An engine whose start failed before its projector started stops it: nothing is counted again.
    await new Projector({
      log,
      cursors: repository,
      store: repository,
      state: state(),
      logger: memoryLogger().logger,
    }).stop()
    expect((await new RegistryRepository(db).getDevice('TC-01'))?.acceptedCount).toBe(5)
  })
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fileManualReadings, ManualInboxDesk } from '../../app/manual-inbox.js'
import { admitManualReadings, type FiledReadings } from '../../app/manual-readings.js'
import { Doorbell } from '../../app/roles/doorbell.js'
import type { MessageRecord } from '../../domain/log-record.js'
import { Provisioning } from '../../domain/provisioning.js'
import type { Principal } from '../../domain/registry.js'
import { IngestState } from '../../ingest/ingest-state.js'
import { SegmentLog } from '../../storage/log/segment-log.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { ManualInbox } from '../../storage/sqlite/manual-inbox.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { memoryLogger } from '../helpers/log-sink.js'

const officer: Principal = {
  name: 'officer-li',
  role: 'officer',
  sites: ['S1'],
  region: null,
} as unknown as Principal

describe('manual readings between the API and the edge (the store inbox, issue 14)', () => {
  let dir: string
  let db: SqliteDatabase
  let registry: RegistryRepository
  let inbox: ManualInbox
  let log: SegmentLog
  const bells: Doorbell[] = []
  const bell = (topic: 'inbox' | 'inbox-answered') => {
    const doorbell = new Doorbell(dir, topic)
    bells.push(doorbell)
    return doorbell
  }
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'siteward-inbox-'))
    db = openDatabase(join(dir, 'siteward.db'))
    registry = new RegistryRepository(db)
    const provisioning = new Provisioning(registry)
    await provisioning.addSite({ id: 'S1', name: 'S1', region: '330106' })
    await provisioning.addDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' })
    inbox = new ManualInbox(db)
    log = new SegmentLog({
      dir: join(dir, 'wal'),
      segmentBytes: 1 << 20,
      lingerMs: 0,
      logger: memoryLogger().logger,
    })
    log.start()
  })
  afterEach(async () => {
    for (const doorbell of bells.splice(0)) doorbell.close()
    await log.stop()
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const logged = () => {
    const records: MessageRecord[] = []
    for (const { record } of log.readFrom(0, 1_000).records)
      if (record.type === 'message') records.push(record)
    return records
  }

  const desk = () =>
    new ManualInboxDesk({
      inbox,
      log,
      admit: (submission, already) =>
        admitManualReadings(
          { registry, state: new IngestState({ deliveries: new Map(), pitPoints: [] }), log },
          { ...submission, body: submission.body as FiledReadings },
          already,
        ),
      filed: bell('inbox'),
      answered: bell('inbox-answered'),
      logger: memoryLogger().logger,
    })

  it('finishes a submission an edge claimed before it crashed, logging none of it twice', async () => {
    const now = Date.now()
    const body: FiledReadings = {
      objects: [
        { deviceId: 'TC-01', ts: now - 2_000, windMps: 3 },
        { deviceId: 'TC-01', ts: now - 1_000, windMps: 4 },
      ],
      refused: [],
    }
    const id = await inbox.file('S1', officer.name, body, now)
    // The edge before the crash: claimed it and logged its first object, then died unanswered.
    await inbox.claim(id, log.endPosition)
    const first = await admitManualReadings(
      { registry, state: new IngestState({ deliveries: new Map(), pitPoints: [] }), log },
      { id, siteId: 'S1', enteredBy: officer.name, body: { objects: [body.objects[0]], refused: [] } },
    )
    expect(first.accepted).toBe(1)
    expect(logged()).toHaveLength(1)

    const restarted = desk()
    restarted.start()
    const answer = await waitForAnswer(inbox, id)
    await restarted.stop()
    expect(answer).toEqual({ ok: { accepted: 2, duplicates: 0, rejected: [] } })
    expect(logged().map((record) => record.inbox)).toEqual([
      { id, index: 0 },
      { id, index: 1 },
    ])
    expect(logged().map((record) => record.enteredBy)).toEqual([officer.name, officer.name])
  })

  it('answers through the edge, and takes a submission back when no edge takes it', async () => {
    const edge = desk()
    edge.start()
    const filing = { registry, inbox, filed: bell('inbox'), answered: bell('inbox-answered') }
    const result = await fileManualReadings(filing, 'S1', officer, [
      { deviceId: 'TC-01', ts: Date.now(), windMps: 5 },
      { deviceId: 'TC-01', junk: JSON.parse(`${'['.repeat(40)}${']'.repeat(40)}`) },
    ])
    expect(result).toMatchObject({
      accepted: 1,
      rejected: [{ index: 1, reason: expect.stringMatching(/nests deeper/) }],
    })
    await edge.stop()

    const started = Date.now()
    await expect(
      fileManualReadings({ ...filing, takeTimeoutMs: 300 }, 'S1', officer, {
        deviceId: 'TC-01',
        ts: Date.now(),
      }),
    ).rejects.toMatchObject({ code: 'INGEST_UNAVAILABLE' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    expect(await inbox.pending(10)).toEqual([]) // withdrawn: a later edge never logs what the officer was told failed
    expect(logged()).toHaveLength(1)
  })
})

async function waitForAnswer(inbox: ManualInbox, id: number): Promise<unknown> {
  for (let i = 0; i < 200; i++) {
    const result = await inbox.resultOf(id)
    if (result !== undefined) return result
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error('no answer')
}

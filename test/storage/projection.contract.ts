import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AlertStore, BatchStore, DeadLetter, ProjectionCommit, Registry } from '../../domain/ports.js'
import type { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { keyed, raise } from './alert-store.contract.js'

export interface ProjectionUnderTest {
  readonly projection: Pick<
    ProjectionRepository,
    | 'get'
    | 'set'
    | 'all'
    | 'add'
    | 'commit'
    | 'loadDeliveries'
    | 'loadPitPoints'
    | 'pitPointsOf'
    | 'modes'
    | 'latestTimestamps'
    | 'readingsPerDevice'
    | 'firstReadingAt'
    | 'pruneDeadLetters'
    | 'listDeadLetters'
  >
  readonly batches: BatchStore
  readonly registry: Registry
  readonly alerts: AlertStore
  readonly ruleStates: { loadAll(): Promise<[string, unknown][]> }
  close(): Promise<void>
}

const hour = 3_600_000
const t0 = Date.UTC(2026, 11, 4, 8, 0, 0)
const letter = (deviceId: string | null, receivedAt: number, over: Partial<DeadLetter> = {}): DeadLetter => ({
  receivedAt,
  siteId: 'S1',
  deviceId,
  topic: `sites/S1/devices/${deviceId}/telemetry`,
  stage: 'ingest',
  reason: 'loadT: expected a number',
  payload: '{"loadT":"heavy"}',
  ...over,
})
const change = (deviceId: string, over: Partial<ProjectionCommit['devices'][number]> = {}) => ({
  deviceId,
  accepted: 0,
  rejected: 0,
  duplicates: 0,
  online: null,
  lastSeenAt: null,
  latestTs: null,
  lastRejectReason: null,
  lastRejectAt: null,
  mode: null,
  modeTs: null,
  ...over,
})
const batchOf = (position: number, over: Partial<ProjectionCommit> = {}): ProjectionCommit => ({
  consumer: 'projector',
  position,
  devices: [],
  deadLetters: [],
  pitPoints: [],
  ...over,
})

/**
 * What the projection and the worker's batch must do on every store (issue 15): counters that
 * add up exactly once, presence and mode by event order, the delivery memory, readings per
 * hour, dead letters, pit series, cursors, and a batch whose effects all commit or none.
 */
export function describeProjectionContract(
  name: string,
  open: () => Promise<ProjectionUnderTest>,
  skipReason = '',
): void {
  describe.skipIf(skipReason !== '')(
    `Projection and batch contract: ${name}${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
    () => {
      let store: ProjectionUnderTest
      beforeEach(async () => {
        store = await open()
        await store.registry.upsertSite({ id: 'S1', name: 'S1', region: '330106' })
        await store.registry.createDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' }, 'h')
        await store.registry.createDevice({ siteId: 'S1', id: 'PIT-01', kind: 'pit' }, 'h')
      })
      afterEach(async () => {
        await store.close()
      })

      it('adds each batch to the device counters; presence, last reject and mode follow the newest', async () => {
        const { projection, registry } = store
        await projection.commit(
          batchOf(100, {
            devices: [
              change('TC-01', {
                accepted: 5,
                rejected: 1,
                duplicates: 2,
                online: true,
                lastSeenAt: t0,
                latestTs: t0 - 1_000,
                lastRejectReason: 'loadT: expected a number',
                lastRejectAt: t0,
                mode: 'work',
                modeTs: t0 - 1_000,
              }),
              change('GHOST-01', { accepted: 3 }), // not registered: nothing stored for it
            ],
            readingHours: [{ deviceId: 'TC-01', hour: Math.floor(t0 / hour), readings: 5 }],
          }),
        )
        await projection.commit(
          batchOf(200, {
            devices: [
              change('TC-01', {
                accepted: 2,
                lastSeenAt: t0 + 5_000,
                latestTs: t0 - 60_000,
                mode: 'idle',
                modeTs: t0 - 60_000,
              }),
            ],
            readingHours: [
              { deviceId: 'TC-01', hour: Math.floor(t0 / hour), readings: 1 },
              { deviceId: 'TC-01', hour: Math.floor(t0 / hour) - 2, readings: 1 },
            ],
          }),
        )
        expect(await registry.getDevice('TC-01')).toMatchObject({
          acceptedCount: 7,
          rejectedCount: 1,
          duplicateCount: 2,
          online: true, // the second batch said nothing of presence
          lastSeenAt: new Date(t0 + 5_000).toISOString(),
          lastRejectReason: 'loadT: expected a number',
        })
        expect(await registry.getDevice('GHOST-01')).toBeUndefined()
        // A backfilled older mode does not replace the newer one; the newest ts stays the newest.
        expect(await projection.modes()).toEqual(new Map([['TC-01', 'work']]))
        expect(await projection.latestTimestamps()).toEqual(new Map([['TC-01', t0 - 1_000]]))
        expect(await projection.readingsPerDevice(t0 - 3 * hour, t0 + hour)).toEqual(new Map([['TC-01', 7]]))
        expect(await projection.readingsPerDevice(t0 - 3 * hour, t0 - hour)).toEqual(new Map([['TC-01', 1]]))
        expect(await projection.firstReadingAt()).toEqual(
          new Map([['TC-01', (Math.floor(t0 / hour) - 2) * hour]]),
        )
        expect(await projection.get('projector')).toBe(200)
        expect(await projection.get('nobody')).toBe(0)
        expect((await registry.heardDevices()).map((d) => [d.deviceId, d.online])).toEqual([['TC-01', true]])
      })

      it('keeps the delivery memory, pit series and cursors a restart starts from', async () => {
        const { projection } = store
        const series = {
          siteId: 'S1',
          deviceId: 'PIT-01',
          pointCode: 'CX-1',
          depthM: 4.5,
          item: 'deep_horizontal' as const,
          baseline: 0,
          baselineTs: t0,
          baselineConfigured: false,
          lastValue: 2.5,
          lastTs: t0 + 1_000,
          history: [[t0, 0] as [number, number], [t0 + 1_000, 2.5] as [number, number]],
        }
        await projection.commit(
          batchOf(300, {
            devices: [change('PIT-01', { accepted: 1, online: true, lastSeenAt: t0 })],
            pitPoints: [series, { ...series, depthM: null, pointCode: 'WY-1', item: 'wall_top_horizontal' }],
            deliveries: {
              consumer: 'projector.deliveries',
              position: 300,
              devices: [{ deviceId: 'PIT-01', deliveries: { mqtt: [[1, 5]] } }],
            },
          }),
        )
        await projection.commit(
          batchOf(400, { pitPoints: [{ ...series, lastValue: 3, history: [[t0, 0]] }] }),
        )
        expect(await projection.loadDeliveries()).toEqual(new Map([['PIT-01', { mqtt: [[1, 5]] }]]))
        const loaded = await projection.loadPitPoints()
        expect(loaded.find((p) => p.pointCode === 'CX-1')).toEqual({
          ...series,
          lastValue: 3,
          history: [[t0, 0]],
        })
        expect(loaded.find((p) => p.pointCode === 'WY-1')?.depthM).toBeNull()
        expect(await projection.pitPointsOf('S1')).toEqual([
          { deviceId: 'PIT-01', pointCode: 'CX-1', item: 'deep_horizontal' },
          { deviceId: 'PIT-01', pointCode: 'WY-1', item: 'wall_top_horizontal' },
        ])
        expect(await projection.all()).toEqual(
          new Map([
            ['projector', 400],
            ['projector.deliveries', 300],
          ]),
        )
        await projection.set('shipper', 250)
        await projection.set('shipper', 260)
        expect((await projection.all()).get('shipper')).toBe(260)
      })

      it('stores dead letters newest first and prunes them by age and per device', async () => {
        const { projection } = store
        await projection.commit(batchOf(10, { deadLetters: [letter('TC-01', t0)] }))
        await projection.add(Array.from({ length: 12 }, (_, i) => letter('TC-01', t0 + i + 1)))
        await projection.add([letter('PIT-01', t0 - 40 * 86_400_000), letter(null, t0, { topic: 'unknown' })])
        const newest = await projection.listDeadLetters({ deviceId: 'TC-01', limit: 3 })
        expect(newest.map((l) => l.receivedAt)).toEqual([t0 + 12, t0 + 11, t0 + 10])
        expect(newest[0]).toMatchObject({ siteId: 'S1', stage: 'ingest', payload: '{"loadT":"heavy"}' })
        const older = await projection.listDeadLetters({
          deviceId: 'TC-01',
          limit: 3,
          before: newest[2]?.id as number,
        })
        expect(older.map((l) => l.receivedAt)).toEqual([t0 + 9, t0 + 8, t0 + 7])
        expect(await projection.pruneDeadLetters(t0 - 30 * 86_400_000, 10)).toBe(4) // 1 too old, 3 over the budget
        expect(await projection.listDeadLetters({ deviceId: 'TC-01', limit: 100 })).toHaveLength(10)
        expect(await projection.listDeadLetters({ limit: 100 })).toHaveLength(11)
      })

      it("commits a batch's alerts, rule state, projection and cursor together", async () => {
        const { batches, alerts, projection, ruleStates } = store
        const outcome = await batches.commitBatch({
          projection: batchOf(500, { devices: [change('TC-01', { accepted: 2 })] }),
          signals: [
            keyed(raise('warning', 92, t0)),
            keyed(raise('alarm', 104, t0 + 1)),
            keyed(raise('alarm', 101, t0), { deviceId: 'TC-02' }),
          ],
          ruleStates: new Map<string, object | null>([
            ['S1|TC-01|crane.moment|momentPct', { level: 'alarm', count: 2 }],
            ['S1|TC-02|crane.moment|momentPct', { level: 'alarm', count: 1 }],
          ]),
          now: t0 + 10,
        })
        expect(outcome.failed).toEqual([])
        expect(
          outcome.changes.map((c) => [c.alert.deviceId, c.alert.version, c.events.map((e) => e.type)]),
        ).toEqual([
          ['TC-01', 1, ['raised']],
          ['TC-01', 2, ['severity_raised']],
          ['TC-02', 1, ['raised']],
        ])
        expect((await alerts.list({}, 10)).items.map((a) => [a.deviceId, a.severity])).toEqual([
          ['TC-02', 'alarm'],
          ['TC-01', 'alarm'],
        ])
        expect(await projection.get('projector')).toBe(500)
        expect((await store.registry.getDevice('TC-01'))?.acceptedCount).toBe(2)
        await batches.commitBatch({
          projection: batchOf(600),
          signals: [],
          ruleStates: new Map([['S1|TC-02|crane.moment|momentPct', null]]),
          now: t0 + 20,
        })
        expect(new Map(await ruleStates.loadAll())).toEqual(
          new Map([['S1|TC-01|crane.moment|momentPct', { level: 'alarm', count: 2 }]]),
        )
      })

      it('keeps nothing of a batch that fails: no alert, no rule state, no counter, the cursor where it was', async () => {
        const { batches, alerts, projection, ruleStates } = store
        await projection.commit(batchOf(700))
        const failing = batches.commitBatch({
          projection: batchOf(800, {
            devices: [change('TC-01', { accepted: 9 })],
            // A topic is required: the store refuses the letter, and the rest of the batch with it.
            deadLetters: [letter('TC-01', t0, { topic: null as unknown as string })],
          }),
          signals: [keyed(raise('critical', 120, t0))],
          ruleStates: new Map([['S1|TC-01|crane.moment|momentPct', { level: 'critical' }]]),
          now: t0,
        })
        await expect(failing).rejects.toThrow(/topic|NOT NULL|null value/i)
        expect(await projection.get('projector')).toBe(700)
        expect((await alerts.list({}, 10)).items).toEqual([])
        expect(await alerts.lastEventSeq()).toBe(0)
        expect(await ruleStates.loadAll()).toEqual([])
        expect((await store.registry.getDevice('TC-01'))?.acceptedCount).toBe(0)
        expect(await projection.listDeadLetters({ limit: 10 })).toEqual([])
      })
    },
  )
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SitewardError } from '../../domain/errors.js'
import type { AlertEventPointSource, AlertStore } from '../../domain/ports.js'
import type { Principal } from '../../domain/registry.js'
import type { KeyedSignal, Signal } from '../../domain/rules.js'

/** A store under test, with a way around its code to reach its engine (for the invariants). */
export interface AlertStoreUnderTest {
  readonly alerts: AlertStore
  /** The timelines as telemetry points, for the shipper. */
  readonly timeline: AlertEventPointSource
  /** Inserts a second alert that is not closed for the key S1/TC-01/crane.moment/momentPct. */
  insertSecondNotClosed(): Promise<void>
  updateEvents(alertId: string): Promise<void>
  deleteEvents(alertId: string): Promise<void>
  /** What someone with the engine's keys could do: drop the guard and rewrite an event's data. */
  tamper(seq: number, data: string): Promise<void>
  close(): Promise<void>
}

const person = (role: Principal['role'], name = `${role}-1`): Principal => ({
  tokenId: name,
  name,
  role,
  sites: ['S1'],
  region: null,
})
const officer = person('officer', 'Officer Wang')
const supervisor = person('supervisor', 'Supervisor Li')
export const keyed = (signal: Signal, over: Partial<KeyedSignal> = {}): KeyedSignal => ({
  siteId: 'S1',
  deviceId: 'TC-01',
  ruleId: 'crane.moment',
  subject: 'momentPct',
  origin: 'rule default',
  retrospective: false,
  signal,
  ...over,
})
export const raise = (severity: 'warning' | 'alarm' | 'critical', value: number, ts: number): Signal => ({
  type: 'raise',
  severity,
  value,
  threshold: { warning: 90, alarm: 100, critical: 110 }[severity],
  ts,
})
export const clear = (ts: number): Signal => ({ type: 'clear', value: 80, ts })

async function codeOf(action: Promise<unknown>): Promise<string> {
  try {
    await action
  } catch (error) {
    return error instanceof SitewardError ? error.code : String(error)
  }
  return 'no error'
}

/**
 * What every alert store must do (CONTRACT §5.2), run against SQLite and PostgreSQL alike (issue
 * 15). `open` gives a fresh store holding site S1 in region 330106.
 */
export function describeAlertStoreContract(
  name: string,
  open: () => Promise<AlertStoreUnderTest>,
  skipReason = '',
): void {
  describe.skipIf(skipReason !== '')(
    `AlertStore contract: ${name}${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
    () => {
      let store: AlertStoreUnderTest
      let alerts: AlertStore

      beforeEach(async () => {
        store = await open()
        alerts = store.alerts
      })
      afterEach(async () => {
        await store.close()
      })

      it('raises one alert per key; repeated breaches update it; severity only rises; peak is kept', async () => {
        const raised = await alerts.applySignal(keyed(raise('warning', 92, 1_000)), 10)
        expect(raised?.alert).toMatchObject({
          state: 'open',
          condition: 'active',
          severity: 'warning',
          count: 1,
          value: 92,
          peakValue: 92,
          threshold: 90,
          version: 1,
          retrospective: false,
          raisedAt: new Date(10).toISOString(),
        })
        expect(raised?.events.map((e) => e.type)).toEqual(['raised'])
        const escalated = await alerts.applySignal(
          keyed({ type: 'escalate', severity: 'alarm', value: 104, threshold: 100, ts: 2_000 }),
          20,
        )
        expect(escalated?.alert).toMatchObject({
          id: raised?.alert.id,
          severity: 'alarm',
          value: 104,
          peakValue: 104,
          threshold: 100,
          count: 1,
          version: 2,
        })
        expect(escalated?.events.map((e) => e.type)).toEqual(['severity_raised'])
        const cleared = await alerts.applySignal(keyed(clear(3_000)), 30)
        expect(cleared?.alert).toMatchObject({
          condition: 'cleared',
          clearedAt: new Date(3_000).toISOString(),
        })
        expect(await alerts.applySignal(keyed(clear(3_500)), 35)).toBeNull() // nothing left to clear
        const again = await alerts.applySignal(keyed(raise('warning', 95, 4_000)), 40)
        expect(again?.alert).toMatchObject({
          id: raised?.alert.id,
          condition: 'active',
          severity: 'alarm',
          count: 2,
          value: 95,
          peakValue: 104,
          clearedAt: null,
          lastAt: new Date(4_000).toISOString(),
        })
        expect(again?.events.map((e) => e.type)).toEqual(['re_activated'])
        expect((await alerts.list({}, 10)).items).toHaveLength(1)
        expect(await alerts.get(raised?.alert.id as string)).toEqual(again?.alert)
      })

      it('keeps keys apart and flags retrospective breaches; late data never undoes a live alert', async () => {
        await alerts.applySignal(keyed(raise('alarm', 101, 1)), 1)
        const other = await alerts.applySignal(
          keyed(raise('alarm', 101, 1), { deviceId: 'TC-02', retrospective: true }),
          1,
        )
        expect(other?.alert.retrospective).toBe(true)
        expect((await alerts.list({}, 10)).items).toHaveLength(2)
        // An out-of-order clear may not clear what live readings raised; it is an update at most.
        expect(await alerts.applySignal(keyed(clear(0), { outOfOrder: true }), 2)).toBeNull()
        const late = await alerts.applySignal(keyed(raise('alarm', 103, 0), { outOfOrder: true }), 3)
        expect(late?.events.map((e) => [e.type, e.data.outOfOrder])).toEqual([['updated', true]])
        expect(late?.alert).toMatchObject({ value: 101, peakValue: 103, condition: 'active' })
        expect(await alerts.activeBreaches()).toEqual([
          {
            siteId: 'S1',
            deviceId: 'TC-01',
            ruleId: 'crane.moment',
            subject: 'momentPct',
            severity: 'alarm',
            peakValue: 103,
          },
        ])
      })

      it('enforces one alert that is not closed per key in the store itself (a unique index)', async () => {
        expect(await alerts.applySignal(keyed(raise('alarm', 101, 1)), 1)).not.toBeNull()
        expect(await codeOf(store.insertSecondNotClosed())).toMatch(/UNIQUE constraint|alerts_one_not_closed/)
      })

      it('runs the closed loop: acknowledge → resolve → close only after the condition cleared', async () => {
        const id = (await alerts.applySignal(keyed(raise('alarm', 101, 1)), 1))?.alert.id as string
        const step = (action: Parameters<AlertStore['transition']>[1], who: Principal, version?: number) =>
          alerts.transition(id, action, who, version, 2)
        expect(await codeOf(step({ action: 'resolve', note: null, resolution: 'x' }, officer))).toBe(
          'ALERT_NOT_ACKNOWLEDGED',
        )
        expect(await codeOf(step({ action: 'close', note: null }, supervisor))).toBe('ALERT_NOT_RESOLVED')
        const acked = await alerts.transition(id, { action: 'acknowledge', note: 'on my way' }, officer, 1, 3)
        expect(acked).toMatchObject({
          changed: true,
          alert: {
            state: 'acknowledged',
            version: 2,
            acknowledged: { by: 'Officer Wang', note: 'on my way', at: new Date(3).toISOString() },
          },
        })
        expect(acked.events.map((e) => [e.type, e.actor, e.data])).toEqual([
          ['acknowledged', 'Officer Wang', { note: 'on my way' }],
        ])
        expect(await step({ action: 'acknowledge', note: null }, officer)).toMatchObject({
          changed: false,
          alert: { version: 2 },
        })
        expect(await codeOf(step({ action: 'acknowledge', note: null }, officer, 1))).toBe('VERSION_MISMATCH')
        expect(await codeOf(alerts.transition('nope', { action: 'close', note: null }, officer, 1, 2))).toBe(
          'ALERT_NOT_FOUND',
        )
        const resolved = await step(
          { action: 'resolve', note: null, resolution: 'load reduced, operator briefed' },
          officer,
        )
        expect(resolved.alert.resolved).toMatchObject({
          by: 'Officer Wang',
          action: 'load reduced, operator briefed',
        })
        expect(await codeOf(step({ action: 'close', note: null }, officer))).toBe('FORBIDDEN')
        expect(await codeOf(step({ action: 'close', note: null }, supervisor))).toBe('ALERT_CONDITION_ACTIVE')
        expect(await codeOf(step({ action: 'acknowledge', note: null }, person('regulator')))).toBe(
          'FORBIDDEN',
        )
        await alerts.applySignal(keyed(clear(7)), 7)
        const closed = await alerts.transition(
          id,
          { action: 'close', note: 'verified on site' },
          supervisor,
          undefined,
          8,
        )
        expect(closed.alert).toMatchObject({
          state: 'closed',
          closed: { by: 'Supervisor Li', note: 'verified on site' },
        })
        expect((await step({ action: 'close', note: null }, supervisor)).changed).toBe(false)
        expect(await alerts.notClosed()).toEqual([])
        // A new breach after closing opens a new alert.
        const next = await alerts.applySignal(keyed(raise('warning', 91, 10)), 10)
        expect(next?.alert.id).not.toBe(id)
        expect(next?.alert.count).toBe(1)
        expect((await alerts.notClosed()).map((a) => a.id)).toEqual([next?.alert.id])
      })

      it('lets exactly one of two concurrent transitions with the same version win', async () => {
        const id = (await alerts.applySignal(keyed(raise('alarm', 101, 1)), 1))?.alert.id as string
        const outcomes = await Promise.all(
          [officer, supervisor].map((who) =>
            codeOf(alerts.transition(id, { action: 'acknowledge', note: who.name }, who, 1, 2)),
          ),
        )
        expect(outcomes.sort()).toEqual(['VERSION_MISMATCH', 'no error'])
        expect((await alerts.events(id)).filter((e) => e.type === 'acknowledged')).toHaveLength(1)
      })

      it('keeps an append-only, hash-chained timeline that detects tampering', async () => {
        const id = (await alerts.applySignal(keyed(raise('alarm', 101, 1)), 1))?.alert.id as string
        await alerts.comment(id, officer, '现场已停止吊装', 2)
        await alerts.transition(id, { action: 'acknowledge', note: null }, officer, undefined, 3)
        const events = await alerts.events(id)
        expect(events.map((e) => [e.type, e.actor])).toEqual([
          ['raised', 'engine'],
          ['comment', 'Officer Wang'],
          ['acknowledged', 'Officer Wang'],
        ])
        expect(events[0]?.prevHash).toBe('0'.repeat(64))
        expect(events[1]?.prevHash).toBe(events[0]?.hash)
        expect(await alerts.verify(id)).toEqual({ valid: true, events: 3, brokenAtSeq: null })
        expect(await codeOf(store.updateEvents(id))).toMatch(/append-only/)
        expect(await codeOf(store.deleteEvents(id))).toMatch(/append-only/)
        expect(await alerts.events(id)).toEqual(events)
        await store.tamper(events[1]?.seq as number, '{"text":"nothing happened"}')
        expect(await alerts.verify(id)).toEqual({ valid: false, events: 3, brokenAtSeq: events[1]?.seq })
      })

      it('escalates a waiting alert one level at a time, once per level', async () => {
        const id = (await alerts.applySignal(keyed(raise('critical', 120, 1)), 1))?.alert.id as string
        expect(await alerts.escalationCandidates()).toEqual([
          { id, severity: 'critical', state: 'open', raisedAt: 1, acknowledgedAt: null, escalationLevel: 0 },
        ])
        const first = await alerts.escalate(id, 0, 'not acknowledged in time', 5)
        expect(first?.alert).toMatchObject({ escalationLevel: 1, version: 2 })
        expect(first?.events.map((e) => e.data)).toEqual([{ level: 1, reason: 'not acknowledged in time' }])
        expect(await alerts.escalate(id, 0, 'not acknowledged in time', 6)).toBeNull() // already at 1
        await alerts.transition(id, { action: 'acknowledge', note: null }, officer, undefined, 7)
        expect((await alerts.escalationCandidates())[0]).toMatchObject({
          state: 'acknowledged',
          acknowledgedAt: 7,
        })
      })

      it('lists newest first with filters and a cursor', async () => {
        for (let i = 0; i < 5; i++)
          await alerts.applySignal(keyed(raise('warning', 91, i), { deviceId: `TC-0${i}` }), i)
        const first = await alerts.list({ siteIds: ['S1'] }, 2)
        expect(first.items.map((a) => a.deviceId)).toEqual(['TC-04', 'TC-03'])
        const second = await alerts.list({ siteIds: ['S1'] }, 2, first.nextCursor ?? undefined)
        expect(second.items.map((a) => a.deviceId)).toEqual(['TC-02', 'TC-01'])
        expect((await alerts.list({ siteIds: ['S2'] }, 10)).items).toEqual([])
        expect((await alerts.list({ siteIds: [] }, 10)).items).toEqual([])
        expect((await alerts.list({ region: '330106', deviceId: 'TC-00' }, 10)).items).toHaveLength(1)
        expect((await alerts.list({ region: '440305' }, 10)).items).toHaveLength(0)
        expect((await alerts.list({ retrospective: false, severity: 'warning' }, 10)).items).toHaveLength(5)
        expect((await alerts.list({ retrospective: true }, 10)).items).toHaveLength(0)
      })

      it('reports tallies per group with nearest-rank percentiles', async () => {
        const minute = 60_000
        for (let i = 0; i < 4; i++) {
          const raisedAt = Date.UTC(2026, 10, 1, 8) + i * minute
          const change = await alerts.applySignal(
            keyed(raise(i < 3 ? 'alarm' : 'critical', 101, raisedAt), { deviceId: `TC-0${i}` }),
            raisedAt,
          )
          if (i < 3)
            await alerts.transition(
              change?.alert.id as string,
              { action: 'acknowledge', note: null },
              officer,
              undefined,
              raisedAt + (i + 1) * minute,
            )
        }
        const policy = {
          maxLevel: 3,
          acknowledgeWithinMs: { warning: 60 * minute, alarm: 30 * minute, critical: 5 * minute },
          resolveWithinMs: { warning: 8 * 60 * minute, alarm: 4 * 60 * minute, critical: 60 * minute },
        }
        const now = Date.UTC(2026, 10, 1, 9)
        const bySeverity = await alerts.reportTallies(
          {},
          { groupBy: 'severity', utcOffsetMinutes: 480, now, policy },
        )
        expect(bySeverity.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
          {
            key: 'alarm',
            raised: 3,
            acknowledged: 3,
            resolved: 0,
            closed: 0,
            open: 3,
            overdue: 0,
            escalated: 0,
            retrospective: 0,
            repeats: 0,
            timeToAcknowledge: { n: 3, p50Ms: 2 * minute, p90Ms: 3 * minute },
            timeToClose: { n: 0, p50Ms: null, p90Ms: null },
          },
          {
            key: 'critical',
            raised: 1,
            acknowledged: 0,
            resolved: 0,
            closed: 0,
            open: 1,
            overdue: 1,
            escalated: 0,
            retrospective: 0,
            repeats: 0,
            timeToAcknowledge: { n: 0, p50Ms: null, p90Ms: null },
            timeToClose: { n: 0, p50Ms: null, p90Ms: null },
          },
        ])
        const byDay = await alerts.reportTallies({}, { groupBy: 'day', utcOffsetMinutes: 480, now, policy })
        expect(byDay.map((tally) => [tally.key, tally.raised])).toEqual([['2026-11-01', 4]])
      })

      it('gives each timeline event as a point with what it left the alert at, however the page is cut', async () => {
        const id = (await alerts.applySignal(keyed(raise('warning', 92, 1)), 1))?.alert.id as string
        await alerts.applySignal(keyed(raise('critical', 112, 2)), 2)
        await alerts.applySignal(keyed(raise('alarm', 101, 2), { deviceId: 'TC-09' }), 2)
        await alerts.applySignal(keyed(clear(3)), 3)
        await alerts.transition(id, { action: 'acknowledge', note: null }, officer, undefined, 4)
        const whole = await store.timeline.after(0, 100)
        expect(whole.map((p) => [p.deviceId, p.eventType, p.state, p.severity, p.value])).toEqual([
          ['TC-01', 'raised', 'open', 'warning', 92],
          ['TC-01', 'severity_raised', 'open', 'critical', 112],
          ['TC-09', 'raised', 'open', 'alarm', 101],
          ['TC-01', 'cleared', 'open', 'critical', 112],
          ['TC-01', 'acknowledged', 'acknowledged', 'critical', 112],
        ])
        for (let cut = 1; cut < whole.length; cut++) {
          const seq = whole[cut - 1]?.seq as number
          expect(await store.timeline.after(seq, 100)).toEqual(whole.slice(cut))
          expect(await store.timeline.after(seq, 1)).toEqual(whole.slice(cut, cut + 1))
        }
        expect(await store.timeline.lastSeq()).toBe(whole.at(-1)?.seq)
      })

      it('serves the timelines in seq order to a reader that follows them while others write', async () => {
        const ids: string[] = []
        for (let i = 0; i < 4; i++)
          ids.push(
            (await alerts.applySignal(keyed(raise('alarm', 101, i), { deviceId: `TC-1${i}` }), i))?.alert
              .id as string,
          )
        const start = await alerts.lastEventSeq()
        // Writers on four alerts at once while a reader follows seq, as the SSE stream does.
        const writers = ids.map(async (id, n) => {
          for (let i = 0; i < 10; i++) await alerts.comment(id, officer, `${n}.${i}`, 10 + i)
        })
        const seen: number[] = []
        let after = start
        const follow = async () => {
          for (const change of await alerts.eventsAfter(after, 1_000))
            for (const event of change.events) {
              seen.push(event.seq)
              after = event.seq
            }
        }
        let writing = true
        const all = Promise.all(writers).finally(() => {
          writing = false
        })
        while (writing) await follow()
        await all
        await follow()
        const written = (await Promise.all(ids.map((id) => alerts.events(id))))
          .flat()
          .filter((e) => e.type === 'comment')
          .map((e) => e.seq)
          .sort((a, b) => a - b)
        expect(written).toHaveLength(40)
        expect(seen).toEqual(written) // none missed, none twice, in order
        expect(await alerts.lastEventSeq()).toBe(written.at(-1))
        for (const id of ids) expect((await alerts.verify(id)).valid).toBe(true)
      })
    },
  )
}

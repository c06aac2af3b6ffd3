import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SitewardError } from '../../domain/errors.js'
import type { Principal } from '../../domain/registry.js'
import type { KeyedSignal, Signal } from '../../domain/rules.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'

const person = (role: Principal['role'], name = `${role}-1`): Principal => ({
  tokenId: name,
  name,
  role,
  sites: ['S1'],
  region: null,
})
const officer = person('officer', 'Officer Wang')
const supervisor = person('supervisor', 'Supervisor Li')
const keyed = (signal: Signal, over: Partial<KeyedSignal> = {}): KeyedSignal => ({
  siteId: 'S1',
  deviceId: 'TC-01',
  ruleId: 'crane.moment',
  subject: 'momentPct',
  origin: 'rule default',
  retrospective: false,
  signal,
  ...over,
})
const raise = (severity: 'warning' | 'alarm' | 'critical', value: number, ts: number): Signal => ({
  type: 'raise',
  severity,
  value,
  threshold: { warning: 90, alarm: 100, critical: 110 }[severity],
  ts,
})
const clear = (ts: number): Signal => ({ type: 'clear', value: 80, ts })

function codeOf(action: () => unknown): string {
  try {
    action()
  } catch (error) {
    return error instanceof SitewardError ? error.code : String(error)
  }
  return 'no error'
}

describe('AlertRepository (CONTRACT §5.2)', () => {
  let dir: string
  let db: SqliteDatabase
  let alerts: AlertRepository

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'siteward-alerts-'))
    db = openDatabase(join(dir, 'siteward.db'))
    new RegistryRepository(db).upsertSite({ id: 'S1', name: 'S1', region: '330106' })
    alerts = new AlertRepository(db)
  })
  afterEach(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('raises one alert per key; repeated breaches update it; severity only rises; peak is kept', () => {
    const raised = alerts.applySignal(keyed(raise('warning', 92, 1_000)), 10)
    expect(raised?.alert).toMatchObject({
      state: 'open',
      condition: 'active',
      severity: 'warning',
      count: 1,
      value: 92,
      peakValue: 92,
      threshold: 90,
      version: 1,
    })
    expect(raised?.events.map((e) => e.type)).toEqual(['raised'])
    const escalated = alerts.applySignal(
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
    })
    expect(escalated?.events.map((e) => e.type)).toEqual(['severity_raised'])
    const cleared = alerts.applySignal(keyed(clear(3_000)), 30)
    expect(cleared?.alert).toMatchObject({ condition: 'cleared', clearedAt: new Date(3_000).toISOString() })
    expect(alerts.applySignal(keyed(clear(3_500)), 35)).toBeNull() // nothing left to clear
    const again = alerts.applySignal(keyed(raise('warning', 95, 4_000)), 40)
    expect(again?.alert).toMatchObject({
      id: raised?.alert.id,
      condition: 'active',
      severity: 'alarm',
      count: 2,
      value: 95,
      peakValue: 104,
      clearedAt: null,
    })
    expect(again?.events.map((e) => e.type)).toEqual(['re_activated'])
    expect(alerts.list({}, 10).items).toHaveLength(1)
  })

  it('keeps keys apart and flags retrospective breaches', () => {
    alerts.applySignal(keyed(raise('alarm', 101, 1)), 1)
    const other = alerts.applySignal(
      keyed(raise('alarm', 101, 1), { deviceId: 'TC-02', retrospective: true }),
      1,
    )
    expect(other?.alert.retrospective).toBe(true)
    expect(alerts.list({}, 10).items).toHaveLength(2)
  })

  it('enforces one alert that is not closed per key in the store itself (a unique index)', () => {
    const first = alerts.applySignal(keyed(raise('alarm', 101, 1)), 1)
    expect(() =>
      db
        .prepare(
          `INSERT INTO alerts (id, site_id, device_id, rule_id, subject, severity, state, condition, threshold_origin, count, first_at, last_at, retrospective, version, raised_at)
           VALUES ('X', 'S1', 'TC-01', 'crane.moment', 'momentPct', 'alarm', 'open', 'active', 'x', 1, 1, 1, 0, 1, 1)`,
        )
        .run(),
    ).toThrow(/UNIQUE constraint failed/)
    expect(first).not.toBeNull()
  })

  it('runs the closed loop: acknowledge → resolve → close only after the condition cleared', () => {
    const { alert } = alerts.applySignal(keyed(raise('alarm', 101, 1)), 1) ?? { alert: undefined }
    const id = alert?.id as string
    expect(
      codeOf(() =>
        alerts.transition(id, { action: 'resolve', note: null, resolution: 'x' }, officer, undefined, 2),
      ),
    ).toBe('ALERT_NOT_ACKNOWLEDGED')
    expect(
      codeOf(() => alerts.transition(id, { action: 'close', note: null }, supervisor, undefined, 2)),
    ).toBe('ALERT_NOT_RESOLVED')
    const acked = alerts.transition(id, { action: 'acknowledge', note: 'on my way' }, officer, 1, 3)
    expect(acked).toMatchObject({
      changed: true,
      alert: { state: 'acknowledged', version: 2, acknowledged: { by: 'Officer Wang', note: 'on my way' } },
    })
    expect(alerts.transition(id, { action: 'acknowledge', note: null }, officer, undefined, 4)).toMatchObject(
      { changed: false, alert: { version: 2 } },
    )
    expect(codeOf(() => alerts.transition(id, { action: 'acknowledge', note: null }, officer, 1, 4))).toBe(
      'VERSION_MISMATCH',
    )
    const resolved = alerts.transition(
      id,
      { action: 'resolve', note: null, resolution: 'load reduced, operator briefed' },
      officer,
      undefined,
      5,
    )
    expect(resolved.alert.resolved).toMatchObject({
      by: 'Officer Wang',
      action: 'load reduced, operator briefed',
    })
    expect(codeOf(() => alerts.transition(id, { action: 'close', note: null }, officer, undefined, 6))).toBe(
      'FORBIDDEN',
    )
    expect(
      codeOf(() => alerts.transition(id, { action: 'close', note: null }, supervisor, undefined, 6)),
    ).toBe('ALERT_CONDITION_ACTIVE')
    expect(
      codeOf(() =>
        alerts.transition(id, { action: 'acknowledge', note: null }, person('regulator'), undefined, 6),
      ),
    ).toBe('FORBIDDEN')
    alerts.applySignal(keyed(clear(7)), 7)
    const closed = alerts.transition(
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
    expect(alerts.transition(id, { action: 'close', note: null }, supervisor, undefined, 9).changed).toBe(
      false,
    )
    // A new breach after closing opens a new alert.
    const next = alerts.applySignal(keyed(raise('warning', 91, 10)), 10)
    expect(next?.alert.id).not.toBe(id)
    expect(next?.alert.count).toBe(1)
  })

  it('lets exactly one of two concurrent transitions with the same version win', () => {
    const id = alerts.applySignal(keyed(raise('alarm', 101, 1)), 1)?.alert.id as string
    const outcomes = [officer, supervisor].map((who) =>
      codeOf(() => alerts.transition(id, { action: 'acknowledge', note: who.name }, who, 1, 2)),
    )
    expect(outcomes.sort()).toEqual(['VERSION_MISMATCH', 'no error'])
    expect(alerts.events(id).filter((e) => e.type === 'acknowledged')).toHaveLength(1)
  })

  it('keeps an append-only, hash-chained timeline that detects tampering', () => {
    const id = alerts.applySignal(keyed(raise('alarm', 101, 1)), 1)?.alert.id as string
    alerts.comment(id, officer, '现场已停止吊装', 2)
    alerts.transition(id, { action: 'acknowledge', note: null }, officer, undefined, 3)
    const events = alerts.events(id)
    expect(events.map((e) => [e.type, e.actor])).toEqual([
      ['raised', 'engine'],
      ['comment', 'Officer Wang'],
      ['acknowledged', 'Officer Wang'],
    ])
    expect(events[1]?.prevHash).toBe(events[0]?.hash)
    expect(alerts.verify(id)).toEqual({ valid: true, events: 3, brokenAtSeq: null })
    expect(() => db.prepare("UPDATE alert_events SET data = '{}' WHERE alert_id = ?").run(id)).toThrow(
      /append-only/,
    )
    expect(() => db.prepare('DELETE FROM alert_events WHERE alert_id = ?').run(id)).toThrow(/append-only/)
    // Someone with file access drops the guard and edits a comment: the chain shows it.
    db.exec('DROP TRIGGER alert_events_append_only_update')
    db.prepare(`UPDATE alert_events SET data = '{"text":"nothing happened"}' WHERE seq = ?`).run(
      events[1]?.seq,
    )
    expect(alerts.verify(id)).toEqual({ valid: false, events: 3, brokenAtSeq: events[1]?.seq })
  })

  it('lists newest first with filters and a cursor', () => {
    for (let i = 0; i < 5; i++)
      alerts.applySignal(keyed(raise('warning', 91, i), { deviceId: `TC-0${i}` }), i)
    const first = alerts.list({ siteIds: ['S1'] }, 2)
    expect(first.items.map((a) => a.deviceId)).toEqual(['TC-04', 'TC-03'])
    const second = alerts.list({ siteIds: ['S1'] }, 2, first.nextCursor ?? undefined)
    expect(second.items.map((a) => a.deviceId)).toEqual(['TC-02', 'TC-01'])
    expect(alerts.list({ siteIds: ['S2'] }, 10).items).toEqual([])
    expect(alerts.list({ region: '330106', deviceId: 'TC-00' }, 10).items).toHaveLength(1)
    expect(alerts.list({ region: '440305' }, 10).items).toHaveLength(0)
  })
})

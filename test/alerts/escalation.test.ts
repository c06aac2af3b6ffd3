import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AlertService } from '../../alerts/alert-service.js'
import type { AlertChange } from '../../domain/alert.js'
import { defaultEscalationPolicy } from '../../domain/escalation.js'
import { AlertRepository } from '../../storage/sqlite/alert-repository.js'
import { AlertTimelinePoints } from '../../storage/sqlite/alert-timeline-points.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { memoryLogger } from '../helpers/log-sink.js'

const minute = 60_000

describe('escalation (DOMAIN.md §3 deadlines, derived from stored times)', () => {
  let dir: string
  let db: SqliteDatabase
  let clock: number
  const service = () =>
    new AlertService({
      store: new AlertRepository(db),
      site: (id) => new RegistryRepository(db).getSite(id),
      logger: memoryLogger().logger,
      now: () => clock,
    })

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'siteward-escalation-'))
    db = openDatabase(join(dir, 'siteward.db'))
    await new RegistryRepository(db).upsertSite({ id: 'S1', name: 'S1', region: '330106' })
    clock = Date.UTC(2026, 10, 29, 8, 0, 0)
  })
  afterEach(() => {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('escalates an unacknowledged critical alert every 5 minutes, announces each step once, and no restart repeats one', async () => {
    const first = service()
    const announced: AlertChange[] = []
    first.changes$.subscribe((change) => announced.push(change))
    const raised = await first.handle({
      siteId: 'S1',
      deviceId: 'TC-01',
      ruleId: 'crane.device_event',
      subject: 'LIMITER_BYPASS',
      origin: 'rule default',
      retrospective: false,
      signal: { type: 'raise', severity: 'critical', value: 1, threshold: 1, ts: clock },
    })
    const id = raised?.alert.id as string
    clock += 4 * minute
    expect(await first.escalateDue(defaultEscalationPolicy)).toBe(0)
    clock += 2 * minute // 6 minutes: one deadline missed
    expect(await first.escalateDue(defaultEscalationPolicy)).toBe(1)
    expect(await first.escalateDue(defaultEscalationPolicy)).toBe(0)
    expect(
      announced
        .filter((c) => c.events.some((e) => e.type === 'escalated'))
        .map((c) => c.alert.escalationLevel),
    ).toEqual([1])

    // The engine restarts 11 minutes later: the new service catches up from stored times.
    clock += 11 * minute // 17 minutes: three deadlines missed, capped at level 3 (the regulator)
    const second = service()
    expect(await second.escalateDue(defaultEscalationPolicy)).toBe(2)
    expect(await second.escalateDue(defaultEscalationPolicy)).toBe(0)
    clock += 60 * minute
    expect(await second.escalateDue(defaultEscalationPolicy)).toBe(0)
    const events = (await new AlertRepository(db).events(id)).filter((e) => e.type === 'escalated')
    expect(events.map((e) => e.data)).toEqual([
      { level: 1, reason: 'not acknowledged in time' },
      { level: 2, reason: 'not acknowledged in time' },
      { level: 3, reason: 'not acknowledged in time' },
    ])
    // Each escalation becomes an alert_event point for telemetry, the alert still open at each.
    const points = (await new AlertTimelinePoints(db).after(0, 100)).filter(
      (e) => e.eventType === 'escalated',
    )
    expect(points.map((e) => e.state)).toEqual(['open', 'open', 'open'])
  })

  it('counts the resolve deadline from the acknowledgement', async () => {
    const alerts = service()
    const id = (
      await alerts.handle({
        siteId: 'S1',
        deviceId: 'TC-01',
        ruleId: 'crane.moment',
        subject: 'momentPct',
        origin: 'rule default',
        retrospective: false,
        signal: { type: 'raise', severity: 'alarm', value: 101, threshold: 100, ts: clock },
      })
    )?.alert.id as string
    clock += 10 * minute
    await alerts.transition(
      id,
      { action: 'acknowledge', note: null },
      { tokenId: 't', name: 'Officer', role: 'officer', sites: ['S1'], region: null },
      undefined,
    )
    clock += 3 * 60 * minute // 3 h after the acknowledgement: within the 4 h resolve deadline of an alarm
    expect(await alerts.escalateDue(defaultEscalationPolicy)).toBe(0)
    clock += 61 * minute
    expect(await alerts.escalateDue(defaultEscalationPolicy)).toBe(1)
    expect((await new AlertRepository(db).get(id))?.escalationLevel).toBe(1)
  })
})

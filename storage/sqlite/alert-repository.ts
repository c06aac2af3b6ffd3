import { monotonicFactory } from 'ulid'
import {
  type Alert,
  type AlertChange,
  type AlertEvent,
  type AlertFilter,
  decideTransition,
  type Transition,
} from '../../domain/alert.js'
import { decideSignal, type NewAlertEvent } from '../../domain/alert-signal.js'
import { SitewardError } from '../../domain/errors.js'
import type { EscalationCandidate } from '../../domain/escalation.js'
import type { AlertStore } from '../../domain/ports.js'
import type { Principal } from '../../domain/registry.js'
import type { GroupTally } from '../../domain/report.js'
import type { KeyedSignal, Severity } from '../../domain/rules.js'
import { joinSites, whereOf } from '../alert-filter-sql.js'
import {
  type AlertRow,
  type EventRow,
  engineActor,
  eventHash,
  genesisHash,
  signalTargetOf,
  toAlert,
  toEvent,
  verifyChain,
} from '../alert-rows.js'
import { reportTallies } from './alert-report-sql.js'
import { newestEventSeq } from './alert-timeline-points.js'
import type { SqliteDatabase } from './database.js'

/**
 * Alerts and their timelines in SQLite. Every change runs in one transaction that checks the
 * alert's version, so concurrent transitions serialise and exactly one of them wins; the unique
 * index keeps one alert that is not closed per key whatever the code above does.
 */
export class AlertRepository implements AlertStore {
  private readonly db: SqliteDatabase
  private readonly newId = monotonicFactory()

  constructor(db: SqliteDatabase) {
    this.db = db
  }

  /** Applies a rule signal to the key's alert (CONTRACT §5.2); null when nothing changed. */
  async applySignal(keyed: KeyedSignal, now: number): Promise<AlertChange | null> {
    return this.db.transaction(() => this.applySignalWithin(keyed, now)).immediate()
  }

  /** The same inside a transaction the caller holds (the worker's batch, see SqliteBatchStore). */
  applySignalWithin(keyed: KeyedSignal, now: number): AlertChange | null {
    const current = this.db
      .prepare(
        "SELECT * FROM alerts WHERE site_id = ? AND device_id = ? AND rule_id = ? AND subject = ? AND state <> 'closed'",
      )
      .get(keyed.siteId, keyed.deviceId, keyed.ruleId, keyed.subject) as AlertRow | undefined
    const outcome = decideSignal(current && signalTargetOf(current), keyed, () => this.newId(now))
    if (outcome === null) return null
    const { alert } = outcome
    if (outcome.inserted) {
      this.db
        .prepare(
          `INSERT INTO alerts (id, site_id, device_id, rule_id, subject, severity, state, condition, value, peak_value,
             threshold, threshold_origin, count, first_at, last_at, escalation_level, retrospective, version, raised_at)
           VALUES (?, ?, ?, ?, ?, ?, 'open', 'active', ?, ?, ?, ?, ?, ?, ?, 0, ?, 1, ?)`,
        )
        .run(
          alert.id,
          keyed.siteId,
          keyed.deviceId,
          keyed.ruleId,
          keyed.subject,
          alert.severity,
          alert.value,
          alert.peakValue,
          alert.threshold,
          alert.thresholdOrigin,
          alert.count,
          alert.firstAt,
          alert.lastAt,
          Number(alert.retrospective),
          now,
        )
    } else {
      this.db
        .prepare(
          `UPDATE alerts SET severity = ?, condition = ?, cleared_at = ?, value = ?, peak_value = ?, threshold = ?,
             threshold_origin = ?, count = ?, last_at = ?, retrospective = ?, version = version + 1 WHERE id = ?`,
        )
        .run(
          alert.severity,
          alert.condition,
          alert.clearedAt,
          alert.value,
          alert.peakValue,
          alert.threshold,
          alert.thresholdOrigin,
          alert.count,
          alert.lastAt,
          Number(alert.retrospective),
          alert.id,
        )
    }
    return this.changed(alert.id, outcome.events, now)
  }

  /** A person's step in the loop; `unchanged` when it had already happened (CONTRACT §5.1). */
  async transition(
    id: string,
    transition: Transition,
    principal: Principal,
    expectedVersion: number | undefined,
    now: number,
  ): Promise<AlertChange & { changed: boolean }> {
    return this.db
      .transaction(() => {
        const row = this.row(id)
        if (row === undefined) throw new SitewardError('ALERT_NOT_FOUND', `no alert ${id} in your scope`)
        if (expectedVersion !== undefined && expectedVersion !== row.version) {
          throw new SitewardError(
            'VERSION_MISMATCH',
            `If-Match names version ${expectedVersion}; the alert is at version ${row.version}`,
          )
        }
        const decision = decideTransition(toAlert(row), transition, principal)
        if (decision.kind === 'unchanged') return { alert: toAlert(row), events: [], changed: false }
        const actor = principal.name
        const step = decision.to
        const column = step === 'acknowledged' ? 'acknowledged' : step === 'resolved' ? 'resolved' : 'closed'
        const action = transition.action === 'resolve' ? transition.resolution : null
        this.db
          .prepare(
            `UPDATE alerts SET state = ?, ${column}_by = ?, ${column}_at = ?, ${column}_note = ?${column === 'resolved' ? ', resolved_action = ?' : ''},
               version = version + 1 WHERE id = ?`,
          )
          .run(...[step, actor, now, transition.note, ...(column === 'resolved' ? [action] : []), id])
        const data = { note: transition.note, ...(action === null ? {} : { action }) }
        return { ...this.changed(id, [{ type: column, data }], now, actor), changed: true }
      })
      .immediate()
  }

  async comment(id: string, principal: Principal, text: string, now: number): Promise<AlertChange> {
    return this.db
      .transaction(() => {
        if (this.row(id) === undefined)
          throw new SitewardError('ALERT_NOT_FOUND', `no alert ${id} in your scope`)
        return this.changed(id, [{ type: 'comment', data: { text } }], now, principal.name)
      })
      .immediate()
  }

  /** Every alert that is not closed (to re-announce retained copies after a restart). */
  async notClosed(): Promise<Alert[]> {
    return (
      this.db.prepare("SELECT * FROM alerts WHERE state <> 'closed' ORDER BY id").all() as AlertRow[]
    ).map(toAlert)
  }

  /** Live breaches in progress (seeds rule state in a store from before rule state was saved). */
  async activeBreaches(): Promise<
    {
      siteId: string
      deviceId: string
      ruleId: string
      subject: string
      severity: Severity
      peakValue: number | null
    }[]
  > {
    const rows = this.db
      .prepare(
        "SELECT site_id, device_id, rule_id, subject, severity, peak_value FROM alerts WHERE state <> 'closed' AND condition = 'active' AND retrospective = 0",
      )
      .all() as {
      site_id: string
      device_id: string
      rule_id: string
      subject: string
      severity: Severity
      peak_value: number | null
    }[]
    return rows.map((row) => ({
      siteId: row.site_id,
      deviceId: row.device_id,
      ruleId: row.rule_id,
      subject: row.subject,
      severity: row.severity,
      peakValue: row.peak_value,
    }))
  }

  /** Timeline events after `seq` (every alert), with each alert as it is now: SSE resume. */
  async eventsAfter(seq: number, limit: number): Promise<AlertChange[]> {
    const rows = this.db
      .prepare('SELECT * FROM alert_events WHERE seq > ? ORDER BY seq LIMIT ?')
      .all(seq, limit) as EventRow[]
    return rows.flatMap((row) => {
      const alert = this.alertOf(row.alert_id)
      return alert === undefined ? [] : [{ alert, events: [toEvent(row)] }]
    })
  }

  async lastEventSeq(): Promise<number> {
    return newestEventSeq(this.db)
  }

  /** Alerts still waiting for a person: open or acknowledged. */
  async escalationCandidates(): Promise<EscalationCandidate[]> {
    const rows = this.db
      .prepare(
        "SELECT id, severity, state, raised_at, acknowledged_at, escalation_level FROM alerts WHERE state IN ('open', 'acknowledged')",
      )
      .all() as {
      id: string
      severity: Severity
      state: 'open' | 'acknowledged'
      raised_at: number
      acknowledged_at: number | null
      escalation_level: number
    }[]
    return rows.map((row) => ({
      id: row.id,
      severity: row.severity,
      state: row.state,
      raisedAt: row.raised_at,
      acknowledgedAt: row.acknowledged_at,
      escalationLevel: row.escalation_level,
    }))
  }

  /** Raises the escalation level by one, if it is still `fromLevel` and the alert still waits. */
  async escalate(id: string, fromLevel: number, reason: string, now: number): Promise<AlertChange | null> {
    return this.db
      .transaction(() => {
        const updated = this.db
          .prepare(
            "UPDATE alerts SET escalation_level = escalation_level + 1, version = version + 1 WHERE id = ? AND escalation_level = ? AND state IN ('open', 'acknowledged')",
          )
          .run(id, fromLevel).changes
        if (updated === 0) return null
        return this.changed(id, [{ type: 'escalated', data: { level: fromLevel + 1, reason } }], now)
      })
      .immediate()
  }

  async get(id: string): Promise<Alert | undefined> {
    return this.alertOf(id)
  }

  /** Newest first; `cursor` is the last id of the previous page. */
  async list(
    filter: AlertFilter,
    limit: number,
    cursor?: string,
  ): Promise<{ items: Alert[]; nextCursor: string | null }> {
    const { clauses, params } = whereOf(filter)
    if (cursor !== undefined) {
      clauses.push('a.id < ?')
      params.push(cursor)
    }
    const where = clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`
    const rows = this.db
      .prepare(`SELECT a.* FROM alerts a ${joinSites(clauses)} ${where} ORDER BY a.id DESC LIMIT ?`)
      .all(...params, limit + 1) as AlertRow[]
    const items = rows.slice(0, limit).map(toAlert)
    return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null }
  }

  /** The summary report's figures per group (see alert-report-sql.ts). */
  async reportTallies(
    filter: AlertFilter,
    options: Parameters<typeof reportTallies>[2],
  ): Promise<GroupTally[]> {
    return reportTallies(this.db, filter, options)
  }

  async events(id: string): Promise<AlertEvent[]> {
    const rows = this.db
      .prepare('SELECT * FROM alert_events WHERE alert_id = ? ORDER BY seq')
      .all(id) as EventRow[]
    return rows.map(toEvent)
  }

  /** Recomputes the hash chain of an alert's timeline; the first broken link, if any. */
  async verify(id: string): Promise<{ valid: boolean; events: number; brokenAtSeq: number | null }> {
    return verifyChain(
      this.db.prepare('SELECT * FROM alert_events WHERE alert_id = ? ORDER BY seq').all(id) as EventRow[],
    )
  }

  private alertOf(id: string): Alert | undefined {
    const row = this.row(id)
    return row === undefined ? undefined : toAlert(row)
  }

  private row(id: string): AlertRow | undefined {
    return this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined
  }

  private changed(
    id: string,
    events: readonly NewAlertEvent[],
    now: number,
    actor = engineActor,
  ): AlertChange {
    const last = this.db
      .prepare('SELECT hash FROM alert_events WHERE alert_id = ? ORDER BY seq DESC LIMIT 1')
      .get(id) as { hash: string } | undefined
    let prev = last?.hash ?? genesisHash
    const insert = this.db.prepare(
      'INSERT INTO alert_events (alert_id, type, actor, at, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
    )
    const appended: AlertEvent[] = []
    for (const event of events) {
      const data = JSON.stringify(event.data)
      const hash = eventHash(prev, { alertId: id, type: event.type, actor, at: now, data })
      appended.push(toEvent(insert.get(id, event.type, actor, now, data, prev, hash) as EventRow))
      prev = hash
    }
    const row = this.row(id)
    if (row === undefined) throw new Error(`alert ${id} vanished inside its transaction`)
    return { alert: toAlert(row), events: appended }
  }
}

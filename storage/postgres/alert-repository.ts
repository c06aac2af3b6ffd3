import type pg from 'pg'
import { monotonicFactory } from 'ulid'
import {
  type Alert,
  type AlertChange,
  type AlertEvent,
  type AlertFilter,
  decideTransition,
  type Transition,
} from '../../domain/alert.js'
import type { NewAlertEvent } from '../../domain/alert-signal.js'
import { SitewardError } from '../../domain/errors.js'
import type { EscalationCandidate } from '../../domain/escalation.js'
import type { ActiveBreach, AlertStore } from '../../domain/ports.js'
import type { Principal } from '../../domain/registry.js'
import type { GroupTally } from '../../domain/report.js'
import type { KeyedSignal } from '../../domain/rules.js'
import { joinSites, whereOf } from '../alert-filter-sql.js'
import {
  type AlertRow,
  type EventRow,
  engineActor,
  eventHash,
  genesisHash,
  toAlert,
  toEvent,
  verifyChain,
} from '../alert-rows.js'
import { reportTallies } from './alert-report-sql.js'
import { applySignals, lockTimeline } from './alert-signals.js'
import { inTransaction, numbered } from './database.js'

/**
 * Alerts and their timelines in PostgreSQL, the same contract as SQLite's (test/storage/
 * alert-store.contract.ts). Each change is one transaction that takes the timeline lock, then
 * the alert's row lock, so concurrent transitions serialise, exactly one with a given version
 * wins, and timeline seqs commit in order.
 */
export class PostgresAlertRepository implements AlertStore {
  private readonly newId = monotonicFactory()

  constructor(private readonly pool: pg.Pool) {}

  async applySignal(keyed: KeyedSignal, now: number): Promise<AlertChange | null> {
    const [change] = await inTransaction(this.pool, async (client) => {
      await lockTimeline(client)
      return applySignals(client, [keyed], now, () => this.newId(now))
    })
    return change ?? null
  }

  /** The same for a batch's signals, inside the caller's transaction (the worker's batch). */
  applySignalsWithin(
    client: pg.PoolClient,
    signals: readonly KeyedSignal[],
    now: number,
  ): Promise<AlertChange[]> {
    return applySignals(client, signals, now, () => this.newId(now))
  }

  async transition(
    id: string,
    transition: Transition,
    principal: Principal,
    expectedVersion: number | undefined,
    now: number,
  ): Promise<AlertChange & { changed: boolean }> {
    return inTransaction(this.pool, async (client) => {
      await lockTimeline(client)
      const row = await lockedRow(client, id)
      if (row === undefined) throw new SitewardError('ALERT_NOT_FOUND', `no alert ${id} in your scope`)
      if (expectedVersion !== undefined && expectedVersion !== row.version) {
        throw new SitewardError(
          'VERSION_MISMATCH',
          `If-Match names version ${expectedVersion}; the alert is at version ${row.version}`,
        )
      }
      const decision = decideTransition(toAlert(row), transition, principal)
      if (decision.kind === 'unchanged') return { alert: toAlert(row), events: [], changed: false }
      const step = decision.to
      const column = step === 'acknowledged' ? 'acknowledged' : step === 'resolved' ? 'resolved' : 'closed'
      const action = transition.action === 'resolve' ? transition.resolution : null
      await client.query(
        `UPDATE alerts SET state = $1, ${column}_by = $2, ${column}_at = $3, ${column}_note = $4,
           ${column === 'resolved' ? 'resolved_action = $6,' : ''} version = version + 1 WHERE id = $5`,
        [step, principal.name, now, transition.note, id, ...(column === 'resolved' ? [action] : [])],
      )
      const data = { note: transition.note, ...(action === null ? {} : { action }) }
      const change = await appendEvents(client, id, [{ type: column, data }], now, principal.name)
      return { ...change, changed: true }
    })
  }

  async comment(id: string, principal: Principal, text: string, now: number): Promise<AlertChange> {
    return inTransaction(this.pool, async (client) => {
      await lockTimeline(client)
      if ((await lockedRow(client, id)) === undefined)
        throw new SitewardError('ALERT_NOT_FOUND', `no alert ${id} in your scope`)
      return appendEvents(client, id, [{ type: 'comment', data: { text } }], now, principal.name)
    })
  }

  async escalate(id: string, fromLevel: number, reason: string, now: number): Promise<AlertChange | null> {
    return inTransaction(this.pool, async (client) => {
      await lockTimeline(client)
      const updated = await client.query(
        "UPDATE alerts SET escalation_level = escalation_level + 1, version = version + 1 WHERE id = $1 AND escalation_level = $2 AND state IN ('open', 'acknowledged')",
        [id, fromLevel],
      )
      if (updated.rowCount === 0) return null
      return appendEvents(client, id, [{ type: 'escalated', data: { level: fromLevel + 1, reason } }], now)
    })
  }

  async get(id: string): Promise<Alert | undefined> {
    const { rows } = await this.pool.query<AlertRow>('SELECT * FROM alerts WHERE id = $1', [id])
    return rows[0] === undefined ? undefined : toAlert(rows[0])
  }

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
    const { rows } = await this.pool.query<AlertRow>(
      numbered(`SELECT a.* FROM alerts a ${joinSites(clauses)} ${where} ORDER BY a.id DESC LIMIT ?`),
      [...params, limit + 1],
    )
    const items = rows.slice(0, limit).map(toAlert)
    return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null }
  }

  reportTallies(filter: AlertFilter, options: Parameters<typeof reportTallies>[2]): Promise<GroupTally[]> {
    return reportTallies(this.pool, filter, options)
  }

  async events(id: string): Promise<AlertEvent[]> {
    return (await this.eventRows(id)).map(toEvent)
  }

  async verify(id: string): Promise<{ valid: boolean; events: number; brokenAtSeq: number | null }> {
    return verifyChain(await this.eventRows(id))
  }

  async eventsAfter(seq: number, limit: number): Promise<AlertChange[]> {
    const events = await this.pool.query<EventRow>(
      'SELECT * FROM alert_events WHERE seq > $1 ORDER BY seq LIMIT $2',
      [seq, limit],
    )
    const ids = [...new Set(events.rows.map((row) => row.alert_id))]
    const alerts = await this.pool.query<AlertRow>('SELECT * FROM alerts WHERE id = ANY($1)', [ids])
    const byId = new Map(alerts.rows.map((row) => [row.id, toAlert(row)]))
    return events.rows.flatMap((row) => {
      const alert = byId.get(row.alert_id)
      return alert === undefined ? [] : [{ alert, events: [toEvent(row)] }]
    })
  }

  async lastEventSeq(): Promise<number> {
    const { rows } = await this.pool.query<{ seq: number | null }>('SELECT max(seq) AS seq FROM alert_events')
    return rows[0]?.seq ?? 0
  }

  async notClosed(): Promise<Alert[]> {
    const { rows } = await this.pool.query<AlertRow>(
      "SELECT * FROM alerts WHERE state <> 'closed' ORDER BY id",
    )
    return rows.map(toAlert)
  }

  async activeBreaches(): Promise<ActiveBreach[]> {
    const { rows } = await this.pool.query<ActiveBreach>(
      `SELECT site_id AS "siteId", device_id AS "deviceId", rule_id AS "ruleId", subject, severity,
              peak_value AS "peakValue"
         FROM alerts WHERE state <> 'closed' AND condition = 'active' AND NOT retrospective`,
    )
    return rows
  }

  async escalationCandidates(): Promise<EscalationCandidate[]> {
    const { rows } = await this.pool.query<EscalationCandidate>(
      `SELECT id, severity, state, raised_at AS "raisedAt", acknowledged_at AS "acknowledgedAt",
              escalation_level AS "escalationLevel"
         FROM alerts WHERE state IN ('open', 'acknowledged')`,
    )
    return rows
  }

  private async eventRows(id: string): Promise<EventRow[]> {
    const { rows } = await this.pool.query<EventRow>(
      'SELECT * FROM alert_events WHERE alert_id = $1 ORDER BY seq',
      [id],
    )
    return rows
  }
}

async function lockedRow(client: pg.PoolClient, id: string): Promise<AlertRow | undefined> {
  const { rows } = await client.query<AlertRow>('SELECT * FROM alerts WHERE id = $1 FOR UPDATE', [id])
  return rows[0]
}

/** Appends events to a locked alert's timeline and returns the alert as they left it. */
async function appendEvents(
  client: pg.PoolClient,
  id: string,
  events: readonly NewAlertEvent[],
  now: number,
  actor = engineActor,
): Promise<AlertChange> {
  const last = await client.query<{ hash: string }>(
    'SELECT hash FROM alert_events WHERE alert_id = $1 ORDER BY seq DESC LIMIT 1',
    [id],
  )
  let prev = last.rows[0]?.hash ?? genesisHash
  const appended: AlertEvent[] = []
  for (const event of events) {
    const data = JSON.stringify(event.data)
    const hash = eventHash(prev, { alertId: id, type: event.type, actor, at: now, data })
    const { rows } = await client.query<EventRow>(
      'INSERT INTO alert_events (alert_id, type, actor, at, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *',
      [id, event.type, actor, now, data, prev, hash],
    )
    appended.push(toEvent(rows[0] as EventRow))
    prev = hash
  }
  const { rows } = await client.query<AlertRow>('SELECT * FROM alerts WHERE id = $1', [id])
  if (rows[0] === undefined) throw new Error(`alert ${id} vanished inside its transaction`)
  return { alert: toAlert(rows[0]), events: appended }
}

import type pg from 'pg'
import type { AlertChange, AlertEvent } from '../../domain/alert.js'
import { decideSignal, type SignalTarget } from '../../domain/alert-signal.js'
import type { KeyedSignal } from '../../domain/rules.js'
import { type AlertRow, engineActor, eventHash, genesisHash, signalTargetOf, toAlert } from '../alert-rows.js'

/** Taken by every transaction that appends timeline events, until it commits (see below). */
export const timelineLockKey = 0x5173_7761_7265 // "Sqware"

/**
 * Timeline seqs come from an identity column, handed out at insert time: two transactions
 * appending at once could commit in the other order, and a reader that had already seen the
 * higher seq would never see the lower one (the SSE stream, the MQTT topics and the shipper
 * all follow seq). One appender at a time, until its commit, keeps seq order the commit order.
 * Taken before any row lock, in every transaction that appends, so appenders never deadlock.
 */
export async function lockTimeline(client: pg.PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [timelineLockKey])
}

type LockedRow = AlertRow & { last_hash: string | null }

interface Working {
  row: AlertRow
  lastHash: string
  inserted: boolean
}

/**
 * Applies a batch's signals in order inside the caller's transaction (which holds the timeline
 * lock): the keys' alerts are locked and read in one query, the signals folded over them in
 * memory by the same rules SQLite applies (`decideSignal`), and every alert and event written in
 * one statement. Returns one change per signal that changed something, in signal order.
 */
export async function applySignals(
  client: pg.PoolClient,
  signals: readonly KeyedSignal[],
  now: number,
  newId: () => string,
): Promise<AlertChange[]> {
  if (signals.length === 0) return []
  const working = await lockKeys(client, signals)
  const changes: { alert: AlertRow; events: Omit<AlertEvent, 'seq'>[] }[] = []
  /** Each alert's state after the batch's last signal for it. */
  const finalRows = new Map<string, AlertRow>()
  for (const keyed of signals) {
    const key = keyOf(keyed)
    const current = working.get(key)
    const outcome = decideSignal(current && signalTargetOf(current.row), keyed, newId)
    if (outcome === null) continue
    const entry: Working =
      current === undefined || outcome.inserted
        ? { row: newRow(keyed, outcome.alert, now), lastHash: genesisHash, inserted: true }
        : { ...current, row: { ...merged(current.row, outcome.alert), version: current.row.version + 1 } }
    working.set(key, entry)
    finalRows.set(entry.row.id, entry.row)
    const events: Omit<AlertEvent, 'seq'>[] = []
    for (const event of outcome.events) {
      const data = JSON.stringify(event.data)
      const hash = eventHash(entry.lastHash, {
        alertId: entry.row.id,
        type: event.type,
        actor: engineActor,
        at: now,
        data,
      })
      events.push({
        alertId: entry.row.id,
        type: event.type,
        actor: engineActor,
        at: new Date(now).toISOString(),
        data: event.data,
        prevHash: entry.lastHash,
        hash,
      })
      entry.lastHash = hash
    }
    changes.push({ alert: entry.row, events })
  }
  const seqs = await writeAlertsAndEvents(
    client,
    [...finalRows.values()],
    changes.flatMap((change) => change.events),
    now,
  )
  return changes.map((change) => ({
    alert: toAlert(change.alert),
    events: change.events.map((event) => ({ ...event, seq: seqs.get(event.hash) as number })),
  }))
}

const keyOf = (k: { siteId: string; deviceId: string; ruleId: string; subject: string }) =>
  `${k.siteId}\u0000${k.deviceId}\u0000${k.ruleId}\u0000${k.subject}`

/** The not-closed alerts of the signals' keys, locked, each with its timeline's newest hash. */
async function lockKeys(
  client: pg.PoolClient,
  signals: readonly KeyedSignal[],
): Promise<Map<string, Working>> {
  const keys = new Map(signals.map((signal) => [keyOf(signal), signal]))
  const column = (pick: (signal: KeyedSignal) => string) => [...keys.values()].map(pick)
  const { rows } = await client.query<LockedRow>(
    `SELECT a.*, (SELECT e.hash FROM alert_events e WHERE e.alert_id = a.id ORDER BY e.seq DESC LIMIT 1) AS last_hash
       FROM alerts a
      WHERE a.state <> 'closed'
        AND (a.site_id, a.device_id, a.rule_id, a.subject) IN
            (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]))
      FOR UPDATE OF a`,
    [column((s) => s.siteId), column((s) => s.deviceId), column((s) => s.ruleId), column((s) => s.subject)],
  )
  return new Map(
    rows.map(({ last_hash, ...row }) => [
      keyOf({ siteId: row.site_id, deviceId: row.device_id, ruleId: row.rule_id, subject: row.subject }),
      { row, lastHash: last_hash ?? genesisHash, inserted: false },
    ]),
  )
}

function merged(row: AlertRow, alert: SignalTarget): AlertRow {
  return {
    ...row,
    severity: alert.severity,
    condition: alert.condition,
    value: alert.value,
    peak_value: alert.peakValue,
    threshold: alert.threshold,
    threshold_origin: alert.thresholdOrigin,
    count: alert.count,
    first_at: alert.firstAt,
    last_at: alert.lastAt,
    cleared_at: alert.clearedAt,
    retrospective: alert.retrospective,
  }
}

function newRow(keyed: KeyedSignal, alert: SignalTarget, now: number): AlertRow {
  return merged(
    {
      id: alert.id,
      site_id: keyed.siteId,
      device_id: keyed.deviceId,
      rule_id: keyed.ruleId,
      subject: keyed.subject,
      state: 'open',
      escalation_level: 0,
      version: 1,
      raised_at: now,
      acknowledged_by: null,
      acknowledged_at: null,
      acknowledged_note: null,
      resolved_by: null,
      resolved_at: null,
      resolved_note: null,
      resolved_action: null,
      closed_by: null,
      closed_at: null,
      closed_note: null,
    } as AlertRow,
    alert,
  )
}

const alertColumns = `id text, site_id text, device_id text, rule_id text, subject text, severity text, state text,
  condition text, value double precision, peak_value double precision, threshold double precision,
  threshold_origin text, count integer, first_at bigint, last_at bigint, cleared_at bigint,
  escalation_level integer, retrospective boolean, version integer, raised_at bigint`

/**
 * One statement: each alert's final state (new ones inserted; existing ones, locked above, take
 * the fields signals move and their version), then the events in order. Returns seq by hash.
 */
async function writeAlertsAndEvents(
  client: pg.PoolClient,
  alerts: readonly AlertRow[],
  events: readonly Omit<AlertEvent, 'seq'>[],
  now: number,
): Promise<Map<string, number>> {
  const { rows } = await client.query<{ seq: number; hash: string }>(
    `WITH written AS (
       INSERT INTO alerts (id, site_id, device_id, rule_id, subject, severity, state, condition, value, peak_value,
         threshold, threshold_origin, count, first_at, last_at, cleared_at, escalation_level, retrospective, version, raised_at)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(${alertColumns})
       ON CONFLICT (id) DO UPDATE SET severity = excluded.severity, condition = excluded.condition,
         value = excluded.value, peak_value = excluded.peak_value, threshold = excluded.threshold,
         threshold_origin = excluded.threshold_origin, count = excluded.count, last_at = excluded.last_at,
         cleared_at = excluded.cleared_at, retrospective = excluded.retrospective, version = excluded.version
       RETURNING id
     )
     INSERT INTO alert_events (alert_id, type, actor, at, data, prev_hash, hash)
     SELECT e.alert_id, e.type, e.actor, $3, e.data, e.prev_hash, e.hash
       FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (alert_id text, type text, actor text, data text,
            prev_hash text, hash text)) WITH ORDINALITY AS e(alert_id, type, actor, data, prev_hash, hash, ord)
      ORDER BY e.ord
     RETURNING seq, hash`,
    [
      JSON.stringify(alerts),
      JSON.stringify(
        events.map((event) => ({
          alert_id: event.alertId,
          type: event.type,
          actor: event.actor,
          data: JSON.stringify(event.data),
          prev_hash: event.prevHash,
          hash: event.hash,
        })),
      ),
      now,
    ],
  )
  return new Map(rows.map((row) => [row.hash, row.seq]))
}

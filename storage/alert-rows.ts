import { createHash } from 'node:crypto'
import type { Alert, AlertEvent, AlertEventType } from '../domain/alert.js'
import type { SignalTarget } from '../domain/alert-signal.js'
import { type AlertAfterEvent, afterEvent } from '../domain/alert-timeline.js'
import type { AlertEventPoint } from '../domain/ports.js'
import type { Severity } from '../domain/rules.js'

/**
 * Alert and timeline rows as both stores return them (epoch milliseconds; `retrospective` 0 or 1
 * in SQLite, a boolean in PostgreSQL), their mapping to the domain's shapes, and the hash chain.
 */

export interface AlertRow {
  id: string
  site_id: string
  device_id: string
  rule_id: string
  subject: string
  severity: Severity
  state: Alert['state']
  condition: Alert['condition']
  value: number | null
  peak_value: number | null
  threshold: number | null
  threshold_origin: string
  count: number
  first_at: number
  last_at: number
  cleared_at: number | null
  escalation_level: number
  retrospective: number | boolean
  version: number
  raised_at: number
  acknowledged_by: string | null
  acknowledged_at: number | null
  acknowledged_note: string | null
  resolved_by: string | null
  resolved_at: number | null
  resolved_note: string | null
  resolved_action: string | null
  closed_by: string | null
  closed_at: number | null
  closed_note: string | null
}

export interface EventRow {
  seq: number
  alert_id: string
  type: AlertEventType
  actor: string
  at: number
  data: string
  prev_hash: string
  hash: string
}

export const genesisHash = '0'.repeat(64)
export const iso = (ms: number) => new Date(ms).toISOString()
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms))
export const engineActor = 'engine'

/** The hash of a timeline event: the previous event's hash plus this event's content. */
export function eventHash(
  prevHash: string,
  event: { alertId: string; type: string; actor: string; at: number; data: string },
): string {
  return createHash('sha256')
    .update(`${prevHash}\n${event.alertId}\n${event.type}\n${event.actor}\n${event.at}\n${event.data}`)
    .digest('hex')
}

export function toAlert(row: AlertRow): Alert {
  const step = (by: string | null, at: number | null, note: string | null) =>
    by === null || at === null ? null : { by, at: iso(at), note }
  const resolved = step(row.resolved_by, row.resolved_at, row.resolved_note)
  return {
    id: row.id,
    siteId: row.site_id,
    deviceId: row.device_id,
    ruleId: row.rule_id,
    subject: row.subject,
    severity: row.severity,
    state: row.state,
    condition: row.condition,
    value: row.value,
    peakValue: row.peak_value,
    threshold: row.threshold,
    thresholdOrigin: row.threshold_origin,
    count: row.count,
    firstAt: iso(row.first_at),
    lastAt: iso(row.last_at),
    clearedAt: isoOrNull(row.cleared_at),
    raisedAt: iso(row.raised_at),
    escalationLevel: row.escalation_level,
    retrospective: row.retrospective === 1 || row.retrospective === true,
    version: row.version,
    acknowledged: step(row.acknowledged_by, row.acknowledged_at, row.acknowledged_note),
    resolved: resolved === null ? null : { ...resolved, action: row.resolved_action ?? '' },
    closed: step(row.closed_by, row.closed_at, row.closed_note),
  }
}

export function toEvent(row: EventRow): AlertEvent {
  return {
    seq: row.seq,
    alertId: row.alert_id,
    type: row.type,
    actor: row.actor,
    at: iso(row.at),
    data: JSON.parse(row.data) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  }
}

/** The fields a rule signal moves, as `decideSignal` takes them. */
export function signalTargetOf(row: AlertRow): SignalTarget {
  return {
    id: row.id,
    severity: row.severity,
    condition: row.condition,
    value: row.value,
    peakValue: row.peak_value,
    threshold: row.threshold,
    thresholdOrigin: row.threshold_origin,
    count: row.count,
    firstAt: row.first_at,
    lastAt: row.last_at,
    clearedAt: row.cleared_at,
    retrospective: row.retrospective === 1 || row.retrospective === true,
  }
}

/** Recomputes the hash chain of one alert's events (in seq order); the first broken link, if any. */
export function verifyChain(rows: readonly EventRow[]): {
  valid: boolean
  events: number
  brokenAtSeq: number | null
} {
  let prev = genesisHash
  for (const row of rows) {
    const expected = eventHash(prev, {
      alertId: row.alert_id,
      type: row.type,
      actor: row.actor,
      at: row.at,
      data: row.data,
    })
    if (row.prev_hash !== prev || row.hash !== expected)
      return { valid: false, events: rows.length, brokenAtSeq: row.seq }
    prev = row.hash
  }
  return { valid: true, events: rows.length, brokenAtSeq: null }
}

/** A timeline event with its alert's key, as the shipper pages through them in seq order. */
export interface TimelineRow {
  seq: number
  alert_id: string
  type: AlertEventType
  at: number
  data: string
  site_id: string
  device_id: string
  rule_id: string
}

/**
 * Each event with what it left the alert at: the events before a page's first one of an alert
 * (`earlier`) are folded first, so a page cut anywhere gives the same points.
 */
export function timelinePoints(
  rows: readonly TimelineRow[],
  earlier: (alertId: string, seq: number) => readonly { type: AlertEventType; data: string }[],
): AlertEventPoint[] {
  const folded = new Map<string, AlertAfterEvent | undefined>()
  return rows.map((row) => {
    let before = folded.get(row.alert_id)
    if (!folded.has(row.alert_id)) {
      for (const event of earlier(row.alert_id, row.seq))
        before = afterEvent(before, event.type, JSON.parse(event.data) as Record<string, unknown>)
    }
    const after = afterEvent(before, row.type, JSON.parse(row.data) as Record<string, unknown>)
    folded.set(row.alert_id, after)
    return {
      seq: row.seq,
      at: row.at,
      alertId: row.alert_id,
      siteId: row.site_id,
      deviceId: row.device_id,
      ruleId: row.rule_id,
      eventType: row.type,
      ...after,
    }
  })
}

import type { AlertFilter } from '../../domain/alert.js'
import type { EscalationPolicy } from '../../domain/escalation.js'
import type { Grouping, GroupTally } from '../../domain/report.js'
import type { Severity } from '../../domain/rules.js'
import { joinSites, whereOf } from './alert-filter-sql.js'
import type { SqliteDatabase } from './database.js'

/**
 * The summary report's figures, computed by SQLite: a report over 100,000 alerts must not carry
 * 100,000 rows into JavaScript (that alone took 400 ms). Percentiles are nearest rank, with window
 * functions: the value at rank ⌈p × n / 100⌉ of the group's sorted durations.
 */
export function reportTallies(
  db: SqliteDatabase,
  filter: AlertFilter,
  options: { groupBy: Grouping; utcOffsetMinutes: number; now: number; policy: EscalationPolicy },
): GroupTally[] {
  const { clauses, params } = whereOf(filter)
  const from = `FROM alerts a ${joinSites(clauses)} ${clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`}`
  const group = groupExpression(options.groupBy, options.utcOffsetMinutes)
  const bySeverity = (limits: Readonly<Record<Severity, number>>) =>
    `CASE a.severity WHEN 'critical' THEN ${num(limits.critical)} WHEN 'alarm' THEN ${num(limits.alarm)} ELSE ${num(limits.warning)} END`
  const now = num(options.now)
  const overdue = `(a.state = 'open' AND a.raised_at + ${bySeverity(options.policy.acknowledgeWithinMs)} < ${now})
    OR (a.state = 'acknowledged' AND a.acknowledged_at + ${bySeverity(options.policy.resolveWithinMs)} < ${now})`
  const counts = db
    .prepare(
      `SELECT ${group} AS g, count(*) AS raised,
         sum(a.acknowledged_at IS NOT NULL) AS acknowledged, sum(a.resolved_at IS NOT NULL) AS resolved,
         sum(a.closed_at IS NOT NULL) AS closed, sum(a.state <> 'closed') AS open, sum(${overdue}) AS overdue,
         sum(a.escalation_level > 0) AS escalated, sum(a.retrospective) AS retrospective,
         count(DISTINCT a.site_id || '|' || a.device_id || '|' || a.rule_id || '|' || a.subject) AS keys
       ${from} GROUP BY g`,
    )
    .all(...params) as (Omit<GroupTally, 'key' | 'timeToAcknowledge' | 'timeToClose' | 'repeats'> & {
    g: string
    keys: number
  })[]
  const percentiles = (column: 'acknowledged_at' | 'closed_at') =>
    new Map(
      (
        db
          .prepare(
            `WITH d AS (SELECT ${group} AS g, a.${column} - a.raised_at AS ms ${from}${clauses.length === 0 ? ' WHERE' : ' AND'} a.${column} IS NOT NULL),
                  r AS (SELECT g, ms, row_number() OVER (PARTITION BY g ORDER BY ms) AS rn, count(*) OVER (PARTITION BY g) AS n FROM d)
             SELECT g, n, max(CASE WHEN rn = (n * 50 + 99) / 100 THEN ms END) AS p50,
                    max(CASE WHEN rn = (n * 90 + 99) / 100 THEN ms END) AS p90
               FROM r GROUP BY g`,
          )
          .all(...params) as { g: string; n: number; p50: number; p90: number }[]
      ).map((row) => [row.g, { n: row.n, p50Ms: row.p50, p90Ms: row.p90 }] as const),
    )
  const toAcknowledge = percentiles('acknowledged_at')
  const toClose = percentiles('closed_at')
  const none = { n: 0, p50Ms: null, p90Ms: null }
  return counts.map(({ g, keys, ...tally }) => ({
    key: g,
    ...tally,
    repeats: tally.raised - keys,
    timeToAcknowledge: toAcknowledge.get(g) ?? none,
    timeToClose: toClose.get(g) ?? none,
  }))
}

function groupExpression(groupBy: Grouping, utcOffsetMinutes: number): string {
  switch (groupBy) {
    case 'site':
      return 'a.site_id'
    case 'rule':
      return 'a.rule_id'
    case 'severity':
      return 'a.severity'
    case 'device':
      return 'a.device_id'
    case 'day':
      return `date((a.raised_at + ${num(utcOffsetMinutes * 60_000)}) / 1000, 'unixepoch')`
  }
}

/** A number inlined into SQL: only ever a finite integer (config values, clock readings). */
function num(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`)
  return String(Math.trunc(value))
}

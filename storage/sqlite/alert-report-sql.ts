import type { AlertFilter } from '../../domain/alert.js'
import type { EscalationPolicy } from '../../domain/escalation.js'
import { type Grouping, type GroupTally, nearestRank, type Percentiles } from '../../domain/report.js'
import { groupExpression, joinSites, overdueExpression, whereOf } from '../alert-filter-sql.js'
import type { SqliteDatabase } from './database.js'

/**
 * The summary report's figures, counted by SQLite in one grouped pass: a report over 100,000
 * alerts must not carry 100,000 rows into JavaScript (that alone took 400 ms; window functions
 * for the percentiles took 160 ms each). Percentiles are nearest rank.
 */
export function reportTallies(
  db: SqliteDatabase,
  filter: AlertFilter,
  options: { groupBy: Grouping; utcOffsetMinutes: number; now: number; policy: EscalationPolicy },
): GroupTally[] {
  const { clauses, params } = whereOf(filter)
  const from = `FROM alerts a ${joinSites(clauses)} ${clauses.length === 0 ? '' : `WHERE ${clauses.join(' AND ')}`}`
  const group = groupExpression(options.groupBy, options.utcOffsetMinutes, localDay)
  const overdue = overdueExpression(options.policy, options.now)
  // One pass: counts, the distinct keys, and the durations as lists (group_concat skips the
  // NULLs of alerts that never reached the step); percentiles are taken from those in JS.
  const rows = db
    .prepare(
      `SELECT ${group} AS g, count(*) AS raised,
         sum(a.acknowledged_at IS NOT NULL) AS acknowledged, sum(a.resolved_at IS NOT NULL) AS resolved,
         sum(a.closed_at IS NOT NULL) AS closed, sum(a.state <> 'closed') AS open, sum(${overdue}) AS overdue,
         sum(a.escalation_level > 0) AS escalated, sum(a.retrospective) AS retrospective,
         count(DISTINCT a.site_id || '|' || a.device_id || '|' || a.rule_id || '|' || a.subject) AS keys,
         group_concat(a.acknowledged_at - a.raised_at) AS toAcknowledge,
         group_concat(a.closed_at - a.raised_at) AS toClose
       ${from} GROUP BY g`,
    )
    .all(...params) as (Omit<GroupTally, 'key' | 'timeToAcknowledge' | 'timeToClose' | 'repeats'> & {
    g: string
    keys: number
    toAcknowledge: string | null
    toClose: string | null
  })[]
  return rows.map(({ g, keys, toAcknowledge, toClose, ...tally }) => ({
    key: g,
    ...tally,
    repeats: tally.raised - keys,
    timeToAcknowledge: nearestRankPercentiles(toAcknowledge),
    timeToClose: nearestRankPercentiles(toClose),
  }))
}

/** p50 and p90 of a comma-separated list of durations. */
function nearestRankPercentiles(list: string | null): Percentiles {
  if (list === null || list === '') return { n: 0, p50Ms: null, p90Ms: null }
  const sorted = list
    .split(',')
    .map(Number)
    .sort((a, b) => a - b)
  return { n: sorted.length, p50Ms: nearestRank(sorted, 50), p90Ms: nearestRank(sorted, 90) }
}

const localDay = (localMs: string) => `date(${localMs} / 1000, 'unixepoch')`

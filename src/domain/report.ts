import type { AlertState } from './alert.js'
import type { EscalationPolicy } from './escalation.js'
import type { Severity } from './rules.js'

/** One alert as a summary report sees it. */
export interface ReportRow {
  readonly id: string
  readonly siteId: string
  readonly deviceId: string
  readonly ruleId: string
  readonly subject: string
  readonly severity: Severity
  readonly state: AlertState
  readonly raisedAt: number
  readonly acknowledgedAt: number | null
  readonly resolvedAt: number | null
  readonly closedAt: number | null
  readonly escalationLevel: number
  readonly retrospective: boolean
}

export const groupings = ['site', 'rule', 'severity', 'device', 'day'] as const
export type Grouping = (typeof groupings)[number]

/** p50 and p90 of a duration, by nearest rank; null when nothing was measured. */
export interface Percentiles {
  readonly n: number
  readonly p50Ms: number | null
  readonly p90Ms: number | null
}

export interface SummaryGroup {
  readonly key: string
  readonly raised: number
  readonly acknowledged: number
  readonly resolved: number
  readonly closed: number
  /** Not closed yet. */
  readonly open: number
  /** Past the acknowledge or resolve deadline at report time, and that step not taken. */
  readonly overdue: number
  readonly escalated: number
  readonly retrospective: number
  /** acknowledged / raised, closed / raised (0–1; null without alerts). */
  readonly acknowledgeRate: number | null
  readonly closeRate: number | null
  readonly timeToAcknowledge: Percentiles
  readonly timeToClose: Percentiles
  /** Alerts raised on a key (site, device, rule, subject) that already had one in the period. */
  readonly repeats: number
  /** The incidents filter behind each figure: `GET /api/incidents?…` lists those alerts. */
  readonly drillDown: Readonly<Record<string, AlertFilterQuery>>
}

/** An incidents query, as query-string fields. */
export type AlertFilterQuery = Readonly<Record<string, string>>

/**
 * Nearest-rank percentile: the smallest value with at least p % of the values at or below it.
 * (Not interpolated: every figure is a time some alert actually took.)
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1] ?? null
}

const percentiles = (values: number[]): Percentiles => {
  const sorted = values.sort((a, b) => a - b)
  return { n: sorted.length, p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90) }
}

/** The calendar day of `ms` at a fixed UTC offset (China: +480 minutes), as YYYY-MM-DD. */
export function dayOf(ms: number, utcOffsetMinutes: number): string {
  return new Date(ms + utcOffsetMinutes * 60_000).toISOString().slice(0, 10)
}

export function isOverdue(row: ReportRow, policy: EscalationPolicy, now: number): boolean {
  if (row.state === 'open') return now > row.raisedAt + policy.acknowledgeWithinMs[row.severity]
  if (row.state === 'acknowledged')
    return now > (row.acknowledgedAt ?? row.raisedAt) + policy.resolveWithinMs[row.severity]
  return false
}

/**
 * The closed-loop figures of DOMAIN.md §3 per group, over the alerts raised in the period. Pure:
 * the caller loads the rows in the caller's scope.
 */
export function summarize(
  rows: readonly ReportRow[],
  options: {
    readonly groupBy: Grouping
    readonly now: number
    readonly policy: EscalationPolicy
    readonly utcOffsetMinutes: number
    /** The query that selected the rows (period, scope narrowing), repeated in every drill-down. */
    readonly base: AlertFilterQuery
  },
): SummaryGroup[] {
  const groups = new Map<string, ReportRow[]>()
  const keyOf = (row: ReportRow): string => {
    switch (options.groupBy) {
      case 'site':
        return row.siteId
      case 'rule':
        return row.ruleId
      case 'severity':
        return row.severity
      case 'device':
        return row.deviceId
      case 'day':
        return dayOf(row.raisedAt, options.utcOffsetMinutes)
    }
  }
  for (const row of rows) {
    const key = keyOf(row)
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [row])
    else group.push(row)
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, members]) => {
      const count = (test: (row: ReportRow) => boolean) => members.filter(test).length
      const raised = members.length
      const acknowledged = count((r) => r.acknowledgedAt !== null)
      const closed = count((r) => r.closedAt !== null)
      const keys = new Set(members.map((r) => `${r.siteId}|${r.deviceId}|${r.ruleId}|${r.subject}`))
      const scope = {
        ...options.base,
        ...groupQuery(options.groupBy, key, options.utcOffsetMinutes, options.base),
      }
      return {
        key,
        raised,
        acknowledged,
        resolved: count((r) => r.resolvedAt !== null),
        closed,
        open: count((r) => r.state !== 'closed'),
        overdue: count((r) => isOverdue(r, options.policy, options.now)),
        escalated: count((r) => r.escalationLevel > 0),
        retrospective: count((r) => r.retrospective),
        acknowledgeRate: raised === 0 ? null : acknowledged / raised,
        closeRate: raised === 0 ? null : closed / raised,
        timeToAcknowledge: percentiles(
          members.flatMap((r) => (r.acknowledgedAt === null ? [] : [r.acknowledgedAt - r.raisedAt])),
        ),
        timeToClose: percentiles(
          members.flatMap((r) => (r.closedAt === null ? [] : [r.closedAt - r.raisedAt])),
        ),
        repeats: raised - keys.size,
        drillDown: {
          raised: scope,
          acknowledged: { ...scope, reached: 'acknowledged' },
          resolved: { ...scope, reached: 'resolved' },
          closed: { ...scope, reached: 'closed' },
          open: { ...scope, open: 'true' },
          overdue: { ...scope, overdue: 'true' },
          escalated: { ...scope, escalated: 'true' },
          retrospective: { ...scope, retrospective: 'true' },
        },
      }
    })
}

/** The incidents filter that selects one group. */
function groupQuery(
  groupBy: Grouping,
  key: string,
  utcOffsetMinutes: number,
  base: AlertFilterQuery,
): AlertFilterQuery {
  switch (groupBy) {
    case 'site':
      return { siteId: key }
    case 'rule':
      return { ruleId: key }
    case 'severity':
      return { severity: key }
    case 'device':
      return { deviceId: key }
    case 'day': {
      // The day, within the report's period (the first and last day may be partial).
      const start = Date.parse(`${key}T00:00:00Z`) - utcOffsetMinutes * 60_000
      const from = Math.max(start, base.from === undefined ? start : Date.parse(base.from))
      const end = start + 86_400_000
      const to = Math.min(end, base.to === undefined ? end : Date.parse(base.to))
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString() }
    }
  }
}

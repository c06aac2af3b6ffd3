import type { AlertFilter } from '../domain/alert.js'
import type { EscalationPolicy } from '../domain/escalation.js'
import type { Grouping } from '../domain/report.js'
import type { Severity } from '../domain/rules.js'

/**
 * The WHERE clauses of a filter, over `alerts a` (and `sites s` when a region is asked for), with
 * `?` placeholders: SQLite takes them as they are, PostgreSQL numbered (`numbered`).
 */
export function whereOf(filter: AlertFilter): { clauses: string[]; params: unknown[] } {
  const clauses: string[] = []
  const params: unknown[] = []
  const add = (clause: string, ...values: unknown[]) => {
    clauses.push(clause)
    params.push(...values)
  }
  if (filter.siteIds !== undefined)
    add(`a.site_id IN (${filter.siteIds.map(() => '?').join(', ') || "''"})`, ...filter.siteIds)
  if (filter.region !== undefined && filter.region !== null) add('s.region = ?', filter.region)
  if (filter.inRegion !== undefined) add('s.region = ?', filter.inRegion)
  if (filter.siteId !== undefined) add('a.site_id = ?', filter.siteId)
  if (filter.deviceId !== undefined) add('a.device_id = ?', filter.deviceId)
  if (filter.ruleId !== undefined) add('a.rule_id = ?', filter.ruleId)
  if (filter.state !== undefined) add('a.state = ?', filter.state)
  if (filter.severity !== undefined) add('a.severity = ?', filter.severity)
  if (filter.from !== undefined) add('a.first_at >= ?', filter.from)
  if (filter.to !== undefined) add('a.first_at < ?', filter.to)
  if (filter.raisedFrom !== undefined) add('a.raised_at >= ?', filter.raisedFrom)
  if (filter.raisedTo !== undefined) add('a.raised_at < ?', filter.raisedTo)
  if (filter.condition !== undefined) add('a.condition = ?', filter.condition)
  if (filter.retrospective !== undefined) add('a.retrospective = ?', Number(filter.retrospective))
  if (filter.escalated !== undefined)
    add(filter.escalated ? 'a.escalation_level > 0' : 'a.escalation_level = 0')
  if (filter.notClosed === true) add("a.state <> 'closed'")
  if (filter.reached !== undefined) add(`a.${filter.reached}_at IS NOT NULL`)
  if (filter.overdue !== undefined) {
    const { now, policy } = filter.overdue
    const within = (limits: Readonly<Record<Severity, number>>) =>
      [limits.critical, limits.alarm, limits.warning] as const
    add(
      `((a.state = 'open' AND a.raised_at + CASE a.severity WHEN 'critical' THEN ? WHEN 'alarm' THEN ? ELSE ? END < ?)
        OR (a.state = 'acknowledged' AND a.acknowledged_at + CASE a.severity WHEN 'critical' THEN ? WHEN 'alarm' THEN ? ELSE ? END < ?))`,
      ...within(policy.acknowledgeWithinMs),
      now,
      ...within(policy.resolveWithinMs),
      now,
    )
  }
  return { clauses, params }
}

/** The sites join, only when a clause needs the region (a full report scans 100,000 rows). */
export function joinSites(clauses: readonly string[]): string {
  return clauses.some((clause) => clause.includes('s.region')) ? 'JOIN sites s ON s.id = a.site_id' : ''
}

/** "Past its deadline" over `alerts a`, the report's column (the filter's is `overdue` above). */
export function overdueExpression(policy: EscalationPolicy, nowMs: number): string {
  const bySeverity = (limits: Readonly<Record<Severity, number>>) =>
    `CASE a.severity WHEN 'critical' THEN ${sqlInteger(limits.critical)} WHEN 'alarm' THEN ${sqlInteger(limits.alarm)} ELSE ${sqlInteger(limits.warning)} END`
  const now = sqlInteger(nowMs)
  return `(a.state = 'open' AND a.raised_at + ${bySeverity(policy.acknowledgeWithinMs)} < ${now})
    OR (a.state = 'acknowledged' AND a.acknowledged_at + ${bySeverity(policy.resolveWithinMs)} < ${now})`
}

/** A number inlined into SQL: only ever a finite integer (config values, clock readings). */
export function sqlInteger(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`)
  return String(Math.trunc(value))
}

/**
 * What a report groups by, over `alerts a`; `localDay` turns the raise time shifted to local
 * time (epoch milliseconds, an SQL expression) into its calendar day in the store's dialect.
 */
export function groupExpression(
  groupBy: Grouping,
  utcOffsetMinutes: number,
  localDay: (localMs: string) => string,
): string {
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
      return localDay(`(a.raised_at + ${sqlInteger(utcOffsetMinutes * 60_000)})`)
  }
}

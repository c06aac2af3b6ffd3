export const groupings = ['site', 'rule', 'severity', 'device', 'day'] as const
export type Grouping = (typeof groupings)[number]

/** p50 and p90 of a duration, by nearest rank; null when nothing was measured. */
export interface Percentiles {
  readonly n: number
  readonly p50Ms: number | null
  readonly p90Ms: number | null
}

/**
 * What the store counts per group over the alerts raised in the period (DOMAIN.md §3):
 * - acknowledged / resolved / closed: alerts that have reached that step (a closed alert counts
 *   as acknowledged and resolved too); open: not closed; escalated: at least once;
 * - overdue: at report time still open past its acknowledge deadline, or acknowledged and
 *   unresolved past its resolve deadline;
 * - repeats: alerts raised on a key (site, device, rule, subject) that already had one;
 * - times to acknowledge and to close: p50 and p90 by nearest rank (a time some alert really
 *   took), never means.
 */
export interface GroupTally {
  readonly key: string
  readonly raised: number
  readonly acknowledged: number
  readonly resolved: number
  readonly closed: number
  readonly open: number
  readonly overdue: number
  readonly escalated: number
  readonly retrospective: number
  readonly repeats: number
  readonly timeToAcknowledge: Percentiles
  readonly timeToClose: Percentiles
}

/** A site's or a device's monitoring over the period (groupBy site or device). */
export interface DeviceFigures {
  readonly devices: number
  /** Devices connected when the report was made, and their share. */
  readonly onlineNow: number
  readonly onlineRatio: number | null
  /** Telemetry readings with event time in the period, by whole hours. */
  readonly readingsReceived: number
  /** What the devices' intervals promise over the period (crane 30 s, pit 15 min by default). */
  readonly readingsExpected: number
  /** received ÷ expected, at most 1. */
  readonly completeness: number | null
}

/** An incidents query, as query-string fields. */
export type AlertFilterQuery = Readonly<Record<string, string>>

export type SummaryGroup = GroupTally & {
  readonly monitoring: DeviceFigures | null
  /** acknowledged ÷ raised, closed ÷ raised (null without alerts). */
  readonly acknowledgeRate: number | null
  readonly closeRate: number | null
  /** The incidents filter behind each figure: `GET /api/incidents?…` lists those alerts. */
  readonly drillDown: Readonly<Record<string, AlertFilterQuery>>
}

const emptyTally = (key: string): GroupTally => ({
  key,
  raised: 0,
  acknowledged: 0,
  resolved: 0,
  closed: 0,
  open: 0,
  overdue: 0,
  escalated: 0,
  retrospective: 0,
  repeats: 0,
  timeToAcknowledge: { n: 0, p50Ms: null, p90Ms: null },
  timeToClose: { n: 0, p50Ms: null, p90Ms: null },
})

/**
 * The report's groups, in key order: the store's tallies with rates, monitoring and the
 * drill-down queries added; groups that only `monitoring` names (a silent site) appear too.
 */
export function buildSummary(
  tallies: readonly GroupTally[],
  options: {
    readonly groupBy: Grouping
    readonly utcOffsetMinutes: number
    /** The query that selected the alerts (period, narrowing), repeated in every drill-down. */
    readonly base: AlertFilterQuery
    readonly monitoring?: ReadonlyMap<string, DeviceFigures>
  },
): SummaryGroup[] {
  const byKey = new Map(tallies.map((tally) => [tally.key, tally]))
  for (const key of options.monitoring?.keys() ?? []) if (!byKey.has(key)) byKey.set(key, emptyTally(key))
  return [...byKey.values()]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((tally) => {
      const scope = {
        ...options.base,
        ...groupQuery(options.groupBy, tally.key, options.utcOffsetMinutes, options.base),
      }
      return {
        ...tally,
        monitoring: options.monitoring?.get(tally.key) ?? null,
        acknowledgeRate: tally.raised === 0 ? null : tally.acknowledged / tally.raised,
        closeRate: tally.raised === 0 ? null : tally.closed / tally.raised,
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

/** The calendar day of `ms` at a fixed UTC offset (China: +480 minutes), as YYYY-MM-DD. */
export function dayOf(ms: number, utcOffsetMinutes: number): string {
  return new Date(ms + utcOffsetMinutes * 60_000).toISOString().slice(0, 10)
}

/**
 * Monitoring figures of a set of devices over a period. A device is expected to report only from
 * when it was created (or, if earlier, from its first reading: a backfill from before it was
 * registered): a crane added an hour ago is not missing the 23 hours before it existed.
 */
export function deviceFigures(
  devices: readonly {
    readonly id: string
    readonly kind: 'crane' | 'pit'
    readonly online: boolean
    readonly createdAt: string
  }[],
  received: ReadonlyMap<string, number>,
  /** A device's reporting interval: its own setting, or its kind's (a daily survey is not 15 min). */
  expectedIntervalMs: (device: { readonly id: string; readonly kind: 'crane' | 'pit' }) => number,
  period: { readonly from: number; readonly to: number },
  firstReadingAt: ReadonlyMap<string, number> = new Map(),
): DeviceFigures {
  const onlineNow = devices.filter((d) => d.online).length
  const readingsReceived = devices.reduce((sum, d) => sum + (received.get(d.id) ?? 0), 0)
  const expectedOf = (d: (typeof devices)[number]) => {
    const created = Date.parse(d.createdAt) || period.from
    // Readings are counted per hour: only a first hour before the creation's is a real backfill.
    const first = firstReadingAt.get(d.id)
    const backfilled = first !== undefined && first < Math.floor(created / 3_600_000) * 3_600_000
    const since = Math.max(period.from, backfilled ? first : created)
    // An interval begun is one reading expected (a daily survey registered this morning owes one).
    return Math.max(0, Math.ceil((period.to - since) / expectedIntervalMs(d)))
  }
  const readingsExpected = devices.reduce((sum, d) => sum + expectedOf(d), 0)
  return {
    devices: devices.length,
    onlineNow,
    onlineRatio: devices.length === 0 ? null : onlineNow / devices.length,
    readingsReceived,
    readingsExpected,
    completeness: readingsExpected === 0 ? null : Math.min(1, readingsReceived / readingsExpected),
  }
}

/**
 * Nearest-rank percentile of sorted values: the value at rank ⌈p × n / 100⌉, so every figure is a
 * time some alert really took (no interpolation); null for no values.
 */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1] ?? null
}

import type { Rule } from '../domain/rules.js'
import type { PointSettings } from '../domain/settings.js'
import { alertKey } from '../rules/pipeline.js'
import { initialThresholdState, type ThresholdState } from '../rules/threshold.js'

/**
 * What the rule engine resumes from besides its saved state, after a restart: the live breaches
 * in progress (the only state a store from before migration v5 has), and the devices whose
 * silence was already raised (their data-gap watch resumes as raised, so their return clears it).
 */
export function restartSeeds(
  rules: readonly Rule[],
  activeBreaches: readonly {
    siteId: string
    deviceId: string
    ruleId: string
    subject: string
    severity: ThresholdState['active']
    peakValue: number | null
  }[],
): { seeds: Map<string, ThresholdState>; openGapDevices: Set<string> } {
  const seeds = new Map<string, ThresholdState>()
  const openGapDevices = new Set<string>()
  const gapRules = new Set(rules.filter((rule) => rule.condition.kind === 'data_gap').map((rule) => rule.id))
  for (const breach of activeBreaches) {
    if (gapRules.has(breach.ruleId)) openGapDevices.add(breach.deviceId)
    const key = alertKey(breach.siteId, breach.deviceId, breach.ruleId, breach.subject)
    seeds.set(key, { ...initialThresholdState(), active: breach.severity, peak: breach.peakValue })
  }
  return { seeds, openGapDevices }
}

/**
 * Pit points with an expected interval of their own: their silence is watched from the start, from
 * the last reading of each device measuring them (a survey point that never comes back is a gap).
 */
/** A pit point watched for silence on its own interval, from the last reading of its device. */
export interface PointWatch {
  readonly siteId: string
  readonly deviceId: string
  readonly kind: 'pit'
  readonly pointCode: string
  readonly expectedIntervalMs: number
  readonly lastSeenAt: number | null
}

export function pointWatches(
  settings: { pointSettings(): PointSettings[] },
  pitSeries: readonly { siteId: string; deviceId: string; pointCode: string; lastTs: number | null }[],
): PointWatch[] {
  const intervals = new Map(
    settings
      .pointSettings()
      .filter((point) => point.expectedIntervalMs !== null)
      .map((point) => [`${point.siteId}|${point.pointCode}`, point.expectedIntervalMs as number]),
  )
  if (intervals.size === 0) return []
  const watches = new Map<string, PointWatch>()
  for (const series of pitSeries) {
    const interval = intervals.get(`${series.siteId}|${series.pointCode}`)
    if (interval === undefined) continue
    const key = `${series.siteId}|${series.deviceId}|${series.pointCode}`
    const last = watches.get(key)?.lastSeenAt ?? null
    // Silence counts from the newest reading of the point (event time stands in for arrival).
    const lastSeenAt = series.lastTs === null ? last : Math.max(last ?? 0, series.lastTs)
    watches.set(key, {
      siteId: series.siteId,
      deviceId: series.deviceId,
      kind: 'pit',
      pointCode: series.pointCode,
      expectedIntervalMs: interval,
      lastSeenAt,
    })
  }
  return [...watches.values()]
}

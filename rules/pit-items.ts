import { pointSubject } from '../domain/pit-series.js'
import type { PitPointReading } from '../domain/reading.js'
import type { PitDropCondition, Rule } from '../domain/rules.js'
import { type PitCondition, type PitContext, resolvePitLimits } from './pit-limits.js'
import { applyOverride, type ItemContext, type WorkItem } from './work-items.js'

/**
 * Pit readings against the item's rules (GB 50497-2019 §8.0.3–8.0.5, §8.0.9): cumulative change,
 * rate per day over the rate window, the value against design values, a force that collapsed, the
 * differential settlement against the paired point. An inclinometer's depths are series of their
 * own: the subject is `point@depth`.
 */
export function pitItems(context: ItemContext, points: readonly PitPointReading[]): WorkItem[] {
  const { reading, environment, index } = context
  const items: WorkItem[] = []
  for (const point of points) {
    const rules = index.pitByItem.get(point.item)
    if (rules === undefined) continue
    let pit: PitContext | undefined
    for (const rule of rules) {
      // A failure in one rule is reported under its key and ends nothing else (ARCHITECTURE.md §3).
      try {
        pit ??= environment.pitContext(reading.siteId, point.pointCode)
        const item = pointItem(context, rule, point, pit)
        if (item !== null) items.push(item)
      } catch (error) {
        environment.onKeyError(`${reading.siteId}|${reading.deviceId}|${rule.id}`, error)
      }
    }
  }
  return items
}

function pointItem(
  context: ItemContext,
  rule: Rule,
  point: PitPointReading,
  pit: PitContext,
): WorkItem | null {
  const condition = rule.condition
  if (!isPitCondition(condition)) return null
  const resolved = resolvePitLimits(condition, pit, point.item)
  if ('skip' in resolved) return null
  let raw: number | null
  switch (resolved.measure) {
    case 'cumulative':
      raw = point.cumulative
      break
    case 'rate':
      raw = point.ratePerDay
      break
    case 'value':
      raw = point.value
      break
    case 'drop':
      raw = dropPct(point, pit, condition as PitDropCondition)
      break
    case 'differential': {
      const pair =
        context.environment.pairCumulative?.(context.reading.siteId, pit.pairPointCode ?? '') ?? null
      raw = pair === null ? null : point.cumulative - pair
      break
    }
  }
  if (raw === null) return null
  const override = context.override(rule)
  if (override?.settings.enabled === false) return null
  return {
    ...context.base(
      rule,
      pointSubject(point.pointCode, point.depthM),
      override === undefined ? resolved.origin : `${override.origin} (over ${resolved.origin})`,
    ),
    kind: 'threshold',
    sample: { ts: context.reading.ts, value: resolved.magnitude ? Math.abs(raw) : raw },
    limits: applyOverride(resolved.limits, override?.settings),
  }
}

const isPitCondition = (condition: Rule['condition']): condition is PitCondition =>
  condition.kind.startsWith('pit_')

/**
 * The share of its force a strut or anchor lost (GB 50497-2019 §8.0.9: breaking, slackening,
 * pulling out): against the larger of the previous reading and the one a rate window back.
 */
function dropPct(point: PitPointReading, pit: PitContext, condition: PitDropCondition): number | null {
  const references = [point.previousValue, point.referenceValue].filter(
    (v): v is number => v !== null && v !== undefined,
  )
  if (references.length === 0) return null
  const reference = Math.max(...references.map(Math.abs))
  const design = pit.capacity ?? pit.prestress ?? pit.designValue ?? null
  // A strut being preloaded, or a gauge at zero: no force to lose yet.
  if (reference === 0 || (design !== null && reference < condition.minReferenceFraction * design)) return 0
  return Math.max(0, ((reference - Math.abs(point.value)) / reference) * 100)
}

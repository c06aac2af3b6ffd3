import { type LoadChart, momentPctFromChart } from '../domain/load-chart.js'
import type { Reading } from '../domain/reading.js'
import { type Rule, type Severity, severities, type ThresholdCondition } from '../domain/rules.js'
import type { RuleOverrideSettings } from '../domain/settings.js'
import type { GapInput } from './data-gap.js'
import type { RuleEnvironment } from './pipeline.js'
import { type PitCondition, resolvePitLimits } from './pit-limits.js'
import type { Sample, ThresholdLimits } from './threshold.js'

/**
 * What a reading means to each rule: the work items the pipeline evaluates per key. Pure: the
 * only state is the crane's last known mode, which the caller keeps.
 */

/** The key of one alert: site, device, rule, subject (none of the ids may contain "|"). */
export const alertKey = (siteId: string, deviceId: string, ruleId: string, subject: string) =>
  `${siteId}|${deviceId}|${ruleId}|${subject}`

export type ThresholdItem = KeyInfo & {
  readonly kind: 'threshold'
  readonly sample: Sample
  readonly limits: ThresholdLimits
}
export type EventItem = KeyInfo & { readonly kind: 'event'; readonly severity: Severity; readonly ts: number }
export type GapItem = KeyInfo & { readonly kind: 'gap' } & GapInput
export type WorkItem = ThresholdItem | EventItem | GapItem

export interface KeyInfo {
  readonly key: string
  readonly siteId: string
  readonly deviceId: string
  readonly ruleId: string
  readonly subject: string
  readonly origin: string
  readonly retrospective: boolean
}

export function workItems(
  reading: Reading,
  rules: readonly Rule[],
  environment: RuleEnvironment,
  modes: Map<string, string>,
): WorkItem[] {
  const { siteId, deviceId } = reading
  const retrospective = reading.receivedAt - reading.ts > environment.lateAfterMs
  const items: WorkItem[] = []
  const base = (rule: Rule, subject: string, origin: string): KeyInfo => ({
    key: alertKey(siteId, deviceId, rule.id, subject),
    siteId,
    deviceId,
    ruleId: rule.id,
    subject,
    origin,
    retrospective,
  })
  // The crane's mode persists between readings that do not repeat it (wind limits depend on it).
  if (reading.kind === 'crane' && reading.channel === 'telemetry' && reading.data.mode !== undefined)
    modes.set(deviceId, reading.data.mode)
  for (const rule of rules) {
    try {
      items.push(...ruleItems(rule, reading, base, environment, modes))
    } catch (error) {
      environment.onKeyError(`${siteId}|${deviceId}|${rule.id}`, error)
    }
  }
  return items
}

/** What one rule makes of one reading. */
function ruleItems(
  rule: Rule,
  reading: Reading,
  base: (rule: Rule, subject: string, origin: string) => KeyInfo,
  environment: RuleEnvironment,
  modes: Map<string, string>,
): WorkItem[] {
  const { siteId, deviceId } = reading
  const items: WorkItem[] = []
  const condition = rule.condition
  // Cheap checks first: most rules have nothing to say about most readings.
  const alarmState =
    reading.kind === 'crane' &&
    reading.channel === 'telemetry' &&
    condition.kind === 'event' &&
    reading.data.deviceAlarms !== undefined
  if (
    ((reading.channel === 'event') !== (condition.kind === 'event') && !alarmState) ||
    (reading.channel !== 'event' && reading.channel !== 'telemetry')
  ) {
    return items
  }
  const chart = reading.kind === 'crane' ? environment.loadChart?.(deviceId) : undefined
  if (
    reading.kind === 'crane' &&
    reading.channel === 'telemetry' &&
    condition.kind === 'threshold' &&
    condition.modes === undefined
  ) {
    if (craneValue(rule.subject, reading.data, chart) === undefined) return items
  }
  const override = environment.ruleOverride?.(siteId, deviceId, rule.id)
  if (override?.settings.enabled === false) return items
  if (reading.channel === 'event' && condition.kind === 'event') {
    const severity = condition.codes[reading.data.code]
    if (severity !== undefined)
      items.push({
        ...base(rule, reading.data.code, 'rule default'),
        kind: 'event',
        severity,
        ts: reading.ts,
      })
    return items
  }
  if (condition.kind === 'event' && reading.kind === 'crane' && reading.channel === 'telemetry') {
    // `deviceAlarms` is the monitor's alarm state, repeated while it lasts: a mapped code
    // breaches while listed and clears when a later list leaves it out (one alert per code,
    // the same key as the event channel's).
    const listed = new Set(reading.data.deviceAlarms ?? [])
    for (const [code, severity] of Object.entries(condition.codes)) {
      items.push({
        ...base(rule, code, 'device alarm state'),
        kind: 'threshold',
        sample: { ts: reading.ts, value: listed.has(code) ? 1 : 0 },
        limits: { direction: 'above', levels: { [severity]: 1 }, hysteresis: 0, minSamples: 1 },
      })
    }
    return items
  }
  if (reading.channel !== 'telemetry') return items
  if (condition.kind === 'data_gap') {
    items.push({
      ...base(
        rule,
        rule.subject,
        `every ${condition.expectedIntervalMs / 1000} s × ${condition.missedIntervals}`,
      ),
      kind: 'gap',
      ts: reading.ts,
    })
    return items
  }
  if (reading.kind === 'crane' && condition.kind === 'threshold') {
    const data = reading.data
    const mode = modes.get(deviceId)
    const value = craneValue(rule.subject, data, chart)
    const outOfMode =
      condition.modes !== undefined &&
      (mode === undefined || !(condition.modes as readonly string[]).includes(mode))
    if (value === undefined && !outOfMode) return items
    items.push({
      ...base(rule, rule.subject, override?.origin ?? 'rule default'),
      kind: 'threshold',
      sample: { ts: reading.ts, value: outOfMode ? null : (value ?? null) },
      limits: applyOverride(limitsOf(condition), override?.settings),
    })
    return items
  }
  if (reading.kind === 'pit' && reading.channel === 'telemetry' && isPitCondition(condition)) {
    for (const point of reading.data.points) {
      if (point.item !== rule.subject) continue
      const resolved = resolvePitLimits(condition, environment.pitContext(siteId, point.pointCode))
      if ('skip' in resolved) continue
      const raw =
        resolved.measure === 'cumulative'
          ? point.cumulative
          : resolved.measure === 'rate'
            ? point.ratePerDay
            : point.value
      if (raw === null) continue
      const value = resolved.magnitude ? Math.abs(raw) : raw
      items.push({
        ...base(
          rule,
          point.pointCode,
          override === undefined ? resolved.origin : `${override.origin} (over ${resolved.origin})`,
        ),
        kind: 'threshold',
        sample: { ts: reading.ts, value },
        limits: applyOverride(resolved.limits, override?.settings),
      })
    }
  }
  return items
}

/**
 * A crane metric, or derived when the device does not send it: load % from load and rated load,
 * moment % from load and radius through the crane's load chart.
 */
function craneValue(
  subject: string,
  data: Record<string, unknown>,
  chart: LoadChart | undefined,
): number | undefined {
  const value = data[subject]
  if (typeof value === 'number') return value
  if (
    subject === 'momentPct' &&
    chart !== undefined &&
    typeof data.loadT === 'number' &&
    typeof data.radiusM === 'number'
  ) {
    return momentPctFromChart(chart, data.loadT, data.radiusM) ?? undefined
  }
  if (
    subject === 'loadPct' &&
    typeof data.loadT === 'number' &&
    typeof data.ratedLoadT === 'number' &&
    data.ratedLoadT > 0
  ) {
    return (data.loadT / data.ratedLoadT) * 100
  }
  return undefined
}

/** A site's or device's levels over the rule's: a number replaces a level, null removes it. */
export function applyOverride(
  limits: ThresholdLimits,
  settings: RuleOverrideSettings | undefined,
): ThresholdLimits {
  if (settings === undefined) return limits
  const levels: { warning?: number; alarm?: number; critical?: number } = { ...limits.levels }
  for (const severity of severities) {
    const level = settings.levels?.[severity]
    if (level === null) delete levels[severity]
    else if (level !== undefined) levels[severity] = level
  }
  return {
    ...limits,
    levels,
    hysteresis: settings.hysteresis ?? limits.hysteresis,
    minSamples: settings.minSamples ?? limits.minSamples,
  }
}

const limitsCache = new WeakMap<ThresholdCondition, ThresholdLimits>()

function limitsOf(condition: ThresholdCondition): ThresholdLimits {
  const cached = limitsCache.get(condition)
  if (cached !== undefined) return cached
  const limits: ThresholdLimits = {
    direction: condition.direction,
    levels: condition.levels,
    hysteresis: condition.hysteresis,
    minSamples: condition.minSamples,
    minDurationMs: condition.minDurationMs,
    sustained: condition.sustained,
  }
  limitsCache.set(condition, limits)
  return limits
}

function isPitCondition(condition: Rule['condition']): condition is PitCondition {
  return (
    condition.kind === 'pit_cumulative' ||
    condition.kind === 'pit_rate' ||
    condition.kind === 'pit_design' ||
    condition.kind === 'pit_fixed'
  )
}

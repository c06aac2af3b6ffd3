import {
  asyncScheduler,
  catchError,
  concatMap,
  defer,
  EMPTY,
  groupBy,
  merge,
  mergeMap,
  Observable,
  type OperatorFunction,
  of,
  type SchedulerLike,
  Subject,
  tap,
} from 'rxjs'
import { type LoadChart, momentPctFromChart } from '../domain/load-chart.js'
import type { Reading } from '../domain/reading.js'
import {
  type DataGapCondition,
  type KeyedSignal,
  type Rule,
  type Severity,
  type Signal,
  severities,
  type ThresholdCondition,
} from '../domain/rules.js'
import type { RuleOverrideSettings } from '../domain/settings.js'
import { dataGap } from './data-gap.js'
import { type PitCondition, type PitContext, resolvePitLimits } from './pit-limits.js'
import {
  initialThresholdState,
  type Sample,
  step,
  type ThresholdLimits,
  type ThresholdState,
} from './threshold.js'

/** The key of one alert: site, device, rule, subject (none of the ids may contain "|"). */
export const alertKey = (siteId: string, deviceId: string, ruleId: string, subject: string) =>
  `${siteId}|${deviceId}|${ruleId}|${subject}`

/** A signal for one alert key (site + device + rule + subject). */
export type RuleSignal = KeyedSignal

export interface RuleEnvironment {
  /** Site grade and depth, base slab, the point's design value, for a pit point. */
  pitContext(siteId: string, pointCode: string): PitContext
  /** One key's evaluation failed: that key stops, every other key goes on. */
  onKeyError(key: string, error: unknown): void
  /** A reading received this long after its `ts` is late: what it breaches is retrospective. */
  readonly lateAfterMs: number
  readonly scheduler?: SchedulerLike
  /** A crane's load chart, to compute moment % from load and radius. */
  loadChart?(deviceId: string): LoadChart | undefined
  /** A site's or device's override of a rule, if any (the device's wins). */
  ruleOverride?(
    siteId: string,
    deviceId: string,
    ruleId: string,
  ): { readonly settings: RuleOverrideSettings; readonly origin: string } | undefined
  /** Where a key's threshold state starts (after a restart: from its active alert). */
  initialState?(key: string): ThresholdState | undefined
}

type ThresholdItem = KeyInfo & {
  readonly kind: 'threshold'
  readonly sample: Sample
  readonly limits: ThresholdLimits
}
type EventItem = KeyInfo & { readonly kind: 'event'; readonly severity: Severity; readonly ts: number }
type GapItem = KeyInfo & { readonly kind: 'gap'; readonly ts: number }
type WorkItem = ThresholdItem | EventItem | GapItem

interface KeyInfo {
  readonly key: string
  readonly siteId: string
  readonly deviceId: string
  readonly ruleId: string
  readonly subject: string
  readonly origin: string
  readonly retrospective: boolean
}

/**
 * The rule engine: readings in, signals out, per key in event order (CONTRACT §4, DOMAIN.md).
 * Pure RxJS: the only clock is the injected scheduler (data gaps), the only knowledge of the
 * world comes through `RuleEnvironment`.
 */
export function evaluateRules(
  rules: readonly Rule[],
  environment: RuleEnvironment,
): OperatorFunction<Reading, RuleSignal> {
  const scheduler = environment.scheduler ?? asyncScheduler
  const gapConditions = new Map(
    rules.flatMap((rule) => (rule.condition.kind === 'data_gap' ? [[rule.id, rule.condition] as const] : [])),
  )
  const rulesByKind = new Map(
    ['crane', 'pit'].map((kind) => [kind, rules.filter((rule) => rule.deviceKind === kind)]),
  )
  return (readings) =>
    defer(() => {
      const modes = new Map<string, string>()
      // Threshold and event keys: their state in a map, evaluated as each reading arrives.
      const states = new Map<string, ThresholdState>()
      const failed = new Set<string>()
      const gaps = new Subject<GapItem>()
      const silences = gaps.pipe(
        groupBy((item) => item.key),
        mergeMap((group) => {
          const condition = gapConditions.get(group.key.split('|')[2] ?? '')
          if (condition === undefined) return EMPTY
          return watchSilence(group, condition, scheduler).pipe(
            catchError((error: unknown) => {
              environment.onKeyError(group.key, error)
              return EMPTY
            }),
          )
        }),
      )
      const breaches = new Observable<RuleSignal>((subscriber) =>
        readings.subscribe({
          next: (reading) => {
            for (const item of workItems(reading, rulesByKind.get(reading.kind) ?? [], environment, modes)) {
              if (item.kind === 'gap') {
                gaps.next(item)
                continue
              }
              // A failure in one key is reported once and ends that key only (ARCHITECTURE.md §3).
              if (failed.has(item.key)) continue
              let out: RuleSignal[]
              try {
                out = evaluateBreach(item, states, environment)
              } catch (error) {
                failed.add(item.key)
                environment.onKeyError(item.key, error)
                continue
              }
              for (const signal of out) subscriber.next(signal)
            }
          },
          error: (error: unknown) => {
            gaps.error(error)
            subscriber.error(error)
          },
          complete: () => {
            gaps.complete()
            subscriber.complete()
          },
        }),
      )
      return merge(silences, breaches)
    })
}

/** One threshold or event item against its key's state. */
function evaluateBreach(
  item: ThresholdItem | EventItem,
  states: Map<string, ThresholdState>,
  environment: RuleEnvironment,
): RuleSignal[] {
  if (item.kind === 'event') {
    return [
      tag(item, { type: 'raise', severity: item.severity, value: 1, threshold: 1, ts: item.ts }),
      tag(item, { type: 'clear', value: null, ts: item.ts }),
    ]
  }
  const state = states.get(item.key) ?? environment.initialState?.(item.key) ?? initialThresholdState()
  const next = step(item.limits, state, item.sample)
  states.set(item.key, next.state)
  return next.out.length === 0 ? [] : next.out.map((signal) => tag(item, signal))
}

const tag = (item: KeyInfo, signal: Signal, retrospective = item.retrospective): RuleSignal => ({
  siteId: item.siteId,
  deviceId: item.deviceId,
  ruleId: item.ruleId,
  subject: item.subject,
  origin: item.origin,
  signal,
  retrospective,
})

/** Silence of one device, timed by the scheduler; never from late data (DOMAIN.md §3). */
function watchSilence(
  items: Observable<GapItem>,
  condition: DataGapCondition,
  scheduler: SchedulerLike,
): Observable<RuleSignal> {
  return defer(() => {
    let latest: KeyInfo | null = null
    return items.pipe(
      tap((item) => {
        latest = item
      }),
      dataGap(condition, scheduler),
      concatMap((signal) => (latest === null ? EMPTY : of(tag(latest, signal, false)))),
    )
  })
}

function workItems(
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
  if (
    (reading.channel === 'event') !== (condition.kind === 'event') ||
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

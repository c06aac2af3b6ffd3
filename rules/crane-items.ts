import { type LoadChart, momentPctFromChart } from '../domain/load-chart.js'
import { atResolution, type CraneCycle, type CraneTelemetry } from '../domain/payloads.js'
import type {
  CraneLimitCondition,
  CraneSlewSectorCondition,
  Rule,
  RuleMode,
  ThresholdCondition,
} from '../domain/rules.js'
import type { DeviceSettingsValues } from '../domain/settings.js'
import type { ThresholdLimits } from './threshold.js'
import { applyOverride, type ItemContext, limitsOf, type WorkItem } from './work-items.js'

/** Crane values are compared at 0.01 (m, m/s, %): a derived 109.99999999999999 % is 110 %. */
const craneResolution = 0.01

/**
 * Live crane telemetry against every crane rule that reads a metric: thresholds, the crane's
 * own limits (hook height, radius, forbidden slew sectors). A rule limited to modes applies while
 * the crane is in one of them; a crane that never says its mode is `unreported`, and the working
 * limits apply to it (DOMAIN.md §4: many monitors never report a mode).
 */
export function craneTelemetryItems(context: ItemContext, data: CraneTelemetry): WorkItem[] {
  const { reading, environment, memory, outOfOrder } = context
  const deviceId = reading.deviceId
  const modes = outOfOrder ? memory.lateModes : memory.modes
  if (data.mode !== undefined && modes.get(deviceId) !== data.mode) modes.set(deviceId, data.mode)
  const mode = (modes.get(deviceId) ?? 'unreported') as RuleMode
  const chart = environment.loadChart?.(deviceId)
  const settings = environment.deviceSettings?.(deviceId)
  const items: WorkItem[] = []
  for (const rule of context.index.craneTelemetry) {
    const condition = rule.condition
    const judged = judge(rule, data, chart, settings)
    if (judged === undefined) continue
    const outOfMode =
      'modes' in condition &&
      condition.modes !== undefined &&
      !(condition.modes as readonly string[]).includes(mode)
    if (judged.value === undefined && !outOfMode) continue
    const override = context.override(rule)
    if (override?.settings.enabled === false) continue
    items.push(
      context.threshold(
        rule,
        rule.subject,
        override?.origin ?? judged.origin,
        { ts: reading.ts, value: outOfMode ? null : (judged.value ?? null) },
        applyOverride(judged.limits, override?.settings),
      ),
    )
  }
  return items
}

/**
 * A work cycle (one lift, the black-box record of JGJ 332-2014): its peaks go through the crane
 * rules that name a `cycleField`, as a lift in work mode. A lift's peak is a breach even when the
 * live telemetry missed it; a lift under the limits says nothing about the present.
 */
export function craneCycleItems(context: ItemContext, cycle: CraneCycle): WorkItem[] {
  const { reading, environment } = context
  const settings = environment.deviceSettings?.(reading.deviceId)
  const chart = environment.loadChart?.(reading.deviceId)
  const items: WorkItem[] = []
  for (const rule of context.index.craneCycle) {
    const condition = rule.condition
    if (condition.kind !== 'threshold' || condition.cycleField === undefined) continue
    if (condition.modes !== undefined && !condition.modes.includes('work')) continue
    const value = cycleValue(condition.cycleField, cycle, settings, chart)
    if (value === undefined) continue
    const override = context.override(rule)
    if (override?.settings.enabled === false) continue
    items.push({
      ...context.base(rule, rule.subject, override?.origin ?? 'rule default'),
      kind: 'peak',
      sample: { ts: reading.ts, value },
      limits: applyOverride(craneLimitsOf(condition), override?.settings),
      basis: `peak of lift ${cycle.cycleNo} (${condition.cycleField}, operator ${cycle.operatorId})`,
    })
  }
  return items
}

function cycleValue(
  field: 'maxMomentPct' | 'maxLoadPct' | 'maxWindMps',
  cycle: CraneCycle,
  settings: DeviceSettingsValues | undefined,
  chart: LoadChart | undefined,
): number | undefined {
  if (field === 'maxMomentPct') return cycle.maxMomentPct
  if (field === 'maxWindMps') return cycle.maxWindMps
  // No radius in a cycle record: the crane's maximum rated load is the most it may ever lift.
  const capacity =
    settings?.ratedCapacityT ??
    (chart === undefined ? undefined : Math.max(...chart.map((p) => p.ratedLoadT)))
  return capacity === undefined ? undefined : atResolution((cycle.maxLoadT / capacity) * 100, craneResolution)
}

/** A rule's value and limits for one reading; undefined when the rule cannot apply to this crane. */
function judge(
  rule: Rule,
  data: CraneTelemetry,
  chart: LoadChart | undefined,
  settings: DeviceSettingsValues | undefined,
): { value: number | undefined; limits: ThresholdLimits; origin: string } | undefined {
  const condition = rule.condition
  switch (condition.kind) {
    case 'threshold':
      return {
        value: craneValue(rule.subject, data, chart),
        limits: craneLimitsOf(condition),
        origin: 'rule default',
      }
    case 'crane_limit':
    case 'crane_slew_sector': {
      const own = craneSettingLimits(condition, settings)
      if ('needs' in own) return undefined
      const value =
        condition.kind === 'crane_limit'
          ? data[rule.subject as 'hookHeightM' | 'radiusM']
          : data.slewDeg === undefined
            ? undefined
            : degreesIntoSectors(data.slewDeg, settings?.forbiddenSlewSectors ?? [])
      return { value, ...own }
    }
    default:
      return undefined
  }
}

const craneLimits = new WeakMap<ThresholdCondition, ThresholdLimits>()

/** A crane threshold's limits at the crane resolution, built once per rule (every reading uses them). */
function craneLimitsOf(condition: ThresholdCondition): ThresholdLimits {
  let limits = craneLimits.get(condition)
  if (limits === undefined) {
    limits = { ...limitsOf(condition), resolution: craneResolution }
    craneLimits.set(condition, limits)
  }
  return limits
}

/**
 * The levels of a rule that reads a crane's own settings (height, radius, slew sectors), or what it
 * needs when the crane has none: the rule list and the pipeline ask the same question here.
 */
export function craneSettingLimits(
  condition: CraneLimitCondition | CraneSlewSectorCondition,
  settings: DeviceSettingsValues | undefined,
): SettingLimits {
  // Asked for every rule on every reading: built once per crane settings (a settings change
  // brings a new object) and rule, not a string and a regex each time.
  const key = settings ?? noSettings
  let byCondition = settingLimitsCache.get(key)
  if (byCondition === undefined) {
    byCondition = new WeakMap()
    settingLimitsCache.set(key, byCondition)
  }
  let limits = byCondition.get(condition)
  if (limits === undefined) {
    limits = buildSettingLimits(condition, settings)
    byCondition.set(condition, limits)
  }
  return limits
}

type SettingLimits =
  | { readonly limits: ThresholdLimits; readonly origin: string }
  | { readonly needs: string }
const noSettings: DeviceSettingsValues = {}
const settingLimitsCache = new WeakMap<
  DeviceSettingsValues,
  WeakMap<CraneLimitCondition | CraneSlewSectorCondition, SettingLimits>
>()

function buildSettingLimits(
  condition: CraneLimitCondition | CraneSlewSectorCondition,
  settings: DeviceSettingsValues | undefined,
): SettingLimits {
  if (condition.kind === 'crane_slew_sector') {
    const sectors = settings?.forbiddenSlewSectors
    if (sectors === undefined || sectors.length === 0)
      return { needs: "the crane's forbidden slew sectors (device set --forbidden-slew FROM-TO)" }
    return {
      limits: {
        direction: 'above',
        levels: { warning: -condition.warningMarginDeg, alarm: 0 },
        hysteresis: condition.hysteresisDeg,
        minSamples: condition.minSamples,
        resolution: craneResolution,
      },
      origin: `forbidden slew sectors ${sectors.map((s) => `${s.fromDeg}°–${s.toDeg}°`).join(', ')}`,
    }
  }
  const limit = settings?.[condition.setting]
  if (limit === undefined) {
    const flag = condition.setting.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
    return { needs: `the crane's ${condition.setting} (device set --${flag})` }
  }
  const margin = condition.warningMargin
  const warning = condition.direction === 'above' ? limit - margin : limit + margin
  const warns = margin > 0 && warning > 0
  return {
    limits: {
      direction: condition.direction,
      levels: warns ? { warning, alarm: limit } : { alarm: limit },
      hysteresis: condition.hysteresis,
      minSamples: condition.minSamples,
      resolution: craneResolution,
    },
    origin: `crane setting ${condition.setting}: ${limit}`,
  }
}

/**
 * How far the jib is inside the nearest forbidden sector, in degrees; negative: outside, by the
 * distance to the nearest sector's edge. Sectors run clockwise from `fromDeg` to `toDeg`.
 */
export function degreesIntoSectors(
  slewDeg: number,
  sectors: readonly { fromDeg: number; toDeg: number }[],
): number {
  const norm = (deg: number) => ((deg % 360) + 360) % 360
  let best = Number.NEGATIVE_INFINITY
  for (const { fromDeg, toDeg } of sectors) {
    const width = norm(toDeg - fromDeg)
    const along = norm(slewDeg - fromDeg)
    const depth = along <= width ? Math.min(along, width - along) : -Math.min(along - width, 360 - along)
    if (depth > best) best = depth
  }
  return atResolution(best, craneResolution)
}

/**
 * A crane metric, or derived when the device does not send it: load % from load and rated load,
 * moment % from load and radius through the crane's load chart.
 */
export function craneValue(
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
    const pct = momentPctFromChart(chart, data.loadT, data.radiusM)
    return pct === null ? undefined : atResolution(pct, craneResolution)
  }
  if (
    subject === 'loadPct' &&
    typeof data.loadT === 'number' &&
    typeof data.ratedLoadT === 'number' &&
    data.ratedLoadT > 0
  ) {
    return atResolution((data.loadT / data.ratedLoadT) * 100, craneResolution)
  }
  return undefined
}

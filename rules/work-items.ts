import type { Reading } from '../domain/reading.js'
import { type Rule, type Severity, severities, type ThresholdCondition } from '../domain/rules.js'
import type { RuleOverrideSettings } from '../domain/settings.js'
import { codeItems } from './code-items.js'
import { craneCycleItems, craneTelemetryItems } from './crane-items.js'
import type { GapInput } from './data-gap.js'
import type { RuleEnvironment } from './pipeline.js'
import { pitItems } from './pit-items.js'
import type { RuleIndex } from './rule-index.js'
import type { Sample, ThresholdLimits } from './threshold.js'

/**
 * What a reading means to each rule: the work items the pipeline evaluates per key. Pure but for
 * `RuleMemory`, which the pipeline keeps.
 */

/** The key of one alert: site, device, rule, subject (none of the ids may contain "|"). */
export const alertKey = (siteId: string, deviceId: string, ruleId: string, subject: string) =>
  `${siteId}|${deviceId}|${ruleId}|${subject}`

export type ThresholdItem = KeyInfo & {
  readonly kind: 'threshold'
  readonly sample: Sample
  readonly limits: ThresholdLimits
}
/** A recorded peak (a lift's maximum): a breach by itself, never evidence of safety. */
export type PeakItem = KeyInfo & {
  readonly kind: 'peak'
  readonly sample: { readonly ts: number; readonly value: number }
  readonly limits: ThresholdLimits
  readonly basis: string
}
export type EventItem = KeyInfo & { readonly kind: 'event'; readonly severity: Severity; readonly ts: number }
export type GapItem = KeyInfo & { readonly kind: 'gap'; readonly limitMs?: number | undefined } & GapInput
export type WorkItem = ThresholdItem | PeakItem | EventItem | GapItem

export interface KeyInfo {
  readonly key: string
  readonly siteId: string
  readonly deviceId: string
  readonly ruleId: string
  readonly subject: string
  readonly origin: string
  readonly retrospective: boolean
}

/** At most this many distinct unknown codes get alerts of their own per device; the rest share one. */
export const maxUnknownCodesPerDevice = 32
export const otherUnknownCodes = '*'
const recentCyclesPerDevice = 16

/** What the rules remember beyond threshold state: modes and the unknown codes a monitor lists. */
export class RuleMemory {
  /** A crane's mode as its live readings last said it (wind limits depend on it). */
  readonly modes: Map<string, string>
  /** The mode backfilled readings last said, apart from the live one. */
  readonly lateModes = new Map<string, string>()
  /** Unknown codes a device's `deviceAlarms` lists right now (they clear when left out). */
  readonly listedUnknown = new Map<string, Set<string>>()
  private readonly unknownSeen = new Map<string, Set<string>>()
  /** The last lift records judged per device: a resent one (no seq, a lost PUBACK) counts once. */
  private readonly cyclesSeen = new Map<string, string[]>()

  constructor(modes: ReadonlyMap<string, string> = new Map()) {
    this.modes = new Map(modes)
  }

  /** Whether this lift (its number and end) was judged already; remembers it if not. */
  cycleJudged(deviceId: string, cycleNo: number, ts: number): boolean {
    const key = `${cycleNo}|${ts}`
    const seen = this.cyclesSeen.get(deviceId) ?? []
    if (seen.includes(key)) return true
    seen.push(key)
    if (seen.length > recentCyclesPerDevice) seen.shift()
    this.cyclesSeen.set(deviceId, seen)
    return false
  }

  /** The subject an unknown code is raised under: the code, until a device has sent too many. */
  unknownSubject(deviceId: string, code: string): string {
    let seen = this.unknownSeen.get(deviceId)
    if (seen === undefined) {
      seen = new Set()
      this.unknownSeen.set(deviceId, seen)
    }
    if (seen.has(code)) return code
    if (seen.size >= maxUnknownCodesPerDevice) return otherUnknownCodes
    seen.add(code)
    return code
  }
}

export interface ItemContext {
  readonly reading: Reading
  readonly environment: RuleEnvironment
  readonly memory: RuleMemory
  readonly index: RuleIndex
  /** Older than what the device already sent: evaluated in a lane of its own. */
  readonly outOfOrder: boolean
  readonly base: (rule: Rule, subject: string, origin: string) => KeyInfo
  /** A threshold item built in one object (`{ ...base(), … }` built two, for every rule and reading). */
  readonly threshold: (
    rule: Rule,
    subject: string,
    origin: string,
    sample: Sample,
    limits: ThresholdLimits,
  ) => ThresholdItem
  /** A silence watch's item, likewise in one object. */
  readonly gap: (rule: Rule, subject: string, origin: string, limitMs: number) => GapItem
  /** A rule's override for this reading's device, or undefined; `enabled: false` switches it off. */
  readonly override: (
    rule: Rule,
  ) => { readonly settings: RuleOverrideSettings; readonly origin: string } | undefined
}

export function workItems(
  reading: Reading,
  index: RuleIndex,
  environment: RuleEnvironment,
  memory: RuleMemory,
  outOfOrder = false,
): WorkItem[] {
  const { siteId, deviceId } = reading
  const retrospective = reading.receivedAt - reading.ts > environment.lateAfterMs
  const context: ItemContext = {
    reading,
    environment,
    memory,
    index,
    outOfOrder,
    base: (rule, subject, origin) => ({
      key: alertKey(siteId, deviceId, rule.id, subject),
      siteId,
      deviceId,
      ruleId: rule.id,
      subject,
      origin,
      retrospective,
    }),
    threshold: (rule, subject, origin, sample, limits) => ({
      key: alertKey(siteId, deviceId, rule.id, subject),
      siteId,
      deviceId,
      ruleId: rule.id,
      subject,
      origin,
      retrospective,
      kind: 'threshold',
      sample,
      limits,
    }),
    gap: (rule, subject, origin, limitMs) => ({
      key: alertKey(siteId, deviceId, rule.id, subject),
      siteId,
      deviceId,
      ruleId: rule.id,
      subject,
      origin,
      retrospective,
      kind: 'gap',
      ts: reading.ts,
      limitMs,
    }),
    override: (rule) => environment.ruleOverride?.(siteId, deviceId, rule.id),
  }
  const guarded = (what: string, build: () => WorkItem[]): WorkItem[] => {
    try {
      return build()
    } catch (error) {
      environment.onKeyError(`${siteId}|${deviceId}|${what}`, error)
      return []
    }
  }
  switch (reading.channel) {
    case 'event':
      return guarded('event', () => codeItems(context, [reading.data.code], 'event'))
    case 'cycle':
      if (memory.cycleJudged(deviceId, reading.data.cycleNo, reading.ts)) return []
      return guarded('cycle', () => [
        ...craneCycleItems(context, reading.data),
        ...codeItems(context, reading.data.violations ?? [], 'violation'),
      ])
    case 'telemetry': {
      const items: WorkItem[] = gapItems(context)
      if (reading.kind === 'crane') {
        items.push(...guarded('telemetry', () => craneTelemetryItems(context, reading.data)))
        if (reading.data.deviceAlarms !== undefined) {
          const alarms = reading.data.deviceAlarms
          items.push(...guarded('deviceAlarms', () => codeItems(context, alarms, 'state')))
        }
      } else {
        items.push(...guarded('points', () => pitItems(context, reading.data.points)))
      }
      return items
    }
    case 'status':
      return []
  }
}

/** Silence watches: the device's, and a pit point's when its settings give it an interval. */
function gapItems(context: ItemContext): WorkItem[] {
  const { reading, environment, index } = context
  const items: WorkItem[] = []
  const deviceInterval = environment.deviceSettings?.(reading.deviceId)?.expectedIntervalMs
  for (const rule of index.gaps.get(reading.kind) ?? []) {
    if (rule.condition.kind !== 'data_gap' || context.override(rule)?.settings.enabled === false) continue
    const { missedIntervals } = rule.condition
    const interval = deviceInterval ?? rule.condition.expectedIntervalMs
    const origin = gapOrigin(interval, missedIntervals, deviceInterval !== undefined)
    items.push(context.gap(rule, rule.subject, origin, interval * missedIntervals))
    if (reading.kind !== 'pit' || reading.channel !== 'telemetry') continue
    for (const point of reading.data.points) {
      const pointInterval = environment.pointInterval?.(reading.siteId, point.pointCode)
      if (pointInterval === null || pointInterval === undefined) continue
      const origin = `point ${point.pointCode}: ${gapOrigin(pointInterval, missedIntervals, true)}`
      items.push(context.gap(rule, point.pointCode, origin, pointInterval * missedIntervals))
    }
  }
  return items
}

/** How a silence limit reads on its alert; asked for every reading, so each wording is built once. */
export function gapOrigin(intervalMs: number, missed: number, configured: boolean): string {
  const wording = () => `every ${intervalMs / 1000} s × ${missed}${configured ? ' (configured)' : ''}`
  if (!Number.isInteger(intervalMs) || !Number.isInteger(missed) || missed < 0 || missed >= 1024)
    return wording()
  const id = (intervalMs * 1024 + missed) * 2 + (configured ? 1 : 0)
  if (!Number.isSafeInteger(id)) return wording()
  let origin = gapOrigins.get(id)
  if (origin === undefined) {
    origin = wording()
    if (gapOrigins.size < 10_000) gapOrigins.set(id, origin)
  }
  return origin
}
const gapOrigins = new Map<number, string>()

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

export function limitsOf(condition: ThresholdCondition): ThresholdLimits {
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

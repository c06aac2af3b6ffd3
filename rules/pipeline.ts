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
import type { LoadChart } from '../domain/load-chart.js'
import type { Reading } from '../domain/reading.js'
import type { DataGapCondition, KeyedSignal, Rule, Signal } from '../domain/rules.js'
import type { DeviceSettingsValues, RuleOverrideSettings } from '../domain/settings.js'
import { dataGap } from './data-gap.js'
import type { PitContext } from './pit-limits.js'
import { indexRules } from './rule-index.js'
import { RuleStates } from './rule-states.js'
import {
  initialThresholdState,
  isInitialThresholdState,
  quietThresholdState,
  step,
  stepPeak,
  type ThresholdState,
} from './threshold.js'
import {
  alertKey,
  type EventItem,
  type GapItem,
  gapOrigin,
  type KeyInfo,
  type PeakItem,
  RuleMemory,
  type ThresholdItem,
  workItems,
} from './work-items.js'

export { alertKey, applyOverride } from './work-items.js'

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
  /** A device's settings: its expected interval; a crane's capacity, height, radius, slew limits. */
  deviceSettings?(deviceId: string): DeviceSettingsValues | undefined
  /** A pit point's own expected interval, when its settings give one (its own data-gap watch). */
  pointInterval?(siteId: string, pointCode: string): number | null | undefined
  /** The latest cumulative change of a point on a site (differential settlement). */
  pairCumulative?(siteId: string, pointCode: string): number | null
  /** Each crane's mode as it last reported it before this start. */
  initialModes?(): ReadonlyMap<string, string>
  /** A site's or device's override of a rule, if any (the device's wins). */
  ruleOverride?(
    siteId: string,
    deviceId: string,
    ruleId: string,
  ): { readonly settings: RuleOverrideSettings; readonly origin: string } | undefined
  /**
   * Threshold state per key, saved by the caller with each batch so that runs, clear runs and
   * breaches survive a restart. In memory only when absent.
   */
  readonly states?: RuleStates
  /**
   * A key's active alert after a restart: where a data-gap watch resumes (gap already raised), and
   * where a threshold key without saved state starts (a store from before state was saved).
   */
  initialState?(key: string): ThresholdState | undefined
  /**
   * The newest telemetry `ts` per device already evaluated before this start: an older reading is
   * out of order and is evaluated apart (in its own event order, as retrospective).
   */
  latestTimestamps?(): ReadonlyMap<string, number>
  /**
   * Devices whose silence is watched from the start, before they send anything: those that were
   * online when the engine stopped (a monitor that never comes back is a hazard, DOMAIN.md §1).
   */
  watchFromStart?(): readonly {
    readonly siteId: string
    readonly deviceId: string
    readonly kind: 'crane' | 'pit'
    /** Engine time of its last reading: the silence counts from there, not from the restart. */
    readonly lastSeenAt?: number | null
    /** A pit point with an interval of its own (its watch), instead of the whole device. */
    readonly pointCode?: string
    readonly expectedIntervalMs?: number
  }[]
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
  const index = indexRules(rules)
  return (readings) =>
    defer(() => {
      // Threshold and event keys: their state in a map, evaluated as each reading arrives.
      const states = environment.states ?? new RuleStates()
      const memory = new RuleMemory(environment.initialModes?.())
      rememberListedUnknownCodes(memory, states, index.unknown)
      const latest = new Map(environment.latestTimestamps?.() ?? [])
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
            const outOfOrder = reading.channel === 'telemetry' && isOutOfOrder(latest, reading)
            for (const item of workItems(reading, index, environment, memory, outOfOrder)) {
              if (item.kind === 'gap') {
                gaps.next(item)
                continue
              }
              // A failure in one key is reported once and ends that key only (ARCHITECTURE.md §3).
              if (failed.has(item.key)) continue
              let out: readonly RuleSignal[]
              try {
                out = evaluateBreach(item, states, environment, outOfOrder)
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
      // Subscribed after `silences`, so the watch groups exist before the first item arrives.
      const watchesAtStart = defer(() => {
        const now = scheduler.now()
        for (const device of environment.watchFromStart?.() ?? []) {
          for (const rule of index.gaps.get(device.kind) ?? []) {
            if (rule.condition.kind !== 'data_gap') continue
            const subject = device.pointCode ?? rule.subject
            const key = alertKey(device.siteId, device.deviceId, rule.id, subject)
            const configured =
              device.expectedIntervalMs ?? environment.deviceSettings?.(device.deviceId)?.expectedIntervalMs
            const interval = configured ?? rule.condition.expectedIntervalMs
            const restore = {
              silentSince: device.lastSeenAt ?? now,
              open: (environment.initialState?.(key)?.active ?? null) !== null,
            }
            gaps.next({
              restore,
              key,
              siteId: device.siteId,
              deviceId: device.deviceId,
              ruleId: rule.id,
              subject,
              origin: gapOrigin(interval, rule.condition.missedIntervals, configured !== undefined),
              retrospective: false,
              kind: 'gap',
              ts: now,
              limitMs: interval * rule.condition.missedIntervals,
            })
          }
        }
        return EMPTY
      })
      return merge(silences, watchesAtStart, breaches)
    })
}

/**
 * Unknown codes a monitor listed before the restart, from the saved states of their keys: when a
 * later list leaves one out, its alert must still clear.
 */
function rememberListedUnknownCodes(
  memory: RuleMemory,
  states: RuleStates,
  unknown: ReadonlyMap<string, Rule>,
): void {
  const ruleIds = new Set([...unknown.values()].map((rule) => rule.id))
  if (ruleIds.size === 0) return
  for (const [key, state] of states.entries()) {
    const [, deviceId, ruleId, subject] = key.split('|')
    if (
      deviceId === undefined ||
      subject === undefined ||
      !ruleIds.has(ruleId ?? '') ||
      state.active === null
    )
      continue
    const listed = memory.listedUnknown.get(deviceId) ?? new Set<string>()
    listed.add(subject)
    memory.listedUnknown.set(deviceId, listed)
  }
}

/** Whether a telemetry reading is older than the newest one its device sent; moves the mark if not. */
function isOutOfOrder(latest: Map<string, number>, reading: Reading): boolean {
  const mark = latest.get(reading.deviceId)
  if (mark !== undefined && reading.ts < mark) return true
  latest.set(reading.deviceId, reading.ts)
  return false
}

/**
 * One threshold or event item against its key's state. Out-of-order readings go through a lane
 * of their own (key `late|…`), in their own event order: a backfill run is counted on its own,
 * never mixed into the live run, and what it finds is retrospective (DOMAIN.md §3). The lane
 * starts afresh whenever a reading is older than the lane's last one (a new backfill).
 */
function evaluateBreach(
  item: ThresholdItem | EventItem | PeakItem,
  states: RuleStates,
  environment: RuleEnvironment,
  outOfOrder: boolean,
): readonly RuleSignal[] {
  if (item.kind === 'event') {
    // A moment found in late data is the past: it may not re-activate a live alert.
    const late = item.retrospective || outOfOrder
    const raise: Signal = { type: 'raise', severity: item.severity, value: 1, threshold: 1, ts: item.ts }
    const clear: Signal = { type: 'clear', value: null, ts: item.ts }
    if (!late) return [tag(item, raise), tag(item, clear)]
    return [raise, clear].map((signal) => ({ ...tag(item, signal, true), outOfOrder: true }))
  }
  if (item.kind === 'peak') {
    if (item.retrospective) {
      // A late lift record: its own alert, raised and cleared at once, never touching the live key.
      const next = stepPeak(item.limits, initialThresholdState(), item.sample, item.basis)
      return next.out.map((signal) => ({ ...tag(item, signal, true), outOfOrder: true }))
    }
    const state = states.get(item.key) ?? environment.initialState?.(item.key) ?? initialThresholdState()
    const next = stepPeak(item.limits, state, item.sample, item.basis)
    if (next.state !== state) states.set(item.key, next.state)
    return next.out.map((signal) => tag(item, signal))
  }
  if (outOfOrder) {
    const laneKey = `late|${item.key}`
    const lane = states.get(laneKey)
    const state = lane !== undefined && item.sample.ts >= (lane.lastTs ?? 0) ? lane : initialThresholdState()
    const next = step(item.limits, state, item.sample)
    states.set(
      laneKey,
      isInitialThresholdState(next.state) ? null : { ...next.state, lastTs: item.sample.ts },
    )
    return next.out.map((signal) => ({ ...tag(item, signal, true), outOfOrder: true }))
  }
  const state = states.get(item.key) ?? environment.initialState?.(item.key) ?? quietThresholdState
  const next = step(item.limits, state, item.sample)
  if (next.state !== state) states.set(item.key, isInitialThresholdState(next.state) ? null : next.state)
  return next.out.length === 0 ? noSignals : next.out.map((signal) => tag(item, signal))
}

/** Most items give none: one shared empty answer (callers only read it). */
const noSignals: readonly RuleSignal[] = Object.freeze([])

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

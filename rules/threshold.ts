import { concatMap, from, type OperatorFunction, scan } from 'rxjs'
import { atResolution } from '../domain/payloads.js'
import {
  type Severity,
  type Signal,
  severities,
  severityRank,
  type ThresholdCondition,
} from '../domain/rules.js'

/**
 * One reading of a rule's subject, in event time. `value: null` means the rule does not apply
 * at the moment (e.g. a work-mode wind limit while the crane is idle): it counts towards clearing
 * a breach and never towards raising one.
 */
export interface Sample {
  readonly ts: number
  readonly value: number | null
}

/**
 * Everything the operator remembers, as plain data so it can be saved and restored across a
 * restart (a breach that needs 3 readings still fires when a restart falls between them).
 */
export interface ThresholdState {
  /** Severity of the breach in progress, or null when the condition is normal. */
  readonly active: Severity | null
  readonly peak: number | null
  /** Consecutive breaching readings per severity, and when each run started. */
  readonly runs: Readonly<Record<Severity, { readonly count: number; readonly since: number }>>
  /** Consecutive readings back on the safe side of the clear line. */
  readonly clearRun: { readonly count: number; readonly since: number }
}

export type ThresholdLimits = Pick<
  ThresholdCondition,
  'direction' | 'levels' | 'hysteresis' | 'minSamples' | 'sustained'
> & {
  /** A breach (or a clear) must also last this long in event time; 0 = samples alone decide. */
  readonly minDurationMs?: number | undefined
  /**
   * Values and levels are compared at this decimal resolution (0.01 mm…): the standards alarm on
   * reaching a value, which binary floating point would miss by 1e-14 (DOMAIN.md §4).
   */
  readonly resolution?: number | undefined
  /** How a sustained breach reads on the alert ("≥ 70 % of the limit on 3 consecutive days"). */
  readonly sustainedBasis?: string | undefined
}

const emptyRun = Object.freeze({ count: 0, since: 0 })
/** What `step` gives back for a reading that changes nothing: shared, never written to. */
const noSignals: Signal[] = []
Object.freeze(noSignals)

export const initialThresholdState = (): ThresholdState => ({
  active: null,
  peak: null,
  runs: { warning: emptyRun, alarm: emptyRun, critical: emptyRun },
  clearRun: emptyRun,
})

/** A key with nothing in progress, shared by every such key (states are never changed in place). */
export const quietThresholdState: ThresholdState = Object.freeze({
  ...initialThresholdState(),
  runs: Object.freeze(initialThresholdState().runs),
})

/**
 * Multi-level threshold with hysteresis (DOMAIN.md §1–2): a severity is reached after
 * `minSamples` consecutive readings at or past its level (and `minDurationMs` of event time);
 * severity only rises within a breach; the breach clears once readings stay past the lowest level
 * by `hysteresis` for as long again. Emits `raise`, `escalate`, `peak` (a new extreme of the
 * breach in progress) and `clear`.
 */
export function threshold(
  limits: ThresholdLimits,
  initial: ThresholdState = initialThresholdState(),
): OperatorFunction<Sample, Signal> {
  return (source) =>
    source.pipe(
      scan((acc: { state: ThresholdState; out: Signal[] }, sample) => step(limits, acc.state, sample), {
        state: initial,
        out: [],
      }),
      concatMap((acc) => from(acc.out)),
    )
}

/** One reading: the next state and the signals it produces. Pure, for tests and replay. */
export function step(
  limits: ThresholdLimits,
  state: ThresholdState,
  sample: Sample,
): { state: ThresholdState; out: Signal[] } {
  if (sample.value !== null && !Number.isFinite(sample.value)) return { state, out: noSignals }
  // Most readings of most keys: nothing in progress and no level reached. The same state, no
  // signal, nothing built (the general path below ends with the same answer, at about ten
  // objects a rule and reading: GC was a fifth of the worker's time, BENCHMARKS.md issue 14).
  if (isInitialThresholdState(state) && !reachesAnyLevel(limits, sample.value))
    return { state, out: noSignals }
  const at = atResolutionOf(limits)
  const value = sample.value === null ? null : at(sample.value)
  const breaches = (level: number) => value !== null && reaches(limits, value, at(level))
  const lasted = (run: { count: number; since: number }) =>
    run.count >= limits.minSamples && sample.ts - run.since >= (limits.minDurationMs ?? 0)

  const runs = { ...state.runs }
  for (const severity of severities) {
    const level = limits.levels[severity]
    const run = runs[severity]
    runs[severity] =
      level !== undefined && breaches(level)
        ? { count: run.count + 1, since: run.count === 0 ? sample.ts : run.since }
        : emptyRun
  }
  let reached: Severity | null = null
  for (const severity of severities) {
    if (limits.levels[severity] !== undefined && lasted(runs[severity])) reached = severity
  }
  const sustained = limits.sustained
  let bySustained = false
  const sustainedRun = sustained === undefined ? undefined : runs[sustained.level]
  if (
    sustained !== undefined &&
    sustainedRun !== undefined &&
    sustainedRun.count >= sustained.samples &&
    sample.ts - sustainedRun.since >= (sustained.durationMs ?? 0)
  ) {
    if (reached === null || severityRank(sustained.severity) > severityRank(reached)) {
      reached = sustained.severity
      bySustained = true
    }
  }

  const out: Signal[] = []
  let { active, peak } = state
  const more = (a: number, b: number) => (limits.direction === 'above' ? a > b : a < b)
  if (reached !== null && value !== null) {
    // A sustained breach reports the level its readings were counted at, and says so.
    const judgedAt = bySustained ? (sustained?.level ?? reached) : reached
    const thresholdValue = limits.levels[judgedAt] ?? (limits.levels[reached] as number)
    const basis = bySustained ? limits.sustainedBasis : undefined
    if (active === null) {
      out.push({
        type: 'raise',
        severity: reached,
        value,
        threshold: thresholdValue,
        ts: sample.ts,
        ...(basis === undefined ? {} : { basis }),
      })
      active = reached
      peak = value
    } else if (severityRank(reached) > severityRank(active)) {
      out.push({
        type: 'escalate',
        severity: reached,
        value,
        threshold: thresholdValue,
        ts: sample.ts,
        ...(basis === undefined ? {} : { basis }),
      })
      active = reached
      peak = peak === null || more(value, peak) ? value : peak
    } else if (peak === null || more(value, peak)) {
      out.push({
        type: 'peak',
        severity: active,
        value,
        threshold: limits.levels[active] ?? thresholdValue,
        ts: sample.ts,
      })
      peak = value
    }
  }

  let clearRun = state.clearRun
  if (active !== null && reached === null) {
    const lowest = severities
      .map((s) => limits.levels[s])
      .find((level): level is number => level !== undefined) as number
    const clearLine = at(
      limits.direction === 'above' ? lowest - limits.hysteresis : lowest + limits.hysteresis,
    )
    const safe = value === null || (limits.direction === 'above' ? value < clearLine : value > clearLine)
    clearRun = safe
      ? { count: clearRun.count + 1, since: clearRun.count === 0 ? sample.ts : clearRun.since }
      : emptyRun
    if (lasted(clearRun)) {
      out.push({ type: 'clear', value, ts: sample.ts })
      return { state: { ...initialThresholdState() }, out }
    }
  } else {
    clearRun = emptyRun
  }
  // The same object when nothing moved, so callers save only what changed (most readings).
  const unchanged =
    active === state.active &&
    peak === state.peak &&
    clearRun === state.clearRun &&
    severities.every((severity) => runs[severity] === state.runs[severity])
  return { state: unchanged ? state : { active, peak, runs, clearRun }, out }
}

/** Nothing in progress: no breach, no run towards one, no run towards a clear. */
export const isInitialThresholdState = (state: ThresholdState): boolean =>
  state.active === null &&
  state.clearRun.count === 0 &&
  severities.every((severity) => state.runs[severity].count === 0)

/**
 * A recorded peak (a work cycle's maximum over one lift, JGJ 332): a breach by itself, whatever
 * `minSamples` says, but never evidence that the present is safe. It raises (and, since the lift
 * is over, clears at once) when the key is quiet; joins a live breach as a peak or a higher
 * severity otherwise; never clears a live breach and never breaks a run.
 */
export function stepPeak(
  limits: ThresholdLimits,
  state: ThresholdState,
  sample: { readonly ts: number; readonly value: number },
  basis: string,
): { state: ThresholdState; out: Signal[] } {
  if (!Number.isFinite(sample.value)) return { state, out: [] }
  const at = atResolutionOf(limits)
  const value = at(sample.value)
  let reached: Severity | null = null
  for (const severity of severities) {
    const level = limits.levels[severity]
    if (level !== undefined && reaches(limits, value, at(level))) reached = severity
  }
  if (reached === null) return { state, out: [] }
  const threshold = limits.levels[reached] as number
  const common = { value, threshold, ts: sample.ts, basis }
  if (state.active === null) {
    return {
      state,
      out: [
        { type: 'raise', severity: reached, ...common },
        { type: 'clear', value, ts: sample.ts },
      ],
    }
  }
  const more = limits.direction === 'above' ? value > (state.peak ?? value) : value < (state.peak ?? value)
  const peak = state.peak === null || more ? value : state.peak
  if (severityRank(reached) > severityRank(state.active))
    return {
      state: { ...state, active: reached, peak },
      out: [{ type: 'escalate', severity: reached, ...common }],
    }
  if (peak !== state.peak)
    return { state: { ...state, peak }, out: [{ type: 'peak', severity: state.active, ...common }] }
  return { state, out: [] }
}

/** Values and levels at the limits' resolution (as given, without one). */
const atResolutionOf = (limits: ThresholdLimits) => {
  const resolution = limits.resolution
  return resolution === undefined ? (x: number) => x : (x: number) => atResolution(x, resolution)
}

/** Whether a value reaches any of the rule's levels, at its resolution (null reaches none). */
function reachesAnyLevel(limits: ThresholdLimits, value: number | null): boolean {
  if (value === null) return false
  const resolution = limits.resolution
  const at = (x: number) => (resolution === undefined ? x : atResolution(x, resolution))
  const atValue = at(value)
  for (const severity of severities) {
    const level = limits.levels[severity]
    if (level !== undefined && reaches(limits, atValue, at(level))) return true
  }
  return false
}

/** Reaching a level is breaching it (GB 50497-2019: 达到): ≥ above, ≤ below. */
const reaches = (limits: ThresholdLimits, value: number, level: number) =>
  limits.direction === 'above' ? value >= level : value <= level

import type {
  PitCumulativeCondition,
  PitDesignCondition,
  PitFixedCondition,
  PitRateCondition,
} from '../domain/rules.js'
import type { ThresholdLimits } from './threshold.js'

/** What a pit rule needs to know about the site and the point to fix its numbers. */
export interface PitContext {
  readonly pitGrade: 1 | 2 | 3 | null
  readonly pitDepthM: number | null
  /** GB 50497-2019 §8.0.3: after the base slab is cast, rate limits × 0.7. */
  readonly baseSlabCast: boolean
  /** The point's design value (strut capacity f2, anchor prestress fy), from its configuration. */
  readonly designValue: number | null
  /** The designer's alarm values for the point, which replace the table's (GB 50497-2019 §8.0.1). */
  readonly cumulativeAlarm?: number | null
  readonly rateAlarm?: number | null
}

export type PitCondition = PitCumulativeCondition | PitRateCondition | PitDesignCondition | PitFixedCondition

export type ResolvedPitLimits =
  | {
      readonly limits: ThresholdLimits
      /** Which derived quantity the limits apply to; compared by magnitude unless direction says otherwise. */
      readonly measure: 'value' | 'cumulative' | 'rate'
      readonly magnitude: boolean
      /** How the numbers came about, for the alert's record of where its threshold came from. */
      readonly origin: string
    }
  | { readonly skip: string }

const round = (value: number) => Math.round(value * 1_000) / 1_000

/**
 * Fixes a pit rule's levels for one point (DOMAIN.md §2). The designer's values come first
 * (GB 50497-2019 §8.0.1); these are the fallbacks, at the lower bound of each range. A site
 * without a grade is treated as grade 1, the strictest.
 */
export function resolvePitLimits(condition: PitCondition, context: PitContext): ResolvedPitLimits {
  const grade = context.pitGrade ?? 1
  const gradeNote = context.pitGrade === null ? 'grade unknown, grade 1 assumed' : `grade ${grade}`
  switch (condition.kind) {
    case 'pit_cumulative': {
      const { absMm, pctH } = condition.byGrade[`${grade}`]
      const fromDepth =
        pctH !== undefined && context.pitDepthM !== null ? (pctH / 100) * context.pitDepthM * 1_000 : null
      const designed = context.cumulativeAlarm ?? null
      const alarm = designed ?? (fromDepth === null ? absMm : Math.min(absMm, fromDepth))
      const origin =
        designed !== null
          ? `point design value: ${designed}`
          : fromDepth === null
            ? `${gradeNote}: ${absMm} mm${pctH === undefined ? '' : ' (no design depth for %H)'}`
            : `${gradeNote}: min(${absMm} mm, ${pctH} % × ${context.pitDepthM} m = ${round(fromDepth)} mm)`
      return {
        measure: 'cumulative',
        magnitude: true,
        origin,
        limits: {
          direction: 'above',
          levels: {
            warning: round(alarm * condition.warningFraction),
            alarm: round(alarm),
            ...(condition.criticalMultiple === undefined
              ? {}
              : { critical: round(alarm * condition.criticalMultiple) }),
          },
          hysteresis: round(alarm * condition.hysteresisFraction),
          minSamples: condition.minSamples,
        },
      }
    }
    case 'pit_rate': {
      // The designer's value is the one in force as given; the table's takes the × 0.7 after the slab.
      const designed = context.rateAlarm ?? null
      const base = designed ?? condition.byGrade[`${grade}`]
      const limit = designed === null && context.baseSlabCast ? base * condition.afterBaseSlabFactor : base
      const origin =
        designed !== null
          ? `point design value: ${designed} per day`
          : `${gradeNote}: ${base} per day${context.baseSlabCast ? ` × ${condition.afterBaseSlabFactor} after the base slab = ${round(limit)}` : ''}`
      return {
        measure: 'rate',
        magnitude: true,
        origin,
        limits: {
          direction: 'above',
          levels: { warning: round(limit * condition.warningFraction), alarm: round(limit) },
          hysteresis: round(limit * condition.hysteresisFraction),
          minSamples: 1,
          sustained: { level: 'warning', samples: condition.sustainedSamples, severity: 'alarm' },
        },
      }
    }
    case 'pit_design': {
      if (context.designValue === null) return { skip: 'no design value configured for the point' }
      const fraction = condition.byGrade[`${grade}`]
      const alarm = fraction * context.designValue
      const warning = alarm * condition.warningFraction
      return {
        measure: 'value',
        magnitude: false,
        origin: `${gradeNote}: ${fraction * 100} % of the design value ${context.designValue}`,
        limits: {
          direction: condition.direction,
          levels: { warning: round(warning), alarm: round(alarm) },
          hysteresis: round(alarm * condition.hysteresisFraction),
          minSamples: 1,
        },
      }
    }
    case 'pit_fixed':
      return {
        measure: condition.measure,
        magnitude: true,
        origin: `fixed limit ${condition.alarm}`,
        limits: {
          direction: 'above',
          levels: { warning: round(condition.alarm * condition.warningFraction), alarm: condition.alarm },
          hysteresis: round(condition.alarm * condition.hysteresisFraction),
          minSamples: condition.minSamples,
        },
      }
  }
}

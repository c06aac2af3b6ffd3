import { type PitItem, pitItemUnits } from '../domain/payloads.js'
import type {
  PitCumulativeCondition,
  PitDesignCondition,
  PitDifferentialCondition,
  PitDropCondition,
  PitFixedCondition,
  PitRateCondition,
  SupportType,
} from '../domain/rules.js'
import type { ThresholdLimits } from './threshold.js'

const msPerDay = 86_400_000
/** "N consecutive days" of readings taken at survey times that drift by an hour or two. */
const consecutiveDaysSlack = 0.9

/** What a pit rule needs to know about the site and the point to fix its numbers. */
export interface PitContext {
  readonly pitGrade: 1 | 2 | 3 | null
  readonly pitDepthM: number | null
  /** GB 50497-2019 §8.0.3: after the base slab is cast, rate limits × 0.7. */
  readonly baseSlabCast: boolean
  /** The row of Table 8.0.4: piles and diaphragm walls unless the site says otherwise. */
  readonly supportType?: SupportType | null | undefined
  /** The point's general design value (strut capacity f2, anchor prestress fy, before v0.2). */
  readonly designValue: number | null
  readonly capacity?: number | null | undefined
  readonly prestress?: number | null | undefined
  readonly designLoad?: number | null | undefined
  /** The designer's alarm values for the point, which replace the table's (GB 50497-2019 §8.0.1). */
  readonly cumulativeAlarm?: number | null | undefined
  readonly rateAlarm?: number | null | undefined
  readonly differentialAlarm?: number | null | undefined
  readonly pairPointCode?: string | null | undefined
  /** The instrument's resolution; the item's default when absent. */
  readonly resolution?: number | null | undefined
  /** How often the point is read, when its settings say (its own data-gap watch). */
  readonly expectedIntervalMs?: number | null | undefined
}

export type PitCondition =
  | PitCumulativeCondition
  | PitRateCondition
  | PitDesignCondition
  | PitFixedCondition
  | PitDropCondition
  | PitDifferentialCondition

export type PitMeasure = 'value' | 'cumulative' | 'rate' | 'drop' | 'differential'

export type ResolvedPitLimits =
  | {
      readonly limits: ThresholdLimits
      /** Which derived quantity the limits apply to. */
      readonly measure: PitMeasure
      /** Compared by magnitude (settlement and heave alike). */
      readonly magnitude: boolean
      /** How the numbers came about, for the alert's record of where its threshold came from. */
      readonly origin: string
    }
  | { readonly skip: string }

const round = (value: number) => Math.round(value * 1_000) / 1_000
const daysMs = (days: number) => Math.round((days - 1) * msPerDay * consecutiveDaysSlack)

/**
 * Fixes a pit rule's levels for one point (DOMAIN.md §2, §4). The designer's values come first
 * (GB 50497-2019 §8.0.1); the table's are fallbacks, at the conservative end of each range. A
 * site without a grade is treated as grade 1, the strictest (and flagged on the site).
 */
export function resolvePitLimits(
  condition: PitCondition,
  context: PitContext,
  item: PitItem,
): ResolvedPitLimits {
  const grade = context.pitGrade ?? 1
  const gradeNote = context.pitGrade === null ? 'grade unknown, grade 1 assumed' : `grade ${grade}`
  const resolution = context.resolution ?? pitItemUnits[item].resolution
  const support = context.supportType ?? null
  const supportNote = support === null || support === 'pile_wall' ? '' : ` (${support})`
  switch (condition.kind) {
    case 'pit_cumulative': {
      const row =
        (support === null ? undefined : condition.bySupport?.[support as 'slope']) ?? condition.byGrade
      const designed = context.cumulativeAlarm ?? null
      if (designed === null && row === undefined)
        return { skip: "needs the designer's cumulative alarm value (point set --cumulative-alarm)" }
      let alarm: number
      let origin: string
      if (designed !== null) {
        alarm = designed
        origin = `point design value: ${designed}`
      } else {
        const { absMm, pctH } = (row as NonNullable<typeof row>)[`${grade}`]
        const fromDepth =
          pctH !== undefined && context.pitDepthM !== null ? (pctH / 100) * context.pitDepthM * 1_000 : null
        alarm = fromDepth === null ? absMm : Math.min(absMm, fromDepth)
        origin =
          fromDepth === null
            ? `${gradeNote}${supportNote}: ${absMm} mm${pctH === undefined ? '' : ' (no design depth for %H)'}`
            : `${gradeNote}${supportNote}: min(${absMm} mm, ${pctH} % × ${context.pitDepthM} m = ${round(fromDepth)} mm)`
      }
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
          resolution,
        },
      }
    }
    case 'pit_rate': {
      // The designer's value is the one in force as given; the table's takes the × 0.7 after the slab.
      const designed = context.rateAlarm ?? null
      const row =
        (support === null ? undefined : condition.bySupport?.[support as 'slope']) ?? condition.byGrade
      if (designed === null && row === undefined)
        return { skip: "needs the designer's rate alarm value (point set --rate-alarm)" }
      const base = designed ?? (row as NonNullable<typeof row>)[`${grade}`]
      const limit = designed === null && context.baseSlabCast ? base * condition.afterBaseSlabFactor : base
      const origin =
        designed !== null
          ? `point design value: ${designed} per day`
          : `${gradeNote}${supportNote}: ${base} per day${context.baseSlabCast ? ` × ${condition.afterBaseSlabFactor} after the base slab = ${round(limit)}` : ''}`
      const warning = round(limit * condition.warningFraction)
      return {
        measure: 'rate',
        magnitude: true,
        origin,
        limits: {
          direction: 'above',
          levels: {
            warning,
            alarm: round(limit),
            // GB 50497-2019 §8.0.9: a sudden marked increase is a danger (factor: PRACTICE).
            ...(condition.dangerFactor === undefined
              ? {}
              : { critical: round(limit * condition.dangerFactor) }),
          },
          hysteresis: round(limit * condition.hysteresisFraction),
          minSamples: 1,
          resolution,
          sustained: {
            level: 'warning',
            samples: condition.sustainedDays,
            durationMs: daysMs(condition.sustainedDays),
            severity: 'alarm',
          },
          sustainedBasis: `≥ ${warning} per day (${round(condition.warningFraction * 100)} % of ${round(limit)}) on ${condition.sustainedDays} consecutive days`,
        },
      }
    }
    case 'pit_design': {
      const specific = context[condition.basis] ?? null
      const value = specific ?? (condition.designValueFallback ? context.designValue : null)
      if (value === null)
        return {
          skip: `needs the point's ${basisName[condition.basis]} (point set --${basisFlag[condition.basis]})`,
        }
      const fraction = condition.byGrade[`${grade}`]
      const alarm = fraction * value
      const warning = alarm * condition.warningFraction
      return {
        measure: 'value',
        magnitude: false,
        origin: `${gradeNote}: ${round(fraction * 100)} % of the ${basisName[condition.basis]} ${value}`,
        limits: {
          direction: condition.direction,
          levels: { warning: round(warning), alarm: round(alarm) },
          hysteresis: round(alarm * condition.hysteresisFraction),
          minSamples: 1,
          resolution,
        },
      }
    }
    case 'pit_fixed': {
      const designed =
        condition.measure === 'cumulative'
          ? (context.cumulativeAlarm ?? null)
          : condition.measure === 'rate'
            ? (context.rateAlarm ?? null)
            : null
      const alarm = designed ?? condition.alarm
      const warning = round(alarm * condition.warningFraction)
      const days = condition.sustainedDays
      return {
        measure: condition.measure,
        magnitude: true,
        origin: designed === null ? `fixed limit ${condition.alarm}` : `point design value: ${designed}`,
        limits: {
          direction: 'above',
          levels: {
            warning,
            // With sustainedDays the level alarms only once it has held that long.
            ...(days === undefined ? { alarm } : {}),
            ...(condition.dangerFactor === undefined
              ? {}
              : { critical: round(alarm * condition.dangerFactor) }),
          },
          hysteresis: round(alarm * condition.hysteresisFraction),
          minSamples: condition.minSamples,
          resolution,
          ...(days === undefined
            ? {}
            : {
                sustained: { level: 'warning', samples: days, durationMs: daysMs(days), severity: 'alarm' },
                sustainedBasis: `≥ ${warning} on ${days} consecutive days`,
              }),
        },
      }
    }
    case 'pit_drop':
      return {
        measure: 'drop',
        magnitude: false,
        origin: `a loss of ${condition.dropPct} % of the force`,
        limits: {
          direction: 'above',
          levels: { [condition.severity]: condition.dropPct },
          hysteresis: condition.hysteresisPct,
          minSamples: 1,
          resolution: 0.1,
        },
      }
    case 'pit_differential': {
      const alarm = context.differentialAlarm ?? null
      const pair = context.pairPointCode ?? null
      if (alarm === null || pair === null)
        return {
          skip: "needs the paired point and the designer's differential alarm (point set --pair, --differential-alarm)",
        }
      return {
        measure: 'differential',
        magnitude: true,
        origin: `point design value: ${alarm} against ${pair}`,
        limits: {
          direction: 'above',
          levels: { warning: round(alarm * condition.warningFraction), alarm },
          hysteresis: round(alarm * condition.hysteresisFraction),
          minSamples: 1,
          resolution,
        },
      }
    }
  }
}

const basisName = {
  capacity: 'capacity f2',
  prestress: 'prestress fy',
  designLoad: 'design load f1',
} as const
const basisFlag = { capacity: 'capacity', prestress: 'prestress', designLoad: 'design-load' } as const

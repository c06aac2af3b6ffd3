import { z } from 'zod'
import { deviceKindSchema } from './registry.js'

/** Severities, ordered (CONTRACT §4): 预警 yellow, 报警 orange, 危险 red. */
export const severities = ['warning', 'alarm', 'critical'] as const
export const severitySchema = z.enum(severities)
export type Severity = z.infer<typeof severitySchema>

export const severityRank = (severity: Severity): number => severities.indexOf(severity)

/** How sure we are of a number (DOMAIN.md): never present UNCONFIRMED as regulation. */
export const sourceGradeSchema = z.enum(['STD', 'STD*', 'PRACTICE', 'VENDOR', 'UNCONFIRMED', 'DESIGN'])

export const ruleSourceSchema = z.strictObject({
  standard: z.string().min(1),
  clause: z.string().optional(),
  grade: sourceGradeSchema,
  note: z.string().optional(),
})

const levelsSchema = z
  .strictObject({
    warning: z.number().optional(),
    alarm: z.number().optional(),
    critical: z.number().optional(),
  })
  .refine((levels) => severities.some((s) => levels[s] !== undefined), {
    message: 'at least one level is required',
  })

/**
 * A threshold rule on one numeric subject. `direction: above` breaches at value ≥ level,
 * `below` at value ≤ level. A breach counts after `minSamples` consecutive readings at or past the
 * level; it clears when readings come back past the level by `hysteresis` for `minSamples`
 * readings, so a value hovering at the line does not raise and clear in turns.
 */
export const thresholdRuleSchema = z
  .strictObject({
    kind: z.literal('threshold'),
    direction: z.enum(['above', 'below']),
    levels: levelsSchema,
    hysteresis: z.number().nonnegative(),
    minSamples: z.number().int().positive().default(1),
    /** The breach (and the clear) must also last this long in event time. */
    minDurationMs: z.number().int().nonnegative().optional(),
    /**
     * Consecutive-fraction rule: `samples` consecutive readings at or past `level` reach
     * `severity` too (GB 50497-2019 §8.0.3: a rate over 70 % of its limit in 3 consecutive
     * readings alarms as if it had reached the limit). Part of the same state machine, so the
     * key has one consistent breach and clear.
     */
    sustained: z
      .strictObject({ level: severitySchema, samples: z.number().int().min(2), severity: severitySchema })
      .optional(),
    /** Only readings whose crane mode is one of these count (e.g. wind limits differ by mode). */
    modes: z.array(z.enum(['work', 'erection', 'jacking', 'idle', 'out_of_service'])).optional(),
  })
  .superRefine((rule, ctx) => {
    const present = severities.map((s) => rule.levels[s]).filter((v): v is number => v !== undefined)
    const ordered = present.every(
      (value, i) =>
        i === 0 ||
        (rule.direction === 'above'
          ? value > (present[i - 1] as number)
          : value < (present[i - 1] as number)),
    )
    if (!ordered)
      ctx.addIssue({
        code: 'custom',
        path: ['levels'],
        message: `levels must ${rule.direction === 'above' ? 'rise' : 'fall'} from warning to critical`,
      })
  })

/** Device event codes mapped to severities (e.g. LIMITER_BYPASS → critical). */
export const eventRuleSchema = z.strictObject({
  kind: z.literal('event'),
  codes: z.record(z.string().min(1), severitySchema),
})

/** Silence: no telemetry for `missedIntervals` × the device's expected interval. */
export const dataGapRuleSchema = z.strictObject({
  kind: z.literal('data_gap'),
  expectedIntervalMs: z.number().int().positive(),
  missedIntervals: z.number().positive(),
  severity: severitySchema,
})

const gradeTable = <T extends z.ZodType>(value: T) => z.strictObject({ '1': value, '2': value, '3': value })

/**
 * Pit deformation, cumulative change from the baseline (GB 50497-2019 §8.0.3–8.0.4): the alarm
 * value is the smaller of the absolute limit and %H × H (H = design depth), by pit grade; the
 * warning is a fraction of it (PRACTICE); critical a configurable multiple (UNCONFIRMED).
 * Compared by magnitude: settlement and heave count alike.
 */
export const pitCumulativeRuleSchema = z.strictObject({
  kind: z.literal('pit_cumulative'),
  byGrade: gradeTable(
    z.strictObject({ absMm: z.number().positive(), pctH: z.number().positive().optional() }),
  ),
  warningFraction: z.number().positive().max(1),
  criticalMultiple: z.number().min(1).optional(),
  hysteresisFraction: z.number().nonnegative().max(0.5),
  minSamples: z.number().int().positive().default(1),
})

/**
 * Pit deformation rate per day (GB 50497-2019 §8.0.3): alarm at the limit, or over 70 % of it in
 * 3 consecutive readings; after the base slab is cast the limits are × 0.7.
 */
export const pitRateRuleSchema = z.strictObject({
  kind: z.literal('pit_rate'),
  byGrade: gradeTable(z.number().positive()),
  warningFraction: z.number().positive().max(1),
  sustainedSamples: z.number().int().min(2),
  afterBaseSlabFactor: z.number().positive().max(1),
  hysteresisFraction: z.number().nonnegative().max(0.5),
})

/** A reading against the point's design value (strut and anchor forces, GB 50497-2019 Table 8.0.4). */
export const pitDesignRuleSchema = z.strictObject({
  kind: z.literal('pit_design'),
  direction: z.enum(['above', 'below']),
  /** Alarm at this fraction of the point's design value, by pit grade. */
  byGrade: gradeTable(z.number().positive()),
  warningFraction: z.number().positive(),
  hysteresisFraction: z.number().nonnegative().max(0.5),
})

/** A fixed limit on a value or its change, for the surroundings (GB 50497-2019 Table 8.0.5). */
export const pitFixedRuleSchema = z.strictObject({
  kind: z.literal('pit_fixed'),
  measure: z.enum(['value', 'cumulative', 'rate']),
  alarm: z.number().positive(),
  warningFraction: z.number().positive().max(1),
  hysteresisFraction: z.number().nonnegative().max(0.5),
  minSamples: z.number().int().positive().default(1),
})

export const ruleSchema = z.strictObject({
  id: z.string().regex(/^[a-z]+(\.[a-z0-9_]+)+$/, 'dotted lower-case id, e.g. crane.moment'),
  title: z.strictObject({ zh: z.string().min(1), en: z.string().min(1) }),
  deviceKind: deviceKindSchema,
  /** The metric (crane), pit item, or `event` / `telemetry` the rule watches. */
  subject: z.string().min(1),
  unit: z.string().optional(),
  condition: z.discriminatedUnion('kind', [
    thresholdRuleSchema,
    eventRuleSchema,
    dataGapRuleSchema,
    pitCumulativeRuleSchema,
    pitRateRuleSchema,
    pitDesignRuleSchema,
    pitFixedRuleSchema,
  ]),
  sources: z.array(ruleSourceSchema).min(1),
})
export type Rule = z.infer<typeof ruleSchema>
export type ThresholdCondition = z.infer<typeof thresholdRuleSchema>
export type EventCondition = z.infer<typeof eventRuleSchema>
export type DataGapCondition = z.infer<typeof dataGapRuleSchema>
export type PitCumulativeCondition = z.infer<typeof pitCumulativeRuleSchema>
export type PitRateCondition = z.infer<typeof pitRateRuleSchema>
export type PitDesignCondition = z.infer<typeof pitDesignRuleSchema>
export type PitFixedCondition = z.infer<typeof pitFixedRuleSchema>

export const ruleCatalogueSchema = z.array(ruleSchema).superRefine((rules, ctx) => {
  const seen = new Set<string>()
  rules.forEach((rule, index) => {
    if (seen.has(rule.id))
      ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate rule id ${rule.id}` })
    seen.add(rule.id)
  })
})

/**
 * What a rule says about one key (site + device + rule + subject) at one moment of event time.
 * `raise` opens an alert (or re-activates it), `escalate` raises its severity, `peak` is a new
 * extreme of the breach in progress, `clear` says the condition is over.
 */
export type Signal =
  | {
      readonly type: 'raise' | 'escalate' | 'peak'
      readonly severity: Severity
      readonly value: number
      readonly threshold: number
      readonly ts: number
    }
  | { readonly type: 'clear'; readonly value: number | null; readonly ts: number }

/** A signal for one alert key: site + device + rule + subject. What the alert store consumes. */
export interface KeyedSignal {
  readonly siteId: string
  readonly deviceId: string
  readonly ruleId: string
  readonly subject: string
  readonly signal: Signal
  /** Where the threshold that fired came from (the rule's default, a pit resolution…). */
  readonly origin: string
  /** Found in late or backfilled data. */
  readonly retrospective: boolean
  /**
   * From readings older than what the device already sent (evaluated apart, in their own event
   * order): such a signal may not re-activate or clear an alert that newer readings raised.
   */
  readonly outOfOrder?: boolean
}

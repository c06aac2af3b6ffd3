import { z } from 'zod'
import { craneModes } from './payloads.js'
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

/** Crane modes a rule applies in; `unreported`: the crane has not said its mode. */
export const ruleModes = [...craneModes, 'unreported'] as const
const modesSchema = z.array(z.enum(ruleModes)).min(1)
export type RuleMode = (typeof ruleModes)[number]

/**
 * A run of readings at or past `level` that reaches `severity` once it has `samples` readings and
 * lasts `durationMs` of event time (GB 50497-2019 §8.0.3: a rate over 70 % of its limit on 3
 * consecutive days alarms as if it had reached the limit).
 */
const sustainedSchema = z.strictObject({
  level: severitySchema,
  samples: z.number().int().min(1),
  durationMs: z.number().int().nonnegative().optional(),
  severity: severitySchema,
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
    sustained: sustainedSchema.optional(),
    /**
     * Only readings whose crane mode is one of these count (wind limits differ by mode);
     * `unreported` stands for a crane that has not said its mode (many monitors never do).
     */
    modes: modesSchema.optional(),
    /**
     * The work-cycle field that carries this subject's peak over a lift (JGJ 332: the black-box
     * record): a lift's peak is a breach even when live telemetry missed it. `maxLoadPct` is
     * derived from `maxLoadT` and the crane's rated capacity.
     */
    cycleField: z.enum(['maxMomentPct', 'maxLoadPct', 'maxWindMps']).optional(),
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

/**
 * Codes that no event rule of the device's kind maps (a monitor's vendor code, a new firmware's):
 * never dropped silently, raised at this severity with the code as the subject (DOMAIN.md §4).
 */
export const unknownCodeRuleSchema = z.strictObject({
  kind: z.literal('unknown_code'),
  severity: severitySchema,
})

/** Crane settings a `crane_limit` rule reads its level from (configured per crane). */
export const craneLimitSettings = ['hookHeightMaxM', 'radiusMaxM', 'radiusMinM'] as const

/**
 * A limit configured per crane (site height limit, minimum and maximum radius): alarm at the
 * limit, warning `warningMargin` before it. Without the crane's setting the rule does not apply.
 */
export const craneLimitRuleSchema = z.strictObject({
  kind: z.literal('crane_limit'),
  setting: z.enum(craneLimitSettings),
  direction: z.enum(['above', 'below']),
  warningMargin: z.number().nonnegative(),
  hysteresis: z.number().nonnegative(),
  minSamples: z.number().int().positive().default(1),
  modes: modesSchema.optional(),
})

/**
 * Forbidden slew sectors configured per crane (zone protection over a school, a road, a line):
 * the value judged is how far the jib is inside the nearest sector, in degrees (negative:
 * outside, by that much); alarm at 0 (on the edge), warning `warningMarginDeg` before it.
 */
export const craneSlewSectorRuleSchema = z.strictObject({
  kind: z.literal('crane_slew_sector'),
  warningMarginDeg: z.number().nonnegative().max(90),
  hysteresisDeg: z.number().nonnegative().max(10),
  minSamples: z.number().int().positive().default(1),
  modes: modesSchema.optional(),
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
 * Support structures, the rows of GB 50497-2019 Table 8.0.4: piles, diaphragm walls, sheet piles
 * and SMW walls (`pile_wall`), soil nailing (`soil_nailing`), cement-soil walls
 * (`cement_soil_wall`), slopes (`slope`).
 */
export const supportTypes = ['pile_wall', 'soil_nailing', 'cement_soil_wall', 'slope'] as const
export type SupportType = (typeof supportTypes)[number]
const bySupport = <T extends z.ZodType>(value: T) =>
  z
    .strictObject({
      soil_nailing: gradeTable(value).optional(),
      cement_soil_wall: gradeTable(value).optional(),
      slope: gradeTable(value).optional(),
    })
    .optional()

/**
 * Pit deformation, cumulative change from the baseline (GB 50497-2019 §8.0.3–8.0.4): the alarm
 * value is the smaller of the absolute limit and %H × H (H = design depth), by pit grade; the
 * warning is a fraction of it (PRACTICE); critical a configurable multiple (UNCONFIRMED).
 * Compared by magnitude: settlement and heave count alike.
 */
const cumulativeLimit = z.strictObject({
  absMm: z.number().positive(),
  pctH: z.number().positive().optional(),
})
export const pitCumulativeRuleSchema = z.strictObject({
  kind: z.literal('pit_cumulative'),
  /** The table's row for piles and diaphragm walls; absent: only the designer's value applies. */
  byGrade: gradeTable(cumulativeLimit).optional(),
  /** Other support types' rows, where the table gives them different values. */
  bySupport: bySupport(cumulativeLimit),
  warningFraction: z.number().positive().max(1),
  criticalMultiple: z.number().min(1).optional(),
  hysteresisFraction: z.number().nonnegative().max(0.5),
  minSamples: z.number().int().positive().default(1),
})

/**
 * Pit deformation rate per day (GB 50497-2019 §8.0.3), over a window of event time: alarm at the
 * limit, or at the warning level (70 % of it) on `sustainedDays` consecutive days (2009 edition:
 * "连续3天"); after the base slab is cast the limits are × 0.7. A rate `dangerFactor` times the
 * limit is a sudden marked increase (§8.0.9): critical.
 */
export const pitRateRuleSchema = z.strictObject({
  kind: z.literal('pit_rate'),
  /** Absent: only the designer's value applies (the table gives no rate). */
  byGrade: gradeTable(z.number().positive()).optional(),
  bySupport: bySupport(z.number().positive()),
  warningFraction: z.number().positive().max(1),
  sustainedDays: z.number().int().min(1).max(30),
  dangerFactor: z.number().min(1).optional(),
  afterBaseSlabFactor: z.number().positive().max(1),
  hysteresisFraction: z.number().nonnegative().max(0.5),
})

/**
 * Which of a point's design values a force rule compares with (GB 50497-2019 Table 8.0.4):
 * the member's capacity f2, the prestress (preload) design value fy, or the design load f1.
 */
export const designBases = ['capacity', 'prestress', 'designLoad'] as const
export type DesignBasis = (typeof designBases)[number]

/** A reading against one of the point's design values (forces and pressures, Table 8.0.4). */
export const pitDesignRuleSchema = z.strictObject({
  kind: z.literal('pit_design'),
  direction: z.enum(['above', 'below']),
  basis: z.enum(designBases),
  /**
   * Whether the point's general `designValue` stands in for the specific one: it meant the strut's
   * capacity and the anchor's prestress before the specific values existed.
   */
  designValueFallback: z.boolean().default(false),
  /** Alarm at this fraction of the design value, by pit grade. */
  byGrade: gradeTable(z.number().positive()),
  /** The warning level as a fraction of the alarm level (below 1 for `above`, over 1 for `below`). */
  warningFraction: z.number().positive(),
  hysteresisFraction: z.number().nonnegative().max(0.5),
})

/**
 * A force collapsing (GB 50497-2019 §8.0.9: struts or anchors breaking, slackening, pulling
 * out): the reading has lost `dropPct` % or more of the larger of the previous reading and the
 * one a rate window back. Ignored while that reference is below `minReferenceFraction` of the
 * point's design value (a strut being preloaded).
 */
export const pitDropRuleSchema = z.strictObject({
  kind: z.literal('pit_drop'),
  dropPct: z.number().positive().max(100),
  severity: severitySchema,
  minReferenceFraction: z.number().nonnegative().max(1),
  hysteresisPct: z.number().nonnegative().max(50),
})

/**
 * Differential settlement between a point and the point its settings pair it with (a building's
 * corners, neighbouring columns): |cumulative − the pair's cumulative|. Only the designer's value
 * applies (the tables give none in millimetres).
 */
export const pitDifferentialRuleSchema = z.strictObject({
  kind: z.literal('pit_differential'),
  warningFraction: z.number().positive().max(1),
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
  /**
   * The alarm only once the level has held for this many consecutive days (Table 8.0.5 note:
   * building tilt rate over 0.0001 H per day for 3 days); until then the level is a warning.
   */
  sustainedDays: z.number().int().min(1).max(30).optional(),
  dangerFactor: z.number().min(1).optional(),
})

/**
 * How far a site or device override may loosen the rule (issue 13). Stricter is always allowed,
 * to a supervisor. Laxer only to an admin, and only this far: `laxestLevels` for the catalogue's
 * own levels, `laxestFactor` × the limit in force for computed ones (a pit grade's row, a crane's
 * setting); `maxMinSamples` for waiting longer before raising; `mayDisable` to switch the rule
 * off. Without bounds, a rule cannot be made laxer at all: its limits are the standard's.
 */
export const overrideBoundsSchema = z.strictObject({
  laxestLevels: z
    .strictObject({
      warning: z.number().optional(),
      alarm: z.number().optional(),
      critical: z.number().optional(),
    })
    .optional(),
  laxestFactor: z.number().min(1).max(10).optional(),
  maxMinSamples: z.number().int().positive().optional(),
  mayDisable: z.boolean().optional(),
})
export type OverrideBounds = z.infer<typeof overrideBoundsSchema>

/** A rule for one kind of device, or `any` (unknown codes). */
export const ruleDeviceKindSchema = z.union([deviceKindSchema, z.literal('any')])

export const ruleSchema = z.strictObject({
  id: z.string().regex(/^[a-z]+(\.[a-z0-9_]+)+$/, 'dotted lower-case id, e.g. crane.moment'),
  title: z.strictObject({ zh: z.string().min(1), en: z.string().min(1) }),
  deviceKind: ruleDeviceKindSchema,
  /** The metric (crane), pit item, or `event` / `telemetry` the rule watches. */
  subject: z.string().min(1),
  unit: z.string().optional(),
  condition: z.discriminatedUnion('kind', [
    thresholdRuleSchema,
    eventRuleSchema,
    unknownCodeRuleSchema,
    craneLimitRuleSchema,
    craneSlewSectorRuleSchema,
    dataGapRuleSchema,
    pitCumulativeRuleSchema,
    pitRateRuleSchema,
    pitDesignRuleSchema,
    pitDropRuleSchema,
    pitDifferentialRuleSchema,
    pitFixedRuleSchema,
  ]),
  sources: z.array(ruleSourceSchema).min(1),
  bounds: overrideBoundsSchema.optional(),
})
export type Rule = z.infer<typeof ruleSchema>
export type ThresholdCondition = z.infer<typeof thresholdRuleSchema>
export type EventCondition = z.infer<typeof eventRuleSchema>
export type DataGapCondition = z.infer<typeof dataGapRuleSchema>
export type PitCumulativeCondition = z.infer<typeof pitCumulativeRuleSchema>
export type PitRateCondition = z.infer<typeof pitRateRuleSchema>
export type PitDesignCondition = z.infer<typeof pitDesignRuleSchema>
export type PitFixedCondition = z.infer<typeof pitFixedRuleSchema>
export type PitDropCondition = z.infer<typeof pitDropRuleSchema>
export type PitDifferentialCondition = z.infer<typeof pitDifferentialRuleSchema>
export type UnknownCodeCondition = z.infer<typeof unknownCodeRuleSchema>
export type CraneLimitCondition = z.infer<typeof craneLimitRuleSchema>
export type CraneSlewSectorCondition = z.infer<typeof craneSlewSectorRuleSchema>

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
      /** How the severity was judged when not by the level alone (a sustained run, a lift's peak). */
      readonly basis?: string | undefined
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

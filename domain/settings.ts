import { z } from 'zod'
import { pitItemSchema, pointCodeSchema } from './payloads.js'
import { identifierSchema } from './registry.js'

const level = z.number().nullable().optional()

/**
 * A threshold override for one rule on a site, or on one device of it (CONTRACT §4, §5.1
 * `PUT /api/sites/{siteId}/rules/{ruleId}`). Levels given replace the rule's; `null` removes a
 * level. The designer's values come first (GB 50497-2019 §8.0.1).
 */
export const ruleOverrideInputSchema = z.strictObject({
  deviceId: identifierSchema.optional(),
  levels: z.strictObject({ warning: level, alarm: level, critical: level }).optional(),
  hysteresis: z.number().nonnegative().optional(),
  minSamples: z.number().int().positive().max(1_000).optional(),
  enabled: z.boolean().optional(),
})
export type RuleOverrideInput = z.infer<typeof ruleOverrideInputSchema>

export type RuleOverrideSettings = Omit<RuleOverrideInput, 'deviceId'>

const positive = z.number().positive().nullable().optional()
/** An interval of at least a second and at most 31 days, in milliseconds. */
export const expectedIntervalSchema = z
  .number()
  .int()
  .min(1_000)
  .max(31 * 86_400_000)
  .nullable()
  .optional()

/** Pit point configuration (`PUT /api/sites/{siteId}/points/{pointCode}`): the designer's values. */
export const pointSettingsInputSchema = z.strictObject({
  item: pitItemSchema,
  /** The initial value; without it the first accepted reading is the baseline. */
  baseline: z.number().nullable().optional(),
  /**
   * The value a force rule compares with when the specific one below is not given: for struts
   * the capacity f2, for anchors the prestress fy (what this field meant before v0.2).
   */
  designValue: positive,
  /** The member's capacity f2 (strut and anchor maximum, wall and column internal force). */
  capacity: positive,
  /** The prestress (preload) design value fy (anchor and strut minimum). */
  prestress: positive,
  /** The design load f1 (earth and pore pressure). */
  designLoad: positive,
  /** The designer's alarm value for the cumulative change, replacing the table's. */
  cumulativeAlarm: positive,
  /** The designer's alarm value for the rate per day, replacing the table's. */
  rateAlarm: positive,
  /** Differential settlement: the point this one is compared with, and the designer's alarm (mm). */
  pairPointCode: pointCodeSchema.nullable().optional(),
  differentialAlarm: positive,
  /** How often the point is read (a manual survey: once a day): silence beyond it is a data gap. */
  expectedIntervalMs: expectedIntervalSchema,
  /** The instrument's resolution, at which derived values are compared (default by item). */
  resolution: z.number().positive().max(1_000).nullable().optional(),
})
export type PointSettingsInput = z.infer<typeof pointSettingsInputSchema>

export interface PointSettings {
  readonly siteId: string
  readonly pointCode: string
  readonly item: z.infer<typeof pitItemSchema>
  readonly baseline: number | null
  readonly designValue: number | null
  readonly capacity: number | null
  readonly prestress: number | null
  readonly designLoad: number | null
  readonly cumulativeAlarm: number | null
  readonly rateAlarm: number | null
  readonly pairPointCode: string | null
  readonly differentialAlarm: number | null
  readonly expectedIntervalMs: number | null
  readonly resolution: number | null
  readonly updatedAt: string
  readonly updatedBy: string
}

/** A sector the jib may not slew into, clockwise from `fromDeg` to `toDeg` (0–360, may wrap). */
export const slewSectorSchema = z
  .strictObject({ fromDeg: z.number().min(0).max(360), toDeg: z.number().min(0).max(360) })
  .refine((sector) => sector.fromDeg % 360 !== sector.toDeg % 360, { message: 'a sector needs a width' })

/**
 * Per-device settings (`PUT /api/devices/{deviceId}/settings`): the expected reporting interval
 * for any device, and a crane's own limits. A field set to null removes it; absent keeps it.
 */
export const deviceSettingsInputSchema = z
  .strictObject({
    expectedIntervalMs: expectedIntervalSchema,
    /** The crane's maximum rated load (t): a lift's `maxLoadT` is judged against it. */
    ratedCapacityT: z.number().positive().max(200).nullable().optional(),
    /** The site's hook height limit (m): airspace, power lines. */
    hookHeightMaxM: z.number().positive().max(400).nullable().optional(),
    radiusMinM: z.number().nonnegative().max(120).nullable().optional(),
    radiusMaxM: z.number().positive().max(120).nullable().optional(),
    forbiddenSlewSectors: z.array(slewSectorSchema).max(16).nullable().optional(),
  })
  .refine(
    (s) =>
      s.radiusMinM === undefined ||
      s.radiusMinM === null ||
      s.radiusMaxM === undefined ||
      s.radiusMaxM === null ||
      s.radiusMinM < s.radiusMaxM,
    { message: 'must be below radiusMaxM', path: ['radiusMinM'] },
  )
export type DeviceSettingsInput = z.infer<typeof deviceSettingsInputSchema>

/** A device's settings as stored (input merged, nulls removed): what the API answers too. */
export const deviceSettingsSchema = z.object({
  deviceId: z.string(),
  settings: z.object({
    expectedIntervalMs: z.number().optional(),
    ratedCapacityT: z.number().optional(),
    hookHeightMaxM: z.number().optional(),
    radiusMinM: z.number().optional(),
    radiusMaxM: z.number().optional(),
    forbiddenSlewSectors: z.array(slewSectorSchema).optional(),
  }),
  updatedAt: z.string(),
  updatedBy: z.string(),
})
export type DeviceSettings = z.infer<typeof deviceSettingsSchema>
export type DeviceSettingsValues = DeviceSettings['settings']

export interface RuleOverride {
  readonly siteId: string
  readonly ruleId: string
  readonly deviceId: string | null
  readonly settings: RuleOverrideSettings
  readonly updatedAt: string
  readonly updatedBy: string
}

/** An override in force, beside the limits it replaces and how it loosens them (GET /api/overrides). */
export interface OverrideView extends RuleOverride {
  readonly title: { readonly zh: string; readonly en: string }
  readonly defaults: readonly {
    readonly pointCode: string | null
    readonly levels: Partial<Record<'warning' | 'alarm' | 'critical', number>> | null
  }[]
  /** Each way it loosens the rule, in words; empty when it only makes the rule stricter. */
  readonly laxer: readonly string[]
}

/** One change of a site's settings, as regulators read it. */
export interface SettingsChange {
  readonly id: number
  readonly at: string
  readonly by: string
  readonly siteId: string
  readonly deviceId: string | null
  /** `rule:<ruleId>`, `point:<pointCode>`, `device-settings` or `load-chart`. */
  readonly subject: string
  readonly change: unknown
  readonly laxer: readonly string[]
}

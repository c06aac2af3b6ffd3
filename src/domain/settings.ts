import { z } from 'zod'
import { pitItemSchema } from './payloads.js'
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

/** Pit point configuration (`PUT /api/sites/{siteId}/points/{pointCode}`): the designer's values. */
export const pointSettingsInputSchema = z.strictObject({
  item: pitItemSchema,
  /** The initial value; without it the first accepted reading is the baseline. */
  baseline: z.number().nullable().optional(),
  /** Strut capacity f2 or anchor prestress fy, for the force rules. */
  designValue: z.number().positive().nullable().optional(),
  /** The designer's alarm value for the cumulative change, replacing the table's. */
  cumulativeAlarm: z.number().positive().nullable().optional(),
  /** The designer's alarm value for the rate per day, replacing the table's. */
  rateAlarm: z.number().positive().nullable().optional(),
})
export type PointSettingsInput = z.infer<typeof pointSettingsInputSchema>

export interface PointSettings {
  readonly siteId: string
  readonly pointCode: string
  readonly item: z.infer<typeof pitItemSchema>
  readonly baseline: number | null
  readonly designValue: number | null
  readonly cumulativeAlarm: number | null
  readonly rateAlarm: number | null
  readonly updatedAt: string
  readonly updatedBy: string
}

export interface RuleOverride {
  readonly siteId: string
  readonly ruleId: string
  readonly deviceId: string | null
  readonly settings: RuleOverrideSettings
  readonly updatedAt: string
  readonly updatedBy: string
}

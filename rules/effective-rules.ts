import type { PitItem } from '../domain/payloads.js'
import type { DeviceKind } from '../domain/registry.js'
import type { EffectiveRule } from '../domain/rule-views.js'
import { type Rule, severities } from '../domain/rules.js'
import type { DeviceSettingsValues, RuleOverrideSettings } from '../domain/settings.js'
import { craneSettingLimits } from './crane-items.js'
import { type PitCondition, type PitContext, resolvePitLimits } from './pit-limits.js'
import type { ThresholdLimits } from './threshold.js'
import { applyOverride, limitsOf } from './work-items.js'

export interface EffectiveScope {
  readonly deviceKind?: DeviceKind | undefined
  readonly override?: (ruleId: string) => { settings: RuleOverrideSettings; origin: string } | undefined
  readonly deviceSettings?: DeviceSettingsValues | undefined
  /** Pit context for a point (or for the site, with pointCode ''). */
  readonly pitContext?: ((pointCode: string) => PitContext) | undefined
  /** The pit points to resolve point rules for; none: the site's (or the table's) levels. */
  readonly points?: readonly { readonly pointCode: string; readonly item: PitItem }[] | undefined
}

export type { EffectiveRule }

const tableContext: PitContext = { pitGrade: null, pitDepthM: null, baseSlabCast: false, designValue: null }

/**
 * The thresholds in force for a scope, computed by the same functions the rule pipeline uses, so
 * `siteward rule list` and `GET /api/rules` show what the engine judges with.
 */
export function effectiveRules(rules: readonly Rule[], scope: EffectiveScope = {}): EffectiveRule[] {
  const out: EffectiveRule[] = []
  for (const rule of rules) {
    if (scope.deviceKind !== undefined && rule.deviceKind !== scope.deviceKind && rule.deviceKind !== 'any')
      continue
    const override = scope.override?.(rule.id)
    const base = {
      ruleId: rule.id,
      title: rule.title,
      deviceKind: rule.deviceKind,
      subject: rule.subject,
      pointCode: null,
      unit: rule.unit ?? null,
      codes: null,
      hysteresis: null,
      sustained: null,
      modes:
        'modes' in rule.condition && rule.condition.modes !== undefined ? [...rule.condition.modes] : null,
      needs: null,
      unconfirmed: rule.sources.some((source) => source.grade === 'UNCONFIRMED'),
      sources: rule.sources,
    }
    const disabled = override?.settings.enabled === false
    const row = (
      limits: ThresholdLimits | null,
      origin: string,
      extra: Partial<EffectiveRule> = {},
    ): EffectiveRule => {
      const applied = limits === null ? null : applyOverride(limits, override?.settings)
      return {
        ...base,
        levels: applied === null ? null : { ...applied.levels },
        hysteresis: applied?.hysteresis ?? null,
        sustained: applied?.sustainedBasis ?? null,
        status: disabled ? 'disabled' : 'applies',
        origin: override === undefined ? origin : `${override.origin} (over ${origin})`,
        ...extra,
      }
    }
    const needs = (what: string, origin = 'rule default'): EffectiveRule => ({
      ...row(null, origin),
      status: disabled ? 'disabled' : 'needs-configuration',
      needs: what,
    })
    const condition = rule.condition
    switch (condition.kind) {
      case 'threshold':
        out.push(row(limitsOf(condition), 'rule default'))
        break
      case 'event':
        out.push({ ...row(null, 'rule default'), codes: condition.codes })
        break
      case 'unknown_code':
        out.push({ ...row(null, 'rule default'), codes: { '(any code not mapped)': condition.severity } })
        break
      case 'data_gap': {
        const interval = scope.deviceSettings?.expectedIntervalMs
        const intervalMs = interval ?? condition.expectedIntervalMs
        out.push(
          row(null, interval === undefined ? 'rule default' : 'device setting expectedIntervalMs', {
            levels: { [condition.severity]: (intervalMs * condition.missedIntervals) / 1000 },
            unit: 's of silence',
          }),
        )
        break
      }
      case 'crane_limit':
      case 'crane_slew_sector': {
        const own = craneSettingLimits(condition, scope.deviceSettings)
        if ('needs' in own) out.push(needs(own.needs))
        else
          out.push(
            row(
              own.limits,
              own.origin,
              condition.kind === 'crane_slew_sector' ? { unit: '° inside a sector' } : {},
            ),
          )
        break
      }
      default: {
        const pit = condition as PitCondition
        const item = rule.subject as PitItem
        const points = (scope.points ?? []).filter((point) => point.item === item)
        const targets = points.length === 0 ? [null] : points.map((point) => point.pointCode)
        for (const pointCode of targets) {
          const context = scope.pitContext?.(pointCode ?? '') ?? tableContext
          const resolved = resolvePitLimits(pit, context, item)
          if ('skip' in resolved) out.push({ ...needs(resolved.skip), pointCode })
          else out.push({ ...row(resolved.limits, resolved.origin), pointCode })
        }
      }
    }
  }
  return out
}

/** "warning 90 · alarm 100 · critical 110" */
export function describeLevels(levels: EffectiveRule['levels']): string {
  if (levels === null) return '—'
  return severities
    .filter((severity) => levels[severity] !== undefined)
    .map((severity) => `${severity} ${levels[severity]}`)
    .join(' · ')
}

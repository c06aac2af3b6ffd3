import type { EffectiveRule } from './rule-views.js'
import { type Rule, severities } from './rules.js'
import type { RuleOverrideSettings } from './settings.js'

export interface OverrideJudgement {
  /** Each way the override loosens what the rule would judge without it, in words. */
  readonly laxer: readonly string[]
  /** Each of those that goes past the catalogue's bounds (nobody may set these). */
  readonly beyondBounds: readonly string[]
}

/**
 * Compares an override with the limits in force without it (`defaults`: the rule's rows for the
 * scope, from the same functions the pipeline uses) and with the rule's bounds (issue 13: a
 * supervisor set the crane moment alarm to 1.8e308; no regulator could see it).
 */
export function judgeOverride(
  rule: Rule,
  defaults: readonly EffectiveRule[],
  settings: RuleOverrideSettings,
): OverrideJudgement {
  const laxer: string[] = []
  const beyondBounds: string[] = []
  const bounds = rule.bounds ?? {}
  const direction = rule.condition.kind === 'threshold' ? rule.condition.direction : directionOf(rule)
  const looser = (value: number, than: number) => (direction === 'above' ? value > than : value < than)

  if (settings.enabled === false) {
    laxer.push('the rule is switched off')
    if (bounds.mayDisable !== true) beyondBounds.push(`${rule.id} may not be switched off`)
  }
  for (const severity of severities) {
    const set = settings.levels?.[severity]
    if (set === undefined) continue
    for (const row of defaults) {
      const current = row.levels?.[severity]
      if (current === undefined) continue
      const where = row.pointCode === null ? '' : ` at ${row.pointCode}`
      if (set === null) {
        laxer.push(`${severity} removed${where} (was ${current})`)
        beyondBounds.push(`${severity} may not be removed${where}`)
        continue
      }
      if (!looser(set, current)) continue
      laxer.push(`${severity} ${set}${where}, laxer than ${current}`)
      const laxest = laxestLevel(rule, severity, current)
      if (laxest === undefined || looser(set, laxest))
        beyondBounds.push(
          laxest === undefined
            ? `${severity} may not be laxer than ${current}${where}`
            : `${severity} may be at most ${laxest}${where}`,
        )
    }
  }
  const minSamples = 'minSamples' in rule.condition ? rule.condition.minSamples : undefined
  if (settings.minSamples !== undefined && minSamples !== undefined && settings.minSamples > minSamples) {
    laxer.push(`waits for ${settings.minSamples} readings, not ${minSamples}`)
    if (settings.minSamples > (bounds.maxMinSamples ?? minSamples))
      beyondBounds.push(`minSamples may be at most ${bounds.maxMinSamples ?? minSamples}`)
  }
  return { laxer: unique(laxer), beyondBounds: unique(beyondBounds) }
}

function laxestLevel(rule: Rule, severity: (typeof severities)[number], current: number): number | undefined {
  const absolute = rule.bounds?.laxestLevels?.[severity]
  if (absolute !== undefined) return absolute
  const factor = rule.bounds?.laxestFactor
  if (factor === undefined) return undefined
  const direction = rule.condition.kind === 'threshold' ? rule.condition.direction : directionOf(rule)
  return direction === 'above' ? current * factor : current / factor
}

/** Every computed limit breaches upwards, except a crane's minimum radius. */
function directionOf(rule: Rule): 'above' | 'below' {
  return rule.condition.kind === 'crane_limit' ? rule.condition.direction : 'above'
}

function unique(items: string[]): string[] {
  return [...new Set(items)]
}

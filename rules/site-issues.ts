import type { PitItem } from '../domain/payloads.js'
import type { Site } from '../domain/registry.js'
import type { ConfigurationIssue } from '../domain/rule-views.js'
import type { Rule } from '../domain/rules.js'
import { type PitCondition, type PitContext, resolvePitLimits } from './pit-limits.js'

/**
 * What a supervisor must know is missing, instead of the engine silently falling back: a pit
 * without its grade (grade 1 is assumed) or its design depth (the %H limits cannot apply), pit
 * points whose rules need the designer's values, cranes whose lifts cannot be judged for load.
 */
export function configurationIssues(input: {
  readonly site: Site
  readonly rules: readonly Rule[]
  readonly pitDevices: number
  readonly points: readonly { readonly pointCode: string; readonly item: PitItem }[]
  readonly pitContext: (pointCode: string) => PitContext
  readonly cranesWithoutCapacity: readonly string[]
}): ConfigurationIssue[] {
  const { site } = input
  const issues: ConfigurationIssue[] = []
  const pit = input.pitDevices > 0 || input.points.length > 0
  if (pit && site.pitGrade === null)
    issues.push({
      code: 'PIT_GRADE_MISSING',
      message: 'no pit safety grade: grade 1, the strictest, is assumed (site add --pit-grade)',
    })
  if (pit && site.pitGrade !== null && site.pitDepthM === null)
    issues.push({
      code: 'PIT_DEPTH_MISSING',
      message: `grade ${site.pitGrade} without a design depth: the %H limits of GB 50497-2019 Table 8.0.4 cannot apply, only the absolute ones (site add --pit-depth-m)`,
    })
  for (const point of input.points) {
    const context = input.pitContext(point.pointCode)
    for (const rule of input.rules) {
      if (rule.subject !== point.item || !rule.condition.kind.startsWith('pit_')) continue
      // A differential rule applies only to points the designer pairs: unpaired is no gap.
      if (rule.condition.kind === 'pit_differential' && (context.pairPointCode ?? null) === null) continue
      const resolved = resolvePitLimits(rule.condition as PitCondition, context, point.item)
      if ('skip' in resolved)
        issues.push({
          code: 'POINT_VALUE_MISSING',
          pointCode: point.pointCode,
          ruleId: rule.id,
          message: `point ${point.pointCode} (${point.item}): ${rule.id} does not apply: it ${resolved.skip}`,
        })
    }
  }
  for (const deviceId of input.cranesWithoutCapacity)
    issues.push({
      code: 'CRANE_CAPACITY_MISSING',
      deviceId,
      message: `crane ${deviceId}: no rated capacity or load chart, so a lift's maxLoadT is not judged (device set --rated-capacity-t)`,
    })
  return issues
}

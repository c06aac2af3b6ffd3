import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatIssues } from '../domain/issues.js'
import { type Rule, ruleCatalogueSchema } from '../domain/rules.js'

export class RuleCatalogueError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`invalid rule catalogue:\n${problems.map((problem) => `  ${problem}`).join('\n')}`)
    this.name = 'RuleCatalogueError'
    this.problems = problems
  }
}

/**
 * Reads every `*.json` file of the rule catalogue (SITEWARD_RULES_DIR), each an array of rules,
 * and validates them together; every problem is listed as `file: path: message`.
 */
export function loadRuleCatalogue(dir: string): Rule[] {
  const problems: string[] = []
  const rules: unknown[] = []
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
  for (const file of files) {
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(join(dir, file), 'utf8'))
    } catch (error) {
      problems.push(`${file}: not valid JSON: ${(error as Error).message}`)
      continue
    }
    const result = ruleCatalogueSchema.safeParse(parsed)
    if (!result.success)
      problems.push(...formatIssues(result.error, parsed).map((problem) => `${file}: ${problem}`))
    else rules.push(...result.data)
  }
  if (files.length === 0) problems.push(`${dir}: no rule files (*.json)`)
  const all = ruleCatalogueSchema.safeParse(rules)
  if (!all.success) problems.push(...formatIssues(all.error).map((problem) => `catalogue: ${problem}`))
  if (problems.length > 0) throw new RuleCatalogueError(problems)
  return all.success ? all.data : []
}

/** Each device kind's reporting interval, from its data-gap rule (crane 30 s, pit 15 min). */
export function expectedIntervals(rules: readonly Rule[]): Record<'crane' | 'pit', number> {
  const of = (kind: 'crane' | 'pit', fallback: number) => {
    const rule = rules.find((r) => r.deviceKind === kind && r.condition.kind === 'data_gap')
    return rule?.condition.kind === 'data_gap' ? rule.condition.expectedIntervalMs : fallback
  }
  return { crane: of('crane', 30_000), pit: of('pit', 900_000) }
}

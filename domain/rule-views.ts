import type { Rule, Severity } from './rules.js'

/** What the rule list and the site page show of the catalogue, computed in rules/. */

/** One rule as it stands for a scope (the catalogue, a site, a device, a pit point). */
export interface EffectiveRule {
  readonly ruleId: string
  readonly title: { readonly zh: string; readonly en: string }
  readonly deviceKind: Rule['deviceKind']
  readonly subject: string
  /** The pit point the levels were resolved for, when the scope has points. */
  readonly pointCode: string | null
  readonly unit: string | null
  readonly levels: Partial<Record<Severity, number>> | null
  /** Event rules: the codes and the severity each raises. */
  readonly codes: Readonly<Record<string, Severity>> | null
  readonly hysteresis: number | null
  readonly sustained: string | null
  readonly modes: string[] | null
  /** `applies`, `needs-configuration` (the rule needs a designer's or the crane's value), `disabled`. */
  readonly status: 'applies' | 'needs-configuration' | 'disabled'
  /** Where the numbers come from: rule default, an override, a grade's row, a design value. */
  readonly origin: string
  /** What is missing, when the rule needs configuration. */
  readonly needs: string | null
  /** Some of the rule's numbers have no standard behind them (UNCONFIRMED in its sources). */
  readonly unconfirmed: boolean
  readonly sources: Rule['sources']
}

/** A gap in a site's configuration that changes what the rules can judge (shown on the site). */
export interface ConfigurationIssue {
  readonly code: 'PIT_GRADE_MISSING' | 'PIT_DEPTH_MISSING' | 'POINT_VALUE_MISSING' | 'CRANE_CAPACITY_MISSING'
  readonly message: string
  readonly pointCode?: string
  readonly deviceId?: string
  readonly ruleId?: string
}

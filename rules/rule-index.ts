import type { PitItem } from '../domain/payloads.js'
import type { DeviceKind } from '../domain/registry.js'
import type { Rule, Severity } from '../domain/rules.js'

/** The catalogue sorted by what each rule reads, built once: most rules say nothing about most readings. */
export interface RuleIndex {
  /** Crane rules over live telemetry metrics (thresholds and per-crane limits). */
  readonly craneTelemetry: readonly Rule[]
  /** Crane threshold rules that also judge a work cycle's peak (`cycleField`). */
  readonly craneCycle: readonly Rule[]
  /** Event-code rules per device kind, and which rule maps each code. */
  readonly codeRules: ReadonlyMap<DeviceKind, readonly Rule[]>
  readonly codes: ReadonlyMap<
    DeviceKind,
    ReadonlyMap<string, { readonly rule: Rule; readonly severity: Severity }>
  >
  /** The rule for codes nothing maps (`unknown_code`), per kind. */
  readonly unknown: ReadonlyMap<DeviceKind, Rule>
  readonly gaps: ReadonlyMap<DeviceKind, readonly Rule[]>
  readonly pitByItem: ReadonlyMap<PitItem, readonly Rule[]>
}

const kinds: readonly DeviceKind[] = ['crane', 'pit']

export function indexRules(rules: readonly Rule[]): RuleIndex {
  const of = (kind: DeviceKind) =>
    rules.filter((rule) => rule.deviceKind === kind || rule.deviceKind === 'any')
  const craneRules = of('crane')
  const codeRules = new Map(kinds.map((kind) => [kind, of(kind).filter((r) => r.condition.kind === 'event')]))
  const codes = new Map(
    kinds.map((kind) => {
      const map = new Map<string, { rule: Rule; severity: Severity }>()
      for (const rule of codeRules.get(kind) ?? []) {
        if (rule.condition.kind !== 'event') continue
        for (const [code, severity] of Object.entries(rule.condition.codes))
          if (!map.has(code)) map.set(code, { rule, severity })
      }
      return [kind, map] as const
    }),
  )
  const unknown = new Map<DeviceKind, Rule>()
  for (const kind of kinds) {
    const rule = of(kind).find((r) => r.condition.kind === 'unknown_code')
    if (rule !== undefined) unknown.set(kind, rule)
  }
  const pitByItem = new Map<PitItem, Rule[]>()
  for (const rule of of('pit')) {
    if (!rule.condition.kind.startsWith('pit_')) continue
    const list = pitByItem.get(rule.subject as PitItem) ?? []
    list.push(rule)
    pitByItem.set(rule.subject as PitItem, list)
  }
  return {
    craneTelemetry: craneRules.filter((r) =>
      ['threshold', 'crane_limit', 'crane_slew_sector'].includes(r.condition.kind),
    ),
    craneCycle: craneRules.filter(
      (r) => r.condition.kind === 'threshold' && r.condition.cycleField !== undefined,
    ),
    codeRules,
    codes,
    unknown,
    gaps: new Map(kinds.map((kind) => [kind, of(kind).filter((r) => r.condition.kind === 'data_gap')])),
    pitByItem,
  }
}

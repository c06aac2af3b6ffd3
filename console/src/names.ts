// What the console calls things, in the users' words: rules by their catalogue names, sites by
// their names, roles and actors in the reader's language, values with their unit at the
// precision the unit deserves ("121 % / 110 %", "13.5 m/s", "2.1 mm/d"). The names are loaded
// once per sign-in from the API; until then (or for an unknown id) the id itself is shown.
import { type Alert, api, type Me } from './api.js'
import { language, t } from './i18n.js'

interface RuleName {
  readonly title: { readonly zh: string; readonly en: string }
  readonly unit: string | null
}

const rules = new Map<string, RuleName>()
const sites = new Map<string, string>()

export async function loadNames(): Promise<void> {
  const [catalogue, visible] = await Promise.all([
    api.get<{ items: ({ ruleId: string } & RuleName)[] }>('/api/rules'),
    api.get<{ items: { id: string; name: string }[] }>('/api/sites'),
  ])
  for (const rule of catalogue.items) rules.set(rule.ruleId, { title: rule.title, unit: rule.unit })
  for (const site of visible.items) sites.set(site.id, site.name)
}

export function ruleName(ruleId: string): string {
  const rule = rules.get(ruleId)
  return rule === undefined ? ruleId : language() === 'en' ? rule.title.en : rule.title.zh
}

export function siteName(siteId: string): string {
  return sites.get(siteId) ?? siteId
}

export function unitOf(ruleId: string): string | null {
  return rules.get(ruleId)?.unit ?? null
}

/** Decimals per unit: what an instrument resolves, and what a reader can take in at a glance. */
const decimals: Readonly<Record<string, number>> = {
  '%': 1,
  'm/s': 1,
  mm: 1,
  'mm/d': 1,
  m: 1,
  kN: 0,
  kPa: 1,
  V: 0,
  '°': 2,
  '‰': 2,
  '‰/d': 3,
}

/** "13.5 m/s": the value rounded for its unit, trailing zeros dropped ("121 %", not "121.0 %"). */
export function formatMeasure(value: number | null | undefined, unit: string | null): string {
  if (value === null || value === undefined) return '—'
  const text = new Intl.NumberFormat(language(), {
    maximumFractionDigits: unit === null ? 2 : (decimals[unit] ?? 2),
    useGrouping: false,
  }).format(value)
  return unit === null ? text : `${text} ${unit}`
}

/** The value against the threshold that fired: "121 % / 110 %". */
export function valueText(alert: Alert): string {
  const unit = unitOf(alert.ruleId)
  return `${formatMeasure(alert.value ?? alert.peakValue, unit)} / ${formatMeasure(alert.threshold, unit)}`
}

export function roleName(role: Me['role']): string {
  return t(`role_${role}` as const)
}

/** Who did a step of the timeline: a person by name, the engine and the CLI in the reader's words. */
export function actorName(actor: string): string {
  if (actor === 'engine') return t('actorEngine')
  if (actor === 'cli') return t('actorCli')
  return actor
}

/** [id, name] of every site the reader may see, by name: for filters. */
export function siteChoices(): [string, string][] {
  return [...sites].sort((a, b) => a[1].localeCompare(b[1], language()))
}

/** [id, name] of every rule of the catalogue, by name: for filters. */
export function ruleChoices(): [string, string][] {
  return [...rules.keys()]
    .map((id): [string, string] => [id, ruleName(id)])
    .sort((a, b) => a[1].localeCompare(b[1], language()))
}

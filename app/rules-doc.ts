import type { Rule } from '../domain/rules.js'

/**
 * RULES.md, rendered from the catalogue (`npm run rules:doc`): every rule, its thresholds per
 * grade and mode, its sources with their grades, and UNCONFIRMED marks. A test renders it again
 * and fails when the file and the catalogue disagree.
 */
export function renderRulesDoc(rules: readonly Rule[]): string {
  const sections: [string, (rule: Rule) => boolean][] = [
    ['Tower cranes', (rule) => rule.deviceKind === 'crane'],
    ['Foundation pits (GB 50497-2019)', (rule) => rule.deviceKind === 'pit'],
    ['Any device', (rule) => rule.deviceKind === 'any'],
  ]
  const out = [
    '# Rule catalogue',
    '',
    'Generated from `seeds/rules/*.json` by `npm run rules:doc`; `test/app/rules-doc.test.ts` fails when',
    'this file and the catalogue disagree. Do not edit it by hand: edit the catalogue and render it again.',
    '',
    'Grades of a source: **STD** (a standard text read), **STD\\*** (a third-party copy of the standard:',
    'verify before claiming compliance), **PRACTICE** (project or regional practice), **VENDOR** (device',
    'defaults), **DESIGN** (the designer’s or the site’s own value), **UNCONFIRMED** (no source found: the',
    'conservative end, to be configured, never to be presented as regulation). Every threshold can be',
    'overridden per site or device (`siteward rule set`), and a pit point’s design values replace the',
    'table’s (`siteward point set`). `siteward rule list --site S` shows what is in force for a site.',
    '',
    'A supervisor may make any rule stricter. Loosening one (a laxer level, more samples before it',
    'raises, switching it off) is for an admin only, and only as far as the rule’s **may be loosened**',
    'note below says; a rule without that note cannot be loosened at all. Every override and who set it',
    'is listed for regulators (`GET /api/overrides`, the site page) and named on the alerts it raises.',
    '',
    'Severities: `warning` 预警 (yellow), `alarm` 报警 (orange), `critical` 危险 (red).',
  ]
  for (const [title, belongs] of sections) {
    const chosen = rules.filter(belongs)
    if (chosen.length === 0) continue
    out.push(
      '',
      `## ${title}`,
      '',
      '| rule | name | judges | thresholds | sources |',
      '| --- | --- | --- | --- | --- |',
    )
    for (const rule of chosen) {
      out.push(
        `| \`${rule.id}\`${mark(rule)} | ${rule.title.zh}<br>${rule.title.en} | ${cell(subjectOf(rule))} | ${cell(thresholdsOf(rule))} | ${cell(sourcesOf(rule))} |`,
      )
    }
    out.push('', '### Notes', '')
    for (const rule of chosen) {
      const notes = rule.sources
        .filter((source) => source.note !== undefined)
        .map((source) => `${source.note} (${reference(source)})`)
      const loosened = boundsOf(rule)
      if (loosened !== null) notes.push(`**may be loosened** by an admin: ${loosened}`)
      if (notes.length === 0) continue
      out.push(`- \`${rule.id}\`: ${notes.join('; ')}`)
    }
  }
  return `${out.join('\n')}\n`
}

/** What an admin may loosen, in words, or null when the rule cannot be loosened. */
function boundsOf(rule: Rule): string | null {
  const bounds = rule.bounds
  if (bounds === undefined) return null
  const parts = [
    ...Object.entries(bounds.laxestLevels ?? {}).map(([severity, level]) => `${severity} up to ${level}`),
    ...(bounds.laxestFactor === undefined ? [] : [`levels up to ${bounds.laxestFactor} × those in force`]),
    ...(bounds.maxMinSamples === undefined ? [] : [`up to ${bounds.maxMinSamples} readings before raising`]),
    ...(bounds.mayDisable === true ? ['switched off'] : []),
  ]
  return parts.length === 0 ? null : parts.join(', ')
}

const mark = (rule: Rule) =>
  rule.sources.some((source) => source.grade === 'UNCONFIRMED') ? ' ⚠ UNCONFIRMED' : ''
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', '<br>')
const reference = (source: Rule['sources'][number]) =>
  `${source.standard}${source.clause === undefined ? '' : ` §${source.clause}`}, ${source.grade}`
const sourcesOf = (rule: Rule) => rule.sources.map(reference).join('<br>')

function subjectOf(rule: Rule): string {
  const unit = rule.unit === undefined ? '' : ` (${rule.unit})`
  const c = rule.condition
  if (c.kind === 'event') return 'device codes: `event`, `deviceAlarms`, a lift’s `violations`'
  if (c.kind === 'unknown_code') return 'any code no rule maps'
  if (c.kind === 'data_gap') return 'silence of the device (or of a point with its own interval)'
  if (rule.deviceKind === 'pit') {
    const measure: Record<string, string> = {
      pit_cumulative: 'cumulative change',
      pit_rate: 'rate per day over the rate window',
      pit_design: 'value against a design value',
      pit_drop: 'loss of force',
      pit_differential: 'difference from the paired point',
    }
    const what =
      c.kind === 'pit_fixed'
        ? { cumulative: 'cumulative change', rate: 'rate per day', value: 'value' }[c.measure]
        : measure[c.kind]
    return `\`${rule.subject}\`: ${what}${unit}`
  }
  const modes = 'modes' in c && c.modes !== undefined ? `; modes ${c.modes.join(', ')}` : '; every mode'
  const cycle = c.kind === 'threshold' && c.cycleField !== undefined ? `; a lift’s \`${c.cycleField}\`` : ''
  return `\`${rule.subject}\`${unit}${modes}${cycle}`
}

const levels = (l: { warning?: number; alarm?: number; critical?: number }, unit = '') =>
  (['warning', 'alarm', 'critical'] as const)
    .filter((s) => l[s] !== undefined)
    .map((s) => `${s} ${l[s]}${unit}`)
    .join(', ')
const pct = (fraction: number) => `${Math.round(fraction * 1000) / 10} %`

function thresholdsOf(rule: Rule): string {
  const c = rule.condition
  const unit = rule.unit === undefined ? '' : ` ${rule.unit}`
  switch (c.kind) {
    case 'threshold':
      return `${levels(c.levels, unit)}; hysteresis ${c.hysteresis}; ${c.minSamples} reading${c.minSamples === 1 ? '' : 's'}`
    case 'event':
      return Object.entries(c.codes)
        .map(([code, severity]) => `\`${code}\` ${severity}`)
        .join(', ')
    case 'unknown_code':
      return `${c.severity}, the code as the subject`
    case 'data_gap':
      return `${c.severity} after ${c.missedIntervals} × ${c.expectedIntervalMs / 1000} s (or the device’s, the point’s interval)`
    case 'crane_limit':
      return `alarm at the crane’s \`${c.setting}\`, warning ${c.warningMargin}${unit} before it; needs the crane’s value`
    case 'crane_slew_sector':
      return `alarm on entering a forbidden sector, warning ${c.warningMarginDeg}° before its edge; needs the crane’s sectors`
    case 'pit_cumulative': {
      const row = (table: NonNullable<typeof c.byGrade>) =>
        (['1', '2', '3'] as const)
          .map(
            (g) =>
              `grade ${g}: ${table[g].absMm} mm${table[g].pctH === undefined ? '' : ` or ${table[g].pctH} % H`}`,
          )
          .join(', ')
      const base = c.byGrade === undefined ? 'the designer’s value only' : row(c.byGrade)
      const support = Object.entries(c.bySupport ?? {})
        .map(([type, table]) => `${type}: ${row(table)}`)
        .join('; ')
      return `alarm at ${base}${support === '' ? '' : `; ${support}`} (the smaller); warning at ${pct(c.warningFraction)}`
    }
    case 'pit_rate': {
      const row = (table: Record<'1' | '2' | '3', number>) =>
        (['1', '2', '3'] as const).map((g) => `grade ${g}: ${table[g]}${unit}`).join(', ')
      const base = c.byGrade === undefined ? 'the designer’s value only' : row(c.byGrade)
      const support = Object.entries(c.bySupport ?? {})
        .map(([type, table]) => `${type}: ${row(table)}`)
        .join('; ')
      return [
        `alarm at ${base}${support === '' ? '' : `; ${support}`}`,
        `warning at ${pct(c.warningFraction)}, alarm at it on ${c.sustainedDays} consecutive days`,
        ...(c.dangerFactor === undefined
          ? []
          : [`critical at ${c.dangerFactor} × (a sudden marked increase)`]),
        `× ${c.afterBaseSlabFactor} after the base slab`,
      ].join('; ')
    }
    case 'pit_design':
      return `alarm ${c.direction} ${(['1', '2', '3'] as const).map((g) => `grade ${g}: ${pct(c.byGrade[g])}`).join(', ')} of the ${c.basis === 'capacity' ? 'capacity f2' : c.basis === 'prestress' ? 'prestress fy' : 'design load f1'}; warning at ${pct(c.warningFraction)} of the alarm level; needs the point’s value`
    case 'pit_drop':
      return `${c.severity} at a loss of ${c.dropPct} % against the previous reading or the one a window back`
    case 'pit_differential':
      return `alarm at the designer’s value, warning at ${pct(c.warningFraction)}; needs the paired point`
    case 'pit_fixed':
      return c.sustainedDays === undefined
        ? `alarm ${c.alarm}${unit}, warning at ${pct(c.warningFraction)}${c.dangerFactor === undefined ? '' : `, critical at ${c.dangerFactor} ×`}`
        : `warning at ${c.alarm * c.warningFraction}${unit}, alarm once it has held ${c.sustainedDays} consecutive days`
  }
}

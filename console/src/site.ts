// A site: its devices' online state and, over the last 24 hours, data completeness (readings
// received against what each device's interval promises) and the alert figures.
import { api, type Me } from './api.js'
import { type Device, deviceTable, type Site } from './devices.js'
import { h, replace } from './dom.js'
import { formatTime, t } from './i18n.js'
import { actorName, formatMeasure, ruleName, siteName, unitOf } from './names.js'

interface SiteIssue {
  code: string
  message: string
  pointCode?: string
  ruleId?: string
  deviceId?: string
}

interface SiteWithIssues extends Site {
  issues: SiteIssue[]
}

const issueCodes = [
  'PIT_GRADE_MISSING',
  'PIT_DEPTH_MISSING',
  'POINT_VALUE_MISSING',
  'CRANE_CAPACITY_MISSING',
] as const

/** An issue in the viewer's language; the engine's own sentence (with the fix) beneath it. */
function issueItem(issue: SiteIssue): HTMLElement {
  const known = (issueCodes as readonly string[]).includes(issue.code)
  const text = known
    ? t(issue.code as (typeof issueCodes)[number])
        .replace('{point}', issue.pointCode ?? '')
        .replace('{rule}', issue.ruleId === undefined ? '' : ruleName(issue.ruleId))
        .replace('{device}', issue.deviceId ?? '')
    : issue.message
  return h('li', { 'data-code': issue.code }, text, known ? h('div', { class: 'hint' }, issue.message) : null)
}

interface Group {
  key: string
  raised: number
  open: number
  monitoring: { completeness: number | null; onlineNow: number; devices: number } | null
}

interface Override {
  ruleId: string
  deviceId: string | null
  settings: { levels?: Record<string, number | null>; minSamples?: number; enabled?: boolean }
  defaults: { pointCode: string | null; levels: Record<string, number> | null }[]
  laxer: string[]
  updatedAt: string
  updatedBy: string
}

const severities = ['warning', 'alarm', 'critical'] as const

/** "预警 95 %, 报警 —": levels in the reader's words and the rule's unit. */
function levelsText(levels: Record<string, number | null> | null | undefined, ruleId: string): string {
  if (levels === null || levels === undefined) return '—'
  return severities
    .filter((severity) => severity in levels)
    .map(
      (severity) =>
        `${t(severity)} ${levels[severity] === null ? '—' : formatMeasure(levels[severity], unitOf(ruleId))}`,
    )
    .join(', ')
}

/** Every override of the site's thresholds, who set it, and how it loosens the rule (issue 13). */
function overridesSection(overrides: Override[]): HTMLElement {
  return h(
    'section',
    { class: 'overrides', 'aria-label': t('overrides') },
    h('h3', {}, t('overrides')),
    h('p', { class: 'hint' }, t('overridesHint')),
    overrides.length === 0
      ? h('p', { class: 'empty' }, t('noOverrides'))
      : h(
          'table',
          { class: 'overrides' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              [t('rule'), t('device'), t('value'), t('ruleDefault'), t('laxer'), t('setBy')].map((label) =>
                h('th', { scope: 'col' }, label),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            overrides.map((override) =>
              h(
                'tr',
                { 'data-rule-id': override.ruleId, class: override.laxer.length > 0 ? 'laxer' : undefined },
                h('th', { scope: 'row' }, ruleName(override.ruleId)),
                h('td', {}, override.deviceId ?? t('site')),
                h(
                  'td',
                  {},
                  override.settings.enabled === false
                    ? t('disabled')
                    : levelsText(override.settings.levels, override.ruleId),
                ),
                h('td', {}, levelsText(override.defaults[0]?.levels, override.ruleId)),
                h(
                  'td',
                  {},
                  override.laxer.length === 0 ? t('stricterOnly') : `⚠ ${override.laxer.join('; ')}`,
                ),
                h('td', {}, `${actorName(override.updatedBy)} · ${formatTime(override.updatedAt)}`),
              ),
            ),
          ),
        ),
  )
}

export function renderSite({ main }: { main: HTMLElement; me: Me }, siteId: string): void {
  const body = h('div', {}, t('loading'))
  replace(main, h('h2', {}, `${t('site')} ${siteName(siteId)}`), body)
  const to = new Date()
  const range = `from=${new Date(to.getTime() - 86_400_000).toISOString()}&to=${to.toISOString()}`
  const id = encodeURIComponent(siteId)
  void (async () => {
    const [site, devices, perDevice, perSite, overrides] = await Promise.all([
      api.get<SiteWithIssues>(`/api/sites/${id}`),
      api.get<{ items: Device[] }>(`/api/sites/${id}/devices`),
      api.get<{ groups: Group[] }>(`/api/reports/summary?${range}&groupBy=device&siteId=${id}`),
      api.get<{ groups: Group[] }>(`/api/reports/summary?${range}&groupBy=site&siteId=${id}`),
      api.get<{ items: Override[] }>(`/api/overrides?siteId=${id}`),
    ])
    const completeness = (ratio: number | null | undefined) =>
      ratio === null || ratio === undefined ? '—' : `${Math.round(ratio * 100)} %`
    const total = perSite.groups[0]
    replace(
      body,
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t('site')),
        h('dd', {}, `${site.name} (${site.region})`),
        h('dt', {}, t('onlineNow')),
        h(
          'dd',
          {},
          total?.monitoring === null || total === undefined
            ? '—'
            : `${total.monitoring.onlineNow} / ${total.monitoring.devices}`,
        ),
        h('dt', {}, `${t('completeness')} (24 h)`),
        h('dd', {}, completeness(total?.monitoring?.completeness)),
        h('dt', {}, `${t('raised')} (24 h)`),
        h('dd', {}, total?.raised ?? 0),
      ),
      // What the site's configuration leaves the rules unable to judge: shown, never silent.
      site.issues.length === 0
        ? null
        : h(
            'section',
            { class: 'issues', 'aria-label': t('configIssues') },
            h('h3', {}, t('configIssues')),
            h('ul', {}, site.issues.map(issueItem)),
          ),
      overridesSection(overrides.items),
      deviceTable(devices.items, {
        head: `${t('completeness')} (24 h)`,
        cell: (device) =>
          completeness(perDevice.groups.find((g) => g.key === device.id)?.monitoring?.completeness),
      }),
      h('p', {}, h('a', { href: `#/incidents` }, t('incidents'))),
    )
  })().catch((error: unknown) =>
    replace(body, h('p', { class: 'problem', role: 'alert' }, `${t('error')}: ${String(error)}`)),
  )
}

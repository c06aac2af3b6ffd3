// A site: its devices' online state and, over the last 24 hours, data completeness (readings
// received against what each device's interval promises) and the alert figures.
import { api, type Me } from './api.js'
import { type Device, deviceTable, type Site } from './devices.js'
import { h, replace } from './dom.js'
import { t } from './i18n.js'

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
        .replace('{rule}', issue.ruleId ?? '')
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

export function renderSite({ main }: { main: HTMLElement; me: Me }, siteId: string): void {
  const body = h('div', {}, t('loading'))
  replace(main, h('h2', {}, `${t('site')} ${siteId}`), body)
  const to = new Date()
  const range = `from=${new Date(to.getTime() - 86_400_000).toISOString()}&to=${to.toISOString()}`
  const id = encodeURIComponent(siteId)
  void (async () => {
    const [site, devices, perDevice, perSite] = await Promise.all([
      api.get<SiteWithIssues>(`/api/sites/${id}`),
      api.get<{ items: Device[] }>(`/api/sites/${id}/devices`),
      api.get<{ groups: Group[] }>(`/api/reports/summary?${range}&groupBy=device&siteId=${id}`),
      api.get<{ groups: Group[] }>(`/api/reports/summary?${range}&groupBy=site&siteId=${id}`),
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

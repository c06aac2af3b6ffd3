// The regulators' figures: the summary by site and by rule, alerts per day by severity, and how
// long acknowledgement took, over the last 7 or 30 days.
import { type Alert, api, type Me } from './api.js'
import { barChart } from './chart.js'
import { field, h, replace } from './dom.js'
import { formatDuration, t } from './i18n.js'
import { ruleName, siteName } from './names.js'

interface Group {
  key: string
  raised: number
  acknowledged: number
  closed: number
  open: number
  overdue: number
  escalated: number
  acknowledgeRate: number | null
  closeRate: number | null
  timeToAcknowledge: { p50Ms: number | null; p90Ms: number | null }
  timeToClose: { p50Ms: number | null }
  monitoring: { devices: number; onlineNow: number; completeness: number | null } | null
}
interface Summary {
  groups: Group[]
}

const colors = { critical: '#c62828', alarm: '#ef6c00', warning: '#d4a000' } as const
const percent = (ratio: number | null) => (ratio === null ? '—' : `${Math.round(ratio * 100)} %`)

export function renderReports({ main }: { main: HTMLElement; me: Me }): void {
  const period = h(
    'select',
    { name: 'period' },
    h('option', { value: '7' }, t('last7')),
    h('option', { value: '30' }, t('last30')),
  )
  const body = h('div')
  const failed = (error: unknown) =>
    replace(body, h('p', { class: 'problem', role: 'alert' }, `${t('error')}: ${String(error)}`))
  period.addEventListener('change', () => void load().catch(failed))
  replace(main, h('h2', {}, t('reports')), field(t('period'), period), body)
  const load = async () => {
    replace(body, h('p', {}, t('loading')))
    const to = new Date(Date.now() + 60_000)
    const from = new Date(to.getTime() - Number(period.value) * 86_400_000)
    const range = `from=${from.toISOString()}&to=${to.toISOString()}`
    const [bySite, byRule, perDay, incidents] = await Promise.all([
      api.get<Summary>(`/api/reports/summary?${range}&groupBy=site`),
      api.get<Summary>(`/api/reports/summary?${range}&groupBy=rule`),
      Promise.all(
        (['critical', 'alarm', 'warning'] as const).map((severity) =>
          api.get<Summary>(`/api/reports/summary?${range}&groupBy=day&severity=${severity}`),
        ),
      ),
      api.get<{ items: Alert[] }>(`/api/incidents?${range}&reached=acknowledged&limit=1000`),
    ])
    const charts = h('div', { class: 'charts' })
    replace(
      body,
      h('h3', {}, t('summaryBySite')),
      table(bySite.groups, 'site', true),
      h('h3', {}, t('summaryByRule')),
      table(byRule.groups, 'rule', false),
      charts,
    )
    const days = [...new Set(perDay.flatMap((s) => s.groups.map((g) => g.key)))].sort()
    barChart(
      charts,
      t('perDay'),
      days.map((day) => day.slice(5)),
      (['critical', 'alarm', 'warning'] as const).map((severity, i) => ({
        label: t(severity),
        color: colors[severity],
        values: days.map((day) => perDay[i]?.groups.find((g) => g.key === day)?.raised ?? 0),
      })),
    )
    const buckets = [1, 5, 15, 30, 60, 240, Number.POSITIVE_INFINITY]
    const minutes = incidents.items.flatMap((a) =>
      a.acknowledged === null ? [] : [(Date.parse(a.acknowledged.at) - Date.parse(a.raisedAt)) / 60_000],
    )
    barChart(
      charts,
      t('ackDistribution'),
      buckets.map((limit, i) => (limit === Number.POSITIVE_INFINITY ? `>${buckets[i - 1]}m` : `≤${limit}m`)),
      [
        {
          label: t('acknowledged'),
          color: '#1f5fbf',
          values: buckets.map(
            (limit, i) => minutes.filter((m) => m <= limit && m > (buckets[i - 1] ?? -1)).length,
          ),
        },
      ],
    )
  }
  void load().catch(failed)
}

function table(groups: Group[], kind: 'site' | 'rule', monitoring: boolean): HTMLElement {
  const head = [
    kind === 'site' ? t('site') : t('rule'),
    t('raised'),
    t('open'),
    t('ackRate'),
    t('closeRate'),
    t('overdue'),
    t('escalated'),
    t('p50Ack'),
    t('p90Ack'),
    t('p50Close'),
  ]
  if (monitoring) head.push(t('onlineNow'), t('completeness'))
  return h(
    'table',
    { class: `summary by-${kind}` },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        head.map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      {},
      groups.map((g) =>
        h(
          'tr',
          { 'data-key': g.key },
          h(
            'th',
            { scope: 'row' },
            kind === 'site'
              ? h('a', { href: `#/sites/${encodeURIComponent(g.key)}` }, siteName(g.key))
              : ruleName(g.key),
          ),
          [g.raised, g.open, percent(g.acknowledgeRate), percent(g.closeRate), g.overdue, g.escalated].map(
            (v) => h('td', {}, v),
          ),
          [g.timeToAcknowledge.p50Ms, g.timeToAcknowledge.p90Ms, g.timeToClose.p50Ms].map((ms) =>
            h('td', {}, formatDuration(ms)),
          ),
          monitoring
            ? [
                h(
                  'td',
                  {},
                  g.monitoring === null ? '—' : `${g.monitoring.onlineNow} / ${g.monitoring.devices}`,
                ),
                h('td', {}, percent(g.monitoring?.completeness ?? null)),
              ]
            : [],
        ),
      ),
    ),
  )
}

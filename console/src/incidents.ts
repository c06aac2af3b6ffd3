// Incident history with the incidents route's filters, paging on, and CSV export of the same set.
import { severityBadge, subjectText, valueText } from './alert-view.js'
import { type Alert, api, type Me } from './api.js'
import { field, h, replace } from './dom.js'
import { formatTime, type MessageKey, t } from './i18n.js'
import { ruleChoices, siteChoices, siteName } from './names.js'

const choice = (name: string, options: [string, string][]) =>
  h(
    'select',
    { name },
    h('option', { value: '' }, t('any')),
    options.map(([value, label]) => h('option', { value }, label)),
  )

export function renderIncidents({ main }: { main: HTMLElement; me: Me }): void {
  const keyed = (keys: string[]) => keys.map((key): [string, string] => [key, t(key as MessageKey)])
  // The incidents route's filters (CONTRACT §5.1, README): one control each.
  const controls = {
    region: h('input', { type: 'text', name: 'region', maxlength: 32 }),
    siteId: choice('siteId', siteChoices()),
    deviceId: h('input', { type: 'text', name: 'deviceId', maxlength: 64 }),
    ruleId: choice('ruleId', ruleChoices()),
    severity: choice('severity', keyed(['critical', 'alarm', 'warning'])),
    state: choice('state', keyed(['open', 'acknowledged', 'resolved', 'closed'])),
    condition: choice('condition', keyed(['active', 'cleared'])),
    reached: choice('reached', keyed(['acknowledged', 'resolved', 'closed'])),
    open: choice('open', [['true', t('notClosed')]]),
    escalated: choice('escalated', [
      ['true', t('yes')],
      ['false', t('no')],
    ]),
    overdue: choice('overdue', [['true', t('overdue')]]),
    retrospective: choice('retrospective', [
      ['true', t('yes')],
      ['false', t('no')],
    ]),
    from: h('input', { type: 'date', name: 'from' }),
    to: h('input', { type: 'date', name: 'to' }),
  }
  const labels: Record<keyof typeof controls, MessageKey> = {
    region: 'region',
    siteId: 'site',
    deviceId: 'device',
    ruleId: 'rule',
    severity: 'severity',
    state: 'state',
    condition: 'condition',
    reached: 'reached',
    open: 'notClosed',
    escalated: 'escalated',
    overdue: 'overdue',
    retrospective: 'retrospective',
    from: 'from',
    to: 'to',
  }
  const rows = h('tbody')
  const more = h('button', { type: 'button', hidden: true }, t('more'))
  const count = h('p', { role: 'status' })
  let cursor: string | null = null
  let shown = 0

  /** Dates are China days: from 00:00 of the first to 00:00 after the last. */
  const query = () => {
    const params = new URLSearchParams()
    for (const [name, control] of Object.entries(controls)) {
      const value = control.value.trim()
      if (value === '') continue
      if (name === 'from') params.set('from', new Date(`${value}T00:00:00+08:00`).toISOString())
      else if (name === 'to')
        params.set('to', new Date(Date.parse(`${value}T00:00:00+08:00`) + 86_400_000).toISOString())
      else params.set(name, value)
    }
    return params
  }
  const load = async (reset: boolean) => {
    if (reset) {
      cursor = null
      shown = 0
      replace(rows)
    }
    const params = query()
    params.set('limit', '100')
    if (cursor !== null) params.set('cursor', cursor)
    const page = await api.get<{ items: Alert[]; nextCursor: string | null }>(`/api/incidents?${params}`)
    cursor = page.nextCursor
    shown += page.items.length
    rows.append(...page.items.map(row))
    more.hidden = cursor === null
    count.textContent = t('incidentCount').replace('{n}', `${shown}${cursor === null ? '' : '+'}`)
  }
  const failed = (error: unknown) => {
    count.textContent = `${t('error')}: ${String(error)}`
  }
  more.addEventListener('click', () => void load(false).catch(failed))
  const form = h(
    'form',
    {
      class: 'filters',
      onsubmit: (event: Event) => {
        event.preventDefault()
        void load(true).catch(failed)
      },
    },
    h(
      'fieldset',
      {},
      h('legend', {}, t('filters')),
      Object.entries(controls).map(([name, control]) =>
        field(t(labels[name as keyof typeof controls]), control),
      ),
    ),
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit' }, t('apply')),
      h(
        'button',
        {
          type: 'button',
          class: 'export',
          onclick: () =>
            api
              .download(`/api/incidents.csv?${query()}`, 'siteward-incidents.csv')
              .catch((error: unknown) => {
                count.textContent = `${t('error')}: ${String(error)}`
              }),
        },
        t('exportCsv'),
      ),
    ),
  )
  replace(
    main,
    h('h2', {}, t('incidents')),
    form,
    count,
    h(
      'table',
      { class: 'incidents' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          (
            ['severity', 'site', 'device', 'rule', 'value', 'state', 'raisedAt', 'escalationLevel'] as const
          ).map((key) => h('th', { scope: 'col' }, t(key))),
        ),
      ),
      rows,
    ),
    more,
  )
  void load(true).catch(failed)
}

function row(alert: Alert): HTMLElement {
  return h(
    'tr',
    { 'data-alert-id': alert.id },
    h('td', {}, severityBadge(alert.severity)),
    h('td', {}, h('a', { href: `#/sites/${encodeURIComponent(alert.siteId)}` }, siteName(alert.siteId))),
    h('td', {}, alert.deviceId),
    h('td', {}, h('a', { href: `#/alerts/${encodeURIComponent(alert.id)}` }, subjectText(alert))),
    h('td', {}, valueText(alert)),
    h('td', {}, `${t(alert.state)} · ${t(alert.condition)}`),
    h('td', {}, formatTime(alert.raisedAt)),
    h('td', {}, alert.escalationLevel),
  )
}

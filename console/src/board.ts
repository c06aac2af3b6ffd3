// The live alert board for officers and supervisors: every alert not yet closed in the caller's
// sites, grouped by site, most severe first, kept current by the alert stream. A new critical
// alert raises a banner that stays until dismissed, changes the tab title and beeps.
import { alertActions } from './actions.js'
import { escalationText, severityBadge, subjectText, valueText } from './alert-view.js'
import { type Alert, type AlertEvent, api, type Me, streamAlerts } from './api.js'
import { h, replace } from './dom.js'
import { formatTime, t } from './i18n.js'
import { siteName } from './names.js'
import { criticalSignal } from './signal.js'

const severityOrder = { critical: 0, alarm: 1, warning: 2 } as const
const shown = new Set<Alert['severity']>(['critical', 'alarm', 'warning'])

export function renderBoard({ main, me }: { main: HTMLElement; me: Me }): () => void {
  const alerts = new Map<string, Alert>()
  const status = h('p', { class: 'stream-state', role: 'status' }, t('loading'))
  const list = h('div', { class: 'board' })
  const filters = h(
    'fieldset',
    { class: 'severity-filter' },
    h('legend', {}, t('severity')),
    (['critical', 'alarm', 'warning'] as const).map((severity) =>
      h(
        'label',
        { class: `chip ${severity}` },
        h('input', {
          type: 'checkbox',
          checked: shown.has(severity),
          onchange: (event: Event) => {
            if ((event.target as HTMLInputElement).checked) shown.add(severity)
            else shown.delete(severity)
            draw()
          },
        }),
        t(severity),
      ),
    ),
  )
  replace(
    main,
    h('h2', {}, t('board')),
    h('div', { class: 'board-tools' }, filters, status, criticalSignal.soundControl()),
    list,
  )

  const draw = () => {
    const open = [...alerts.values()].filter((alert) => alert.state !== 'closed' && shown.has(alert.severity))
    if (open.length === 0) return replace(list, h('p', { class: 'empty' }, t('noAlerts')))
    const sites = [...new Set(open.map((alert) => alert.siteId))].sort((a, b) =>
      siteName(a).localeCompare(siteName(b)),
    )
    replace(
      list,
      sites.map((siteId) =>
        h(
          'section',
          { class: 'site', 'aria-label': `${t('site')} ${siteName(siteId)}` },
          h('h3', {}, h('a', { href: `#/sites/${encodeURIComponent(siteId)}` }, siteName(siteId))),
          open
            .filter((alert) => alert.siteId === siteId)
            .sort(
              (a, b) =>
                severityOrder[a.severity] - severityOrder[b.severity] || b.raisedAt.localeCompare(a.raisedAt),
            )
            .map((alert) => cardOf(alert)),
        ),
      ),
    )
  }

  // Cards are rebuilt only when their alert changes, so a form being filled in survives other
  // alerts' updates; the escalation line is refreshed in place each minute.
  const cards = new Map<string, { version: number; element: HTMLElement }>()
  const cardOf = (alert: Alert) => {
    const cached = cards.get(alert.id)
    if (cached !== undefined && cached.version === alert.version) return cached.element
    const element = card(alert)
    cards.set(alert.id, { version: alert.version, element })
    return element
  }
  const card = (alert: Alert) =>
    h(
      'article',
      {
        class: `alert-card ${alert.severity}`,
        'data-alert-id': alert.id,
        'aria-label': `${t(alert.severity)} ${alert.deviceId} ${subjectText(alert)}`,
      },
      h(
        'header',
        {},
        severityBadge(alert.severity),
        h('strong', {}, ` ${alert.deviceId} · ${subjectText(alert)}`),
        h('span', { class: `state ${alert.state}` }, t(alert.state)),
      ),
      h(
        'p',
        {},
        `${t('value')}: ${valueText(alert)} · ${t(alert.condition)} · ${t('raisedAt')} ${formatTime(alert.raisedAt)}`,
      ),
      h('p', { class: 'escalation' }, escalationText(alert, me)),
      alertActions(alert, me, (updated) => {
        alerts.set(updated.id, updated)
        draw()
      }),
      h('a', { href: `#/alerts/${encodeURIComponent(alert.id)}` }, t('details')),
    )

  const upsert = ({ event, alert }: { event: AlertEvent; alert: Alert }) => {
    const known = alerts.get(alert.id)
    if (known !== undefined && known.version > alert.version) return
    alerts.set(alert.id, alert)
    const becameCritical =
      alert.severity === 'critical' &&
      (event.type === 'raised' || event.type === 'severity_raised' || event.type === 're_activated')
    if (becameCritical) criticalSignal.announce(alert)
    draw()
  }

  // The stream opens first and the list of open alerts is merged in by version, so a change made
  // while the list loads is neither missed nor overwritten by an older copy.
  const stop = streamAlerts(upsert, (live) => {
    status.textContent = live ? `● ${t('live')}` : t('reconnecting')
    status.className = `stream-state ${live ? 'live' : 'lost'}`
  })
  void api
    .get<{ items: Alert[] }>('/api/incidents?open=true&limit=1000')
    .then(({ items }) => {
      for (const alert of items) {
        const known = alerts.get(alert.id)
        if (known === undefined || known.version < alert.version) alerts.set(alert.id, alert)
      }
      draw()
    })
    .catch((error: unknown) =>
      replace(list, h('p', { class: 'problem', role: 'alert' }, `${t('error')}: ${String(error)}`)),
    )
  const ticker = setInterval(() => {
    for (const [id, { element }] of cards) {
      const alert = alerts.get(id)
      const line = element.querySelector('.escalation')
      if (alert !== undefined && line !== null) line.textContent = escalationText(alert, me)
    }
  }, 60_000)
  return () => {
    stop()
    clearInterval(ticker)
  }
}

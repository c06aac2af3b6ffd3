// How an alert reads everywhere in the console: severity badge in the contract's colours
// (CONTRACT §4: warning yellow, alarm orange, critical red), state, value against threshold,
// escalation level and when it escalates next.
import { type EscalationPolicy, nextEscalationAt } from '../../src/domain/escalation.js'
import type { Alert, Me } from './api.js'
import { h } from './dom.js'
import { formatTime, type MessageKey, t } from './i18n.js'

export function severityBadge(severity: Alert['severity']): HTMLElement {
  return h('span', { class: `badge ${severity}` }, t(severity))
}

export function escalationText(alert: Alert, me: Me): string {
  const next =
    alert.state === 'open' || alert.state === 'acknowledged'
      ? nextEscalationAt(
          {
            severity: alert.severity,
            state: alert.state,
            raisedAt: Date.parse(alert.raisedAt),
            acknowledgedAt: alert.acknowledged === null ? null : Date.parse(alert.acknowledged.at),
            escalationLevel: alert.escalationLevel,
          },
          me.escalation as EscalationPolicy,
        )
      : null
  const level = `${t('escalationLevel')} ${alert.escalationLevel}`
  if (next === null) return level
  const overdue = next < Date.now() ? ` (${t('overdueNow')})` : ''
  return `${level} · ${t('nextEscalation')} ${formatTime(new Date(next).toISOString())}${overdue}`
}

export function valueText(alert: Alert): string {
  const value = alert.value ?? alert.peakValue
  return `${value ?? '—'} / ${alert.threshold ?? '—'}`
}

export function alertFacts(alert: Alert, me: Me): HTMLElement {
  const row = (key: MessageKey, value: string | HTMLElement) => [h('dt', {}, t(key)), h('dd', {}, value)]
  return h(
    'dl',
    { class: 'facts' },
    row('severity', severityBadge(alert.severity)),
    row('state', t(alert.state)),
    row('condition', t(alert.condition)),
    row('site', alert.siteId),
    row('device', alert.deviceId),
    row('rule', `${alert.ruleId} (${alert.subject})`),
    row('value', valueText(alert)),
    row('firstAt', formatTime(alert.firstAt)),
    row('raisedAt', formatTime(alert.raisedAt)),
    row('escalation', escalationText(alert, me)),
    alert.retrospective ? row('retrospective', '✓') : [],
  )
}

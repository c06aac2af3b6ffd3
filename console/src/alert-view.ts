// How an alert reads everywhere in the console: severity badge in its colour (warning yellow,
// alarm orange, critical red), state, the rule by name, value against threshold with units,
// escalation level and when it escalates next.
import { type EscalationPolicy, nextEscalationAt } from '../../domain/escalation.js'
import type { Alert, Me } from './api.js'
import { h } from './dom.js'
import { formatTime, type MessageKey, t } from './i18n.js'
import { ruleName, siteName, unitOf, valueText } from './names.js'

export { valueText }

/** The rule by its name, with what it is about when that is not the rule's own metric (a pit point). */
export function subjectText(alert: Alert): string {
  const about = alert.subject === 'telemetry' || /^[a-z]/.test(alert.subject) ? '' : ` · ${alert.subject}`
  return `${ruleName(alert.ruleId)}${about}`
}

export { unitOf }

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

export function alertFacts(alert: Alert, me: Me): HTMLElement {
  const row = (key: MessageKey, value: string | HTMLElement) => [h('dt', {}, t(key)), h('dd', {}, value)]
  return h(
    'dl',
    { class: 'facts' },
    row('severity', severityBadge(alert.severity)),
    row('state', t(alert.state)),
    row('condition', t(alert.condition)),
    row('site', siteName(alert.siteId)),
    row('device', alert.deviceId),
    row('rule', subjectText(alert)),
    row('value', valueText(alert)),
    row('firstAt', formatTime(alert.firstAt)),
    row('raisedAt', formatTime(alert.raisedAt)),
    row('escalation', escalationText(alert, me)),
    alert.retrospective ? row('retrospective', '✓') : [],
  )
}

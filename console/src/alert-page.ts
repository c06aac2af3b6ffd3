// One alert: its facts, escalation deadline, the steps still open, comments, the timeline, and a
// chart of its telemetry from 30 minutes before the breach to 30 after it cleared.
import { alertActions } from './actions.js'
import { alertFacts } from './alert-view.js'
import { type Alert, type AlertEvent, api, type Me, streamAlerts } from './api.js'
import { lineChart } from './chart.js'
import { field, h, replace } from './dom.js'
import { eventName, formatTime, t } from './i18n.js'
import { actorName, formatMeasure, ruleName, unitOf } from './names.js'

interface AlertTelemetry {
  metric: string | null
  threshold: number | null
  points: { ts: string; value: number | string | boolean | null; source: 'device' | 'manual' | null }[]
  note: string | null
}

export function renderAlertPage({ main, me }: { main: HTMLElement; me: Me }, id: string): () => void {
  const path = `/api/alerts/${encodeURIComponent(id)}`
  const facts = h('div')
  const actions = h('div')
  const timeline = h('ol', { class: 'timeline' })
  const chart = h('div', { class: 'chart-box' })
  const profile = h('div', { class: 'profile-box' })
  replace(
    main,
    h('p', {}, h('a', { href: '#/board' }, `← ${t('back')}`)),
    h('h2', {}, t('details')),
    facts,
    actions,
    h('h3', {}, t('telemetry')),
    chart,
    profile,
    h('h3', {}, t('timeline')),
    timeline,
  )
  const show = (alert: Alert) => {
    replace(facts, alertFacts(alert, me))
    replace(actions, alertActions(alert, me, show), me.role === 'regulator' ? null : commentForm(alert))
    loadTimeline(alert).catch((error: unknown) =>
      replace(timeline, h('li', { class: 'problem', role: 'alert' }, `${t('error')}: ${String(error)}`)),
    )
  }
  const commentForm = (alert: Alert) => {
    const text = h('textarea', { name: 'comment', rows: 2, maxlength: 4000, required: true })
    const problem = h('p', { class: 'problem', role: 'alert', hidden: true })
    return h(
      'form',
      {
        class: 'actions',
        onsubmit: async (event: Event) => {
          event.preventDefault()
          try {
            await api.post(`/api/alerts/${encodeURIComponent(alert.id)}/comments`, { text: text.value })
            text.value = ''
            problem.hidden = true
            await loadTimeline(alert)
          } catch (error) {
            problem.hidden = false
            problem.textContent = `${t('error')}: ${String(error)}`
          }
        },
      },
      field(t('commentText'), text),
      h('button', { type: 'submit' }, t('comment')),
      problem,
    )
  }
  const loadTimeline = async (alert: Alert) => {
    const { items } = await api.get<{ items: AlertEvent[] }>(`${path}/events`)
    replace(
      timeline,
      items.map((event) =>
        h(
          'li',
          {},
          h('time', { datetime: event.at }, formatTime(event.at)),
          ' ',
          h('strong', { 'data-type': event.type }, eventName(event.type)),
          ` · ${actorName(event.actor)}`,
          eventText(event, alert) === ''
            ? null
            : h('span', { class: 'hint' }, ` · ${eventText(event, alert)}`),
        ),
      ),
    )
  }
  // The telemetry store is written a second or so after the rules saw a reading: an alert opened
  // at once may have no evidence yet, so ask again until it arrives (or the page is left).
  let retry: ReturnType<typeof setTimeout> | null = null
  let left = false
  let attempts = 0
  let profileRetry: ReturnType<typeof setTimeout> | null = null
  let profileAttempts = 0
  const loadChart = async (alert: Alert): Promise<void> => {
    const data = await api.get<AlertTelemetry>(`${path}/telemetry`)
    const points = data.points.filter((p) => typeof p.value === 'number')
    if (points.length === 0) {
      replace(chart, h('p', { class: 'hint' }, data.note ?? t('noTelemetry')))
      if (data.metric !== null && !left && attempts++ < chartRetries) {
        retry = setTimeout(() => {
          retry = null
          loadChart(alert).catch(() => undefined)
        }, chartRetryMs)
      }
      return
    }
    replace(chart)
    const unit = unitOf(alert.ruleId)
    lineChart(
      chart,
      `${ruleName(alert.ruleId)}${unit === null ? '' : ` (${unit})`}`,
      points.map((p) => Date.parse(p.ts) / 1000),
      [
        {
          label: data.metric ?? t('value'),
          values: points.map((p) => (p.source === 'manual' ? null : (p.value as number))),
          color: '#1f5fbf',
        },
        // Readings an officer typed: marked apart, never drawn as the device's line.
        ...(points.some((p) => p.source === 'manual')
          ? [
              {
                label: t('manualReading'),
                values: points.map((p) => (p.source === 'manual' ? (p.value as number) : null)),
                color: '#8e24aa',
                pointsOnly: true,
              },
            ]
          : []),
        ...(data.threshold === null
          ? []
          : [
              {
                label: t('threshold'),
                values: points.map(() => data.threshold),
                color: '#c62828',
                dashed: true,
              },
            ]),
      ],
    )
    // The series is not what the rule judged (a slew angle, a force): say what it shows.
    if (data.note !== null) chart.append(h('p', { class: 'hint' }, data.note))
  }
  void api
    .get<Alert>(path)
    .then((alert) => {
      show(alert)
      loadProfile(alert).catch(() => undefined)
      return loadChart(alert)
    })
    .catch((error: unknown) =>
      replace(facts, h('p', { class: 'problem', role: 'alert' }, `${t('error')}: ${String(error)}`)),
    )
  // An inclinometer depth (subject CX-01@12.5): the whole profile down the wall, this depth marked.
  const loadProfile = async (alert: Alert) => {
    const at = alert.subject.lastIndexOf('@')
    if (!alert.ruleId.startsWith('pit.') || at <= 0) return
    const point = alert.subject.slice(0, at)
    const depth = Number(alert.subject.slice(at + 1))
    const data = await api.get<{ depths: { depthM: number; value: number | null }[] }>(
      `/api/devices/${encodeURIComponent(alert.deviceId)}/profile?point=${encodeURIComponent(point)}`,
    )
    // Not stored yet (the shipper writes a second later): ask again, like the chart.
    if (!data.depths.some((d) => d.depthM === depth) && !left && profileAttempts++ < chartRetries) {
      profileRetry = setTimeout(() => {
        profileRetry = null
        loadProfile(alert).catch(() => undefined)
      }, chartRetryMs)
    }
    if (data.depths.length > 0) replace(profile, profileFigure(data.depths, depth, alert.threshold))
  }
  const stopStream = streamAlerts(
    ({ alert }) => {
      if (alert.id === id) show(alert)
    },
    () => {},
  )
  return () => {
    left = true
    if (retry !== null) clearTimeout(retry)
    if (profileRetry !== null) clearTimeout(profileRetry)
    stopStream()
  }
}

/** One row per depth, the bar as long as the displacement, red where it reaches the threshold. */
function profileFigure(
  depths: { depthM: number; value: number | null }[],
  marked: number,
  threshold: number | null,
): HTMLElement {
  const max = Math.max(1e-9, ...depths.map((d) => Math.abs(d.value ?? 0)))
  return h(
    'figure',
    { class: 'bars profile' },
    h('figcaption', {}, t('profile')),
    depths.map((d) => {
      const value = d.value ?? 0
      const over = threshold !== null && Math.abs(value) >= threshold
      return h(
        'div',
        { class: `bar-row${d.depthM === marked ? ' marked' : ''}`, 'data-depth': d.depthM },
        h('span', { class: 'bar-label' }, `${t('depth')} ${d.depthM} m`),
        h(
          'div',
          { class: 'bar-line' },
          h('span', {
            class: 'bar',
            style: `width:${(Math.abs(value) / max) * 100}%;background:${over ? '#c62828' : '#1f5fbf'}`,
          }),
          h('span', { class: 'bar-value' }, formatMeasure(value, 'mm')),
        ),
      )
    }),
  )
}

const chartRetryMs = 2_000
const chartRetries = 60

/** What a step says: the note or action, the value with its unit, and where a raised alert's
 * threshold came from (an override names who set it and when). */
function eventText(event: AlertEvent, alert: Alert): string {
  const { note, action, text, value, level, origin } = event.data as Record<string, unknown>
  return [
    action,
    text,
    note,
    typeof value === 'number' ? `${t('value')} ${formatMeasure(value, unitOf(alert.ruleId))}` : undefined,
    level === undefined ? undefined : `${t('escalationLevel')} ${level}`,
    event.type === 'raised' && typeof origin === 'string' ? `${t('thresholdFrom')}: ${origin}` : undefined,
  ]
    .filter((part) => part !== undefined && part !== null && part !== '')
    .join(' · ')
}

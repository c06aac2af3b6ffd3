// One alert: its facts, escalation deadline, the steps still open, comments, the timeline, and a
// chart of its telemetry from 30 minutes before the breach to 30 after it cleared.
import { alertActions } from './actions.js'
import { alertFacts } from './alert-view.js'
import { type Alert, type AlertEvent, api, type Me, streamAlerts } from './api.js'
import { lineChart } from './chart.js'
import { field, h, replace } from './dom.js'
import { eventName, formatTime, t } from './i18n.js'

interface AlertTelemetry {
  metric: string | null
  points: { ts: string; value: number | string | boolean | null }[]
  note: string | null
}

export function renderAlertPage({ main, me }: { main: HTMLElement; me: Me }, id: string): () => void {
  const path = `/api/alerts/${encodeURIComponent(id)}`
  const facts = h('div')
  const actions = h('div')
  const timeline = h('ol', { class: 'timeline' })
  const chart = h('div', { class: 'chart-box' })
  replace(
    main,
    h('p', {}, h('a', { href: '#/board' }, `← ${t('back')}`)),
    h('h2', {}, t('details')),
    facts,
    actions,
    h('h3', {}, t('telemetry')),
    chart,
    h('h3', {}, t('timeline')),
    timeline,
  )
  const show = (alert: Alert) => {
    replace(facts, alertFacts(alert, me))
    replace(actions, alertActions(alert, me, show), me.role === 'regulator' ? null : commentForm(alert))
    loadTimeline().catch((error: unknown) =>
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
            await loadTimeline()
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
  const loadTimeline = async () => {
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
          ` · ${event.actor}`,
          eventText(event) === '' ? null : h('span', { class: 'hint' }, ` · ${eventText(event)}`),
        ),
      ),
    )
  }
  // The telemetry store is written a second or so after the rules saw a reading: an alert opened
  // at once may have no evidence yet, so ask again until it arrives (or the page is left).
  let retry: ReturnType<typeof setTimeout> | null = null
  let left = false
  let attempts = 0
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
    lineChart(
      chart,
      data.metric ?? '',
      points.map((p) => Date.parse(p.ts) / 1000),
      [
        { label: data.metric ?? t('value'), values: points.map((p) => p.value as number), color: '#1f5fbf' },
        ...(alert.threshold === null
          ? []
          : [
              {
                label: t('threshold'),
                values: points.map(() => alert.threshold),
                color: '#c62828',
                dashed: true,
              },
            ]),
      ],
    )
  }
  void api
    .get<Alert>(path)
    .then((alert) => {
      show(alert)
      return loadChart(alert)
    })
    .catch((error: unknown) =>
      replace(facts, h('p', { class: 'problem', role: 'alert' }, `${t('error')}: ${String(error)}`)),
    )
  const stopStream = streamAlerts(
    ({ alert }) => {
      if (alert.id === id) show(alert)
    },
    () => {},
  )
  return () => {
    left = true
    if (retry !== null) clearTimeout(retry)
    stopStream()
  }
}

const chartRetryMs = 2_000
const chartRetries = 60

function eventText(event: AlertEvent): string {
  const { note, action, text, value, level } = event.data as Record<string, unknown>
  return [
    action,
    text,
    note,
    value === undefined ? undefined : `${t('value')} ${value}`,
    level === undefined ? undefined : `${t('escalationLevel')} ${level}`,
  ]
    .filter((part) => part !== undefined && part !== null && part !== '')
    .join(' · ')
}

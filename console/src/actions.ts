// The closed loop's steps as forms (CONTRACT §5): acknowledge (note optional), resolve (the
// action taken is required), close (supervisors and admins, once the condition has cleared).
import { type Alert, ApiError, api, type Me } from './api.js'
import { field, h } from './dom.js'
import { t } from './i18n.js'
import { ruleName } from './names.js'

const mayClose = (me: Me) => me.role === 'supervisor' || me.role === 'admin'
const mayAct = (me: Me) => me.role !== 'regulator'

export function alertActions(alert: Alert, me: Me, done: (updated: Alert) => void): HTMLElement | null {
  if (!mayAct(me) || alert.state === 'closed') return null
  const problem = h('p', { class: 'problem', role: 'alert', hidden: true })
  const submit = async (event: Event, step: string, body: Record<string, string>) => {
    event.preventDefault()
    const form = event.currentTarget as HTMLFormElement
    form.querySelectorAll('button').forEach((button) => {
      button.disabled = true
    })
    try {
      done(await api.post<Alert>(`/api/alerts/${encodeURIComponent(alert.id)}/${step}`, body))
    } catch (error) {
      problem.hidden = false
      problem.textContent = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error)
      form.querySelectorAll('button').forEach((button) => {
        button.disabled = false
      })
    }
  }
  const note = () => h('input', { type: 'text', name: 'note', maxlength: 2000 })
  const label = `${alert.deviceId} ${ruleName(alert.ruleId)}`
  switch (alert.state) {
    case 'open': {
      const noteInput = note()
      return h(
        'form',
        {
          class: 'actions',
          'aria-label': `${t('acknowledge')} ${label}`,
          onsubmit: (event: Event) =>
            submit(event, 'acknowledge', noteInput.value ? { note: noteInput.value } : {}),
        },
        field(t('note'), noteInput),
        h('button', { type: 'submit' }, t('acknowledge')),
        problem,
      )
    }
    case 'acknowledged': {
      const action = h('textarea', { name: 'action', required: true, maxlength: 2000, rows: 2 })
      const noteInput = note()
      return h(
        'form',
        {
          class: 'actions',
          'aria-label': `${t('resolve')} ${label}`,
          onsubmit: (event: Event) =>
            submit(event, 'resolve', {
              action: action.value.trim(),
              ...(noteInput.value ? { note: noteInput.value } : {}),
            }),
        },
        field(t('actionTaken'), action),
        field(t('note'), noteInput),
        h('button', { type: 'submit' }, t('resolve')),
        problem,
      )
    }
    case 'resolved': {
      if (!mayClose(me)) return null
      const cleared = alert.condition === 'cleared'
      const noteInput = note()
      return h(
        'form',
        {
          class: 'actions',
          'aria-label': `${t('close')} ${label}`,
          onsubmit: (event: Event) =>
            submit(event, 'close', noteInput.value ? { note: noteInput.value } : {}),
        },
        field(t('note'), noteInput),
        h(
          'button',
          { type: 'submit', disabled: !cleared, 'aria-describedby': cleared ? undefined : `why-${alert.id}` },
          t('close'),
        ),
        cleared ? null : h('p', { class: 'hint', id: `why-${alert.id}` }, t('closeNeedsCleared')),
        problem,
      )
    }
  }
}

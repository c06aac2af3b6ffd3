import type { AlertEventType, AlertState } from './alert.js'
import { type Severity, severities } from './rules.js'

/** What an alert was just after one of its timeline events: the alert_event point's fields. */
export interface AlertAfterEvent {
  readonly state: AlertState
  readonly severity: Severity
  readonly value: number | null
}

const isSeverity = (value: unknown): value is Severity =>
  typeof value === 'string' && (severities as readonly string[]).includes(value)

/**
 * Folds one timeline event into what the alert was before it (undefined before `raised`). The
 * timeline is the record: replaying it gives the state, severity and value after every event,
 * whenever it is read (CONTRACT §3, measurement alert_event).
 */
export function afterEvent(
  before: AlertAfterEvent | undefined,
  type: AlertEventType,
  data: Readonly<Record<string, unknown>>,
): AlertAfterEvent {
  const value = typeof data.value === 'number' ? data.value : null
  const current = before ?? { state: 'open', severity: 'warning', value: null }
  switch (type) {
    case 'raised':
      return { state: 'open', severity: isSeverity(data.severity) ? data.severity : current.severity, value }
    case 'severity_raised':
      return {
        ...current,
        severity: isSeverity(data.to) ? data.to : current.severity,
        value: value ?? current.value,
      }
    case 'updated':
    case 're_activated':
      return { ...current, value: value ?? current.value }
    case 'acknowledged':
    case 'resolved':
    case 'closed':
      return { ...current, state: type }
    case 'cleared':
    case 'escalated':
    case 'comment':
      return current
  }
}

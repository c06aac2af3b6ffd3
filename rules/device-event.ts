import { concatMap, from, type OperatorFunction } from 'rxjs'
import type { EventCondition, Signal } from '../domain/rules.js'

export interface EventSample {
  readonly ts: number
  readonly code: string
}

/** A signal for one subject of a rule: for device events, the subject is the event code. */
export interface SubjectSignal {
  readonly subject: string
  readonly signal: Signal
}

/**
 * Device event codes to alerts (DOMAIN.md §1): LIMITER_BYPASS critical (JGJ 196-2010 §4.0.3:
 * limiters must never be bypassed), OPERATOR_UNCERTIFIED alarm (MOHURD Order 166 art. 25),
 * SENSOR_FAULT warning. An event is a moment, not a state: it raises and clears at once, so the
 * alert stays open for people to handle and can be closed once they have. Unmapped codes pass
 * silently (they are still in the log and in telemetry).
 */
export function deviceEvents(condition: EventCondition): OperatorFunction<EventSample, SubjectSignal> {
  return (source) =>
    source.pipe(
      concatMap((event) => {
        const severity = condition.codes[event.code]
        if (severity === undefined) return from([])
        return from<SubjectSignal[]>([
          { subject: event.code, signal: { type: 'raise', severity, value: 1, threshold: 1, ts: event.ts } },
          { subject: event.code, signal: { type: 'clear', value: null, ts: event.ts } },
        ])
      }),
    )
}

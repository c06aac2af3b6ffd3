import type { AlertEventType } from './alert.js'
import { type KeyedSignal, type Severity, severityRank } from './rules.js'

/**
 * What a rule signal does to its key's alert (CONTRACT §5.2), decided in memory so that every
 * store applies the same rules: SQLite one signal at a time, PostgreSQL a batch's signals folded
 * over the alerts it locked, written in one round trip (issue 15).
 */

/** The fields of an alert that signals move; times are epoch milliseconds. */
export interface SignalTarget {
  readonly id: string
  readonly severity: Severity
  readonly condition: 'active' | 'cleared'
  readonly value: number | null
  readonly peakValue: number | null
  readonly threshold: number | null
  readonly thresholdOrigin: string
  readonly count: number
  readonly firstAt: number
  readonly lastAt: number
  readonly clearedAt: number | null
  readonly retrospective: boolean
}

export interface NewAlertEvent {
  readonly type: AlertEventType
  readonly data: Record<string, unknown>
}

/** The alert after the signal, whether it is new, and the timeline events the signal adds. */
export interface SignalOutcome {
  readonly alert: SignalTarget
  readonly inserted: boolean
  readonly events: readonly NewAlertEvent[]
}

const iso = (ms: number) => new Date(ms).toISOString()

/** `current` is the key's alert that is not closed, if any; null when the signal changes nothing. */
export function decideSignal(
  current: SignalTarget | undefined,
  keyed: KeyedSignal,
  newId: () => string,
): SignalOutcome | null {
  const { signal } = keyed
  // Out-of-order readings (backfill behind newer data) may move the condition only of an alert
  // they raised themselves: what live readings decide, late data never undoes.
  const owns = keyed.outOfOrder !== true || current?.retrospective === true
  if (signal.type === 'clear') {
    if (current === undefined || current.condition === 'cleared' || !owns) return null
    return {
      alert: { ...current, condition: 'cleared', clearedAt: signal.ts },
      inserted: false,
      events: [{ type: 'cleared', data: { value: signal.value, ts: iso(signal.ts) } }],
    }
  }
  if (current === undefined) {
    const alert: SignalTarget = {
      id: newId(),
      severity: signal.severity,
      condition: 'active',
      value: signal.value,
      peakValue: signal.value,
      threshold: signal.threshold,
      thresholdOrigin: originOf(keyed),
      count: 1,
      firstAt: signal.ts,
      lastAt: signal.ts,
      clearedAt: null,
      retrospective: keyed.retrospective,
    }
    const data = {
      severity: signal.severity,
      value: signal.value,
      threshold: signal.threshold,
      origin: keyed.origin,
      ...(signal.basis === undefined ? {} : { basis: signal.basis }),
      ts: iso(signal.ts),
      retrospective: keyed.retrospective,
    }
    return { alert, inserted: true, events: [{ type: 'raised', data }] }
  }
  const events: NewAlertEvent[] = []
  const reactivated = current.condition === 'cleared' && owns
  const higher = severityRank(signal.severity) > severityRank(current.severity)
  if (reactivated) events.push({ type: 're_activated', data: { value: signal.value, ts: iso(signal.ts) } })
  if (higher)
    events.push({
      type: 'severity_raised',
      data: {
        from: current.severity,
        to: signal.severity,
        value: signal.value,
        threshold: signal.threshold,
        ...(signal.basis === undefined ? {} : { basis: signal.basis }),
      },
    })
  if (!reactivated && !higher) {
    const data = { value: signal.value, ts: iso(signal.ts), ...(owns ? {} : { outOfOrder: true }) }
    events.push({ type: 'updated', data })
  }
  const alert: SignalTarget = {
    ...current,
    severity: higher ? signal.severity : current.severity,
    condition: reactivated ? 'active' : current.condition,
    clearedAt: reactivated ? null : current.clearedAt,
    value: owns ? signal.value : current.value,
    peakValue: moreExtreme(current.peakValue, signal.value, signal.threshold),
    threshold: higher ? signal.threshold : current.threshold,
    thresholdOrigin: higher ? originOf(keyed) : current.thresholdOrigin,
    count: current.count + (reactivated ? 1 : 0),
    lastAt: Math.max(current.lastAt, signal.ts),
    // Late data joining a live alert leaves it live: it must not come to "own" its condition.
    retrospective: current.retrospective || (owns && keyed.retrospective),
  }
  return { alert, inserted: false, events }
}

/** The value farther past the threshold, in whichever direction the breach goes. */
function moreExtreme(peak: number | null, value: number, threshold: number): number {
  if (peak === null) return value
  const above = value >= threshold
  return above ? Math.max(peak, value) : Math.min(peak, value)
}

/** Where the threshold came from, and how it was judged when not by the level alone. */
function originOf(keyed: KeyedSignal): string {
  const { signal } = keyed
  return signal.type !== 'clear' && signal.basis !== undefined
    ? `${keyed.origin}; ${signal.basis}`
    : keyed.origin
}

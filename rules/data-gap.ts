import {
  asyncScheduler,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs'
import type { DataGapCondition, Signal } from '../domain/rules.js'

/**
 * A reading's time, or a watch restored after a restart: silent since `silentSince` (engine time),
 * with a gap already raised when `open`. A restored watch is not a reading: it clears nothing.
 */
export interface GapInput {
  readonly ts: number
  readonly restore?: { readonly silentSince: number; readonly open: boolean } | undefined
  /** The silence that raises, when the device's or point's settings give an interval of its own. */
  readonly limitMs?: number | undefined
}

/**
 * Silence of a safety monitor is itself a hazard (DOMAIN.md §1, our design): when no reading
 * arrives for `missedIntervals` × `expectedIntervalMs`, raise; the next reading clears. The
 * clock is the injected scheduler (processing time: silence is measured as it happens, and
 * backfill that arrives later does not undo a gap that really happened). The watch starts at
 * subscription, so a device that never speaks after start-up is caught as well.
 */
export function dataGap(
  condition: DataGapCondition,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<GapInput, Signal> {
  const defaultLimitMs = condition.expectedIntervalMs * condition.missedIntervals
  return (source) =>
    new Observable<Signal>((subscriber) => {
      // The latest input says how long a silence may last (settings change while it runs).
      let limitMs = defaultLimitMs
      let timer: Subscription | null = null
      let open = false
      let lastAt = scheduler.now()
      // One timer per device, not one per reading: when it fires it measures the silence since
      // the last reading and either raises or sleeps for the rest of the limit.
      const check = () => {
        timer = null
        const silentMs = scheduler.now() - lastAt
        if (silentMs < limitMs) {
          timer = scheduler.schedule(check, limitMs - silentMs)
          return
        }
        open = true
        subscriber.next({
          type: 'raise',
          severity: condition.severity,
          value: silentMs / 1000,
          threshold: limitMs / 1000,
          ts: scheduler.now(),
        })
      }
      timer = scheduler.schedule(check, limitMs)
      const subscription = source.subscribe({
        next: (reading) => {
          if (reading.limitMs !== undefined && reading.limitMs !== limitMs) {
            limitMs = reading.limitMs
            // The timer set for the old limit would fire too early or too late: set it anew.
            if (!open) {
              timer?.unsubscribe()
              timer = null
            }
          }
          if (reading.restore !== undefined) {
            // The timer survives a restart: silence is counted from the last reading before it.
            lastAt = Math.min(reading.restore.silentSince, scheduler.now())
            open = reading.restore.open
            timer?.unsubscribe()
            timer = open ? null : scheduler.schedule(check, Math.max(0, lastAt + limitMs - scheduler.now()))
            return
          }
          lastAt = scheduler.now()
          if (open) {
            open = false
            // Cleared when the device is heard again (processing time, like the silence): a
            // backfilled reading's own ts lies inside the gap and would date the clear before it.
            subscriber.next({ type: 'clear', value: null, ts: scheduler.now() })
          }
          if (timer === null) timer = scheduler.schedule(check, limitMs)
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      })
      return () => {
        timer?.unsubscribe()
        subscription.unsubscribe()
      }
    })
}

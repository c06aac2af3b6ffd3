import {
  asyncScheduler,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs'
import type { DataGapCondition, Signal } from '../domain/rules.js'

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
): OperatorFunction<{ readonly ts: number }, Signal> {
  const limitMs = condition.expectedIntervalMs * condition.missedIntervals
  return (source) =>
    new Observable<Signal>((subscriber) => {
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
          lastAt = scheduler.now()
          if (open) {
            open = false
            subscriber.next({ type: 'clear', value: null, ts: reading.ts })
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

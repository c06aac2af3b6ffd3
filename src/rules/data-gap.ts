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
      const arm = () => {
        timer?.unsubscribe()
        const armedAt = scheduler.now()
        timer = scheduler.schedule(() => {
          open = true
          subscriber.next({
            type: 'raise',
            severity: condition.severity,
            value: (scheduler.now() - armedAt) / 1000,
            threshold: limitMs / 1000,
            ts: scheduler.now(),
          })
        }, limitMs)
      }
      arm()
      const subscription = source.subscribe({
        next: (reading) => {
          if (open) {
            open = false
            subscriber.next({ type: 'clear', value: null, ts: reading.ts })
          }
          arm()
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

import { TestScheduler } from 'rxjs/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import type { EventCondition } from '../../domain/rules.js'
import { deviceEvents, type EventSample } from '../../rules/device-event.js'

const condition: EventCondition = {
  kind: 'event',
  codes: { LIMITER_BYPASS: 'critical', OPERATOR_UNCERTIFIED: 'alarm', SENSOR_FAULT: 'warning' },
}

describe('device event operator (marble tests)', () => {
  let scheduler: TestScheduler
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
  })

  it('raises and clears at once for mapped codes, by code, and ignores unmapped codes', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const input: Record<string, EventSample> = {
        a: { ts: 10, code: 'LIMITER_BYPASS' },
        b: { ts: 20, code: 'DOOR_OPEN' },
        c: { ts: 30, code: 'SENSOR_FAULT' },
      }
      // A group "(rs)" spans 4 frames of the marble string: a at 0 → (rs) at 0; c at 20 → (tu) at 20.
      expectObservable(cold('a 9ms b 9ms c 9ms |', input).pipe(deviceEvents(condition))).toBe(
        '(rs) 16ms (tu) 6ms |',
        {
          r: {
            subject: 'LIMITER_BYPASS',
            signal: { type: 'raise', severity: 'critical', value: 1, threshold: 1, ts: 10 },
          },
          s: { subject: 'LIMITER_BYPASS', signal: { type: 'clear', value: null, ts: 10 } },
          t: {
            subject: 'SENSOR_FAULT',
            signal: { type: 'raise', severity: 'warning', value: 1, threshold: 1, ts: 30 },
          },
          u: { subject: 'SENSOR_FAULT', signal: { type: 'clear', value: null, ts: 30 } },
        },
      )
    })
  })

  it('completes on empty, stays silent on never, passes errors on, and unsubscribes', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<EventSample>('|').pipe(deviceEvents(condition))).toBe('|')
      expectObservable(cold<EventSample>('-').pipe(deviceEvents(condition))).toBe('-')
      expectObservable(cold<EventSample>('#', {}, new Error('x')).pipe(deviceEvents(condition))).toBe(
        '#',
        {},
        new Error('x'),
      )
      const endless = cold<EventSample>('a-a-a-a', { a: { ts: 1, code: 'DOOR_OPEN' } })
      expectObservable(endless.pipe(deviceEvents(condition)), '^--!').toBe('-')
      expectSubscriptions(endless.subscriptions).toBe('^--!')
    })
  })
})

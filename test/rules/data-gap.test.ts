import { TestScheduler } from 'rxjs/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import type { DataGapCondition } from '../../domain/rules.js'
import { dataGap } from '../../rules/data-gap.js'

// A crane monitor reporting every 30 s (VENDOR default, DOMAIN.md §1); silent for 3 intervals = a gap.
const condition: DataGapCondition = {
  kind: 'data_gap',
  expectedIntervalMs: 30,
  missedIntervals: 3,
  severity: 'alarm',
}

describe('data gap operator (marble tests, virtual time)', () => {
  let scheduler: TestScheduler
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
  })

  it('raises after 3 silent intervals and clears on the next reading', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('a 29ms b 120ms c 10ms |', { a: { ts: 0 }, b: { ts: 30 }, c: { ts: 151 } })
      // b at frame 30 re-arms the 90 ms watch: it fires at 120; c at 151 clears it.
      expectObservable(source.pipe(dataGap(condition, scheduler))).toBe('120ms r 30ms c 10ms |', {
        r: { type: 'raise', severity: 'alarm', value: 0.09, threshold: 0.09, ts: 120 },
        c: { type: 'clear', value: null, ts: 151 },
      })
    })
  })

  it('says nothing while readings keep coming', () => {
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(
        cold('a 50ms a 50ms a 50ms |', { a: { ts: 0 } }).pipe(dataGap(condition, scheduler)),
      ).toBe('153ms |')
    })
  })

  it('catches a device that never speaks, completes on empty, passes errors, and stops its timer on unsubscribe', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<{ ts: number }>('-').pipe(dataGap(condition, scheduler))).toBe('90ms r', {
        r: { type: 'raise', severity: 'alarm', value: 0.09, threshold: 0.09, ts: 90 },
      })
      expectObservable(cold<{ ts: number }>('|').pipe(dataGap(condition, scheduler))).toBe('|')
      expectObservable(
        cold<{ ts: number }>('#', {}, new Error('x')).pipe(dataGap(condition, scheduler)),
      ).toBe('#', {}, new Error('x'))
      const quiet = cold<{ ts: number }>('-')
      expectObservable(quiet.pipe(dataGap(condition, scheduler)), '^ 50ms !').toBe('-')
      expectSubscriptions(quiet.subscriptions).toBe('^ 50ms !')
    })
  })
})

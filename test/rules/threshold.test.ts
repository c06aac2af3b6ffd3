import { TestScheduler } from 'rxjs/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Signal } from '../../domain/rules.js'
import {
  initialThresholdState,
  type Sample,
  step,
  stepPeak,
  type ThresholdLimits,
  threshold,
} from '../../rules/threshold.js'

// Moment % of rated: warning 90, alarm 100, critical 110 (DOMAIN.md §1), 5 points of hysteresis.
const moment: ThresholdLimits = {
  direction: 'above',
  levels: { warning: 90, alarm: 100, critical: 110 },
  hysteresis: 5,
  minSamples: 1,
}

describe('threshold operator (marble tests)', () => {
  let scheduler: TestScheduler
  beforeEach(() => {
    scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
  })

  const samples = (values: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(values).map(([key, value], i) => [key, { ts: 1_000 * (i + 1), value } satisfies Sample]),
    )

  it('raises at the first level, escalates, tracks the peak, and clears below the level minus hysteresis', () => {
    scheduler.run(({ cold, expectObservable }) => {
      const input = samples({ a: 80, b: 92, c: 95, d: 104, e: 101, f: 88, g: 84 })
      const expected: Record<string, Signal> = {
        r: { type: 'raise', severity: 'warning', value: 92, threshold: 90, ts: 2_000 },
        p: { type: 'peak', severity: 'warning', value: 95, threshold: 90, ts: 3_000 },
        x: { type: 'escalate', severity: 'alarm', value: 104, threshold: 100, ts: 4_000 },
        c: { type: 'clear', value: 84, ts: 7_000 },
      }
      // 101 (alarm, below the peak) and 88 (under the level, above the clear line) say nothing.
      expectObservable(cold('abcdefg|', input).pipe(threshold(moment))).toBe('-rpx--c|', expected)
    })
  })

  it('never lowers the severity while the breach lasts', () => {
    const signals = run(moment, [112, 95, 91])
    expect(signals.map((s) => (s.type === 'clear' ? 'clear' : `${s.type}:${s.severity}`))).toEqual([
      'raise:critical',
    ])
  })

  it('waits for minSamples consecutive readings before raising, and as many before clearing', () => {
    const limits: ThresholdLimits = { ...moment, minSamples: 3 }
    expect(run(limits, [95, 95, 80, 95, 95]).map((s) => s.type)).toEqual([]) // interrupted runs do not count
    const signals = run(limits, [95, 95, 95, 70, 70, 95, 70, 70, 70])
    expect(signals.map((s) => [s.type, s.ts])).toEqual([
      ['raise', 3_000],
      ['clear', 9_000],
    ])
  })

  it('also needs minDurationMs of event time when given', () => {
    const limits: ThresholdLimits = { ...moment, minSamples: 1, minDurationMs: 2_500 }
    expect(run(limits, [95, 95, 95, 95]).map((s) => [s.type, s.ts])).toEqual([['raise', 4_000]])
  })

  it('handles "below" rules (supply voltage under 0.85 Un, anchor force under its design value)', () => {
    const voltage: ThresholdLimits = {
      direction: 'below',
      levels: { alarm: 323 },
      hysteresis: 4,
      minSamples: 1,
    } // 0.85 × 380 V
    expect(run(voltage, [380, 320, 310, 325, 330]).map((s) => `${s.type}:${s.value}`)).toEqual([
      'raise:320',
      'peak:310',
      'clear:330',
    ])
  })

  it('counts readings where the rule does not apply (value null) towards clearing, never towards raising', () => {
    const wind: ThresholdLimits = {
      direction: 'above',
      levels: { warning: 10.8, alarm: 12 },
      hysteresis: 1.5,
      minSamples: 2,
    }
    let state = initialThresholdState()
    const signals: Signal[] = []
    for (const [ts, value] of [
      [1, 13],
      [2, 13],
      [3, null],
      [4, null],
      [5, null],
    ] as const) {
      const next = step(wind, state, { ts, value })
      state = next.state
      signals.push(...next.out)
    }
    expect(signals.map((s) => [s.type, s.ts])).toEqual([
      ['raise', 2],
      ['clear', 4],
    ])
  })

  it('ignores readings that are not numbers', () => {
    expect(run(moment, [Number.NaN, 95]).map((s) => s.type)).toEqual(['raise'])
  })

  it('continues from a saved state (a restart between readings changes nothing)', () => {
    const limits: ThresholdLimits = { ...moment, minSamples: 3 }
    let state = initialThresholdState()
    for (const [i, value] of [95, 95].entries()) state = step(limits, state, { ts: i, value }).state
    const restored = JSON.parse(JSON.stringify(state))
    expect(step(limits, restored, { ts: 3, value: 95 }).out.map((s) => s.type)).toEqual(['raise'])
  })

  it('completes on empty, stays silent on never, passes errors on, and unsubscribes from its source', () => {
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      expectObservable(cold<Sample>('|').pipe(threshold(moment))).toBe('|')
      expectObservable(cold<Sample>('-').pipe(threshold(moment))).toBe('-')
      const failing = cold('a#', samples({ a: 120 }), new Error('sensor stream broke'))
      expectObservable(failing.pipe(threshold(moment))).toBe(
        'r#',
        { r: { type: 'raise', severity: 'critical', value: 120, threshold: 110, ts: 1_000 } },
        new Error('sensor stream broke'),
      )
      const endless = cold('a-a-a-a-a', samples({ a: 50 }))
      expectObservable(endless.pipe(threshold(moment)), '^---!').toBe('-')
      expectSubscriptions(endless.subscriptions).toBe('^---!')
    })
  })
})

function run(limits: ThresholdLimits, values: (number | null)[]): Signal[] {
  let state = initialThresholdState()
  const out: Signal[] = []
  values.forEach((value, i) => {
    const next = step(limits, state, { ts: 1_000 * (i + 1), value })
    state = next.state
    out.push(...next.out)
  })
  return out
}

describe('threshold with a sustained clause (consecutive fraction)', () => {
  // Wall-top horizontal rate, grade 1: limit 2 mm/day (GB 50497-2019 Table 8.0.4, lower bound);
  // warning at 70 % (PRACTICE); 3 consecutive readings over 70 % alarm (GB 50497-2019 §8.0.3).
  const rate: ThresholdLimits = {
    direction: 'above',
    levels: { warning: 1.4, alarm: 2 },
    hysteresis: 0.2,
    minSamples: 1,
    sustained: { level: 'warning', samples: 3, severity: 'alarm' },
  }

  it('alarms on the third consecutive reading over 70 % of the limit', () => {
    const signals = run(rate, [1.5, 1.6, 1.5, 1.0])
    expect(
      signals.map((s) => (s.type === 'clear' ? 'clear' : `${s.type}:${s.severity}@${s.threshold}`)),
    ).toEqual(['raise:warning@1.4', 'peak:warning@1.4', 'escalate:alarm@1.4', 'clear'])
  })

  it('does not count interrupted runs', () => {
    expect(
      run(rate, [1.5, 1.3, 1.5, 1.3, 1.5]).map((s) =>
        s.type === 'clear' ? 'clear' : `${s.type}:${s.severity}`,
      ),
    ).toEqual(['raise:warning'])
  })

  it('still alarms at once when the limit itself is reached', () => {
    expect(run(rate, [2.1]).map((s) => (s.type === 'clear' ? 'clear' : `${s.type}:${s.severity}`))).toEqual([
      'raise:alarm',
    ])
  })
})

describe('threshold in days of event time and at a resolution', () => {
  const hour = 3_600_000
  // 70 % of 2 mm/d on 3 consecutive days (43.2 h with the survey-time slack) alarms.
  const daily: ThresholdLimits = {
    direction: 'above',
    levels: { warning: 1.4, alarm: 2 },
    hysteresis: 0.1,
    minSamples: 1,
    resolution: 0.01,
    sustained: { level: 'warning', samples: 3, durationMs: 43.2 * hour, severity: 'alarm' },
    sustainedBasis: '≥ 1.4 per day (70 % of 2) on 3 consecutive days',
  }
  const runAt = (limits: ThresholdLimits, samples: [hours: number, value: number][]) => {
    let state = initialThresholdState()
    const out: Signal[] = []
    for (const [hours, value] of samples) {
      const next = step(limits, state, { ts: hours * hour, value })
      state = next.state
      out.push(...next.out)
    }
    return out
  }

  it('counts days, not readings: three 15-minute readings are no sustained breach', () => {
    const out = runAt(daily, [
      [0, 1.5],
      [0.25, 1.5],
      [0.5, 1.5],
    ])
    expect(out.map((s) => s.type)).toEqual(['raise'])
    expect(out[0]).toMatchObject({ severity: 'warning' })
  })

  it('alarms after readings over 70 % on three days (survey times drifting by an hour), saying why', () => {
    const out = runAt(daily, [
      [0, 1.5],
      [23, 1.5],
      [45, 1.6],
    ])
    const escalation = out.find((s) => s.type === 'escalate')
    expect(escalation).toMatchObject({
      severity: 'alarm',
      value: 1.6,
      threshold: 1.4, // the level it was judged at, not the 2 mm/d it did not reach
      basis: '≥ 1.4 per day (70 % of 2) on 3 consecutive days',
    })
  })

  it('a value that reaches a limit reaches it, whatever binary floating point makes of it', () => {
    // 130.7 − 100.7 = 29.999999999999986 in binary floating point: 30 mm at 0.01 mm.
    const limits: ThresholdLimits = {
      direction: 'above',
      levels: { warning: 21, alarm: 30 },
      hysteresis: 1.5,
      minSamples: 1,
      resolution: 0.01,
    }
    const [signal] = step(limits, initialThresholdState(), { ts: 1, value: 130.7 - 100.7 }).out
    expect(signal).toMatchObject({ type: 'raise', severity: 'alarm', value: 30 })
    // Without the resolution the same reading is only a warning: the bug this closes.
    const [raw] = step({ ...limits, resolution: undefined }, initialThresholdState(), {
      ts: 1,
      value: 130.7 - 100.7,
    }).out
    expect(raw).toMatchObject({ severity: 'warning' })
  })
})

describe('a recorded peak (a work cycle)', () => {
  it('raises and clears at once on a quiet key, joins a live breach, never clears one', () => {
    const quiet = stepPeak(moment, initialThresholdState(), { ts: 5, value: 112 }, 'peak of lift 7')
    expect(quiet.out).toEqual([
      { type: 'raise', severity: 'critical', value: 112, threshold: 110, ts: 5, basis: 'peak of lift 7' },
      { type: 'clear', value: 112, ts: 5 },
    ])
    expect(quiet.state).toEqual(initialThresholdState()) // the live run is untouched
    const live = step(moment, initialThresholdState(), { ts: 1, value: 101 }).state
    const joined = stepPeak(moment, live, { ts: 2, value: 112 }, 'peak of lift 8')
    expect(joined.out.map((s) => `${s.type}:${s.type === 'clear' ? '' : s.severity}`)).toEqual([
      'escalate:critical',
    ])
    expect(joined.state.active).toBe('critical')
    // A lift under the limits is no evidence that the present is safe: nothing changes.
    expect(stepPeak(moment, joined.state, { ts: 3, value: 40 }, 'peak of lift 9')).toEqual({
      state: joined.state,
      out: [],
    })
  })
})

describe('a quiet key (nothing in progress): the short way through step', () => {
  it('keeps the same state for readings under every level, and starts a run from the level at its resolution', () => {
    const quiet = initialThresholdState()
    for (const value of [0, 50, 89.99, null, -5]) {
      const next = step(moment, quiet, { ts: 1, value })
      expect(next.state).toBe(quiet)
      expect(next.out).toEqual([])
    }
    // 89.999 at a resolution of 0.01 is 90: it reaches the warning level (GB 5144: reaching is breaching).
    const atResolution = step({ ...moment, resolution: 0.01, minSamples: 2 }, quiet, { ts: 1, value: 89.999 })
    expect(atResolution.state).not.toBe(quiet)
    expect(atResolution.state.runs.warning).toEqual({ count: 1, since: 1 })
    expect(
      step({ ...moment, direction: 'below', levels: { alarm: 10 } }, quiet, { ts: 2, value: 10 }).out,
    ).toEqual([{ type: 'raise', severity: 'alarm', value: 10, threshold: 10, ts: 2 }])
  })
})

import { Subject } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import { loadRuleCatalogue } from '../../app/rule-catalogue.js'
import type { Reading } from '../../domain/reading.js'
import { evaluateRules, type RuleEnvironment, type RuleSignal } from '../../rules/pipeline.js'
import type { PitContext } from '../../rules/pit-limits.js'
import { RuleStates } from '../../rules/rule-states.js'
import { initialThresholdState } from '../../rules/threshold.js'

const rules = loadRuleCatalogue(`${import.meta.dirname}/../../seeds/rules`)
const day = 86_400_000

const crane = (ts: number, data: Record<string, unknown>, receivedAt = ts): Reading =>
  ({
    siteId: 'S1',
    deviceId: 'TC-01',
    kind: 'crane',
    channel: 'telemetry',
    ts,
    receivedAt,
    source: 'mqtt',
    data: { ts, ...data },
  }) as Reading
const event = (ts: number, code: string): Reading =>
  ({
    siteId: 'S1',
    deviceId: 'TC-01',
    kind: 'crane',
    channel: 'event',
    ts,
    receivedAt: ts,
    source: 'mqtt',
    data: { ts, code },
  }) as Reading
const pit = (
  ts: number,
  points: { pointCode: string; item: string; value: number; cumulative: number; ratePerDay: number | null }[],
): Reading =>
  ({
    siteId: 'S1',
    deviceId: 'PIT-01',
    kind: 'pit',
    channel: 'telemetry',
    ts,
    receivedAt: ts,
    source: 'mqtt',
    data: { ts, points },
  }) as Reading

function collect(
  readings: Reading[],
  context: Partial<PitContext> = {},
  onKeyError: RuleEnvironment['onKeyError'] = () => undefined,
  more: Partial<RuleEnvironment> = {},
): RuleSignal[] {
  const out: RuleSignal[] = []
  const input = new Subject<Reading>()
  const environment: RuleEnvironment = {
    pitContext: () => ({ pitGrade: 1, pitDepthM: 15, baseSlabCast: false, designValue: null, ...context }),
    onKeyError,
    lateAfterMs: 5 * 60_000,
    ...more,
  }
  const subscription = input.pipe(evaluateRules(rules, environment)).subscribe((signal) => out.push(signal))
  for (const reading of readings) input.next(reading)
  subscription.unsubscribe()
  return out
}
const brief = (s: RuleSignal) =>
  `${s.ruleId}/${s.subject} ${s.signal.type}${s.signal.type === 'clear' ? '' : `:${s.signal.severity}`}`

describe('rule pipeline', () => {
  it('crane moment: raise, escalate and clear for one key', () => {
    const signals = collect([
      crane(1, { momentPct: 80 }),
      crane(2, { momentPct: 95 }),
      crane(3, { momentPct: 112 }),
      crane(4, { momentPct: 70 }),
    ])
    expect(signals.map(brief)).toEqual([
      'crane.moment/momentPct raise:warning',
      'crane.moment/momentPct escalate:critical',
      'crane.moment/momentPct clear',
    ])
    expect(signals[0]).toMatchObject({
      siteId: 'S1',
      deviceId: 'TC-01',
      origin: 'rule default',
      retrospective: false,
      signal: { value: 95, threshold: 90 },
    })
  })

  it('wind: 12 m/s alarms in work mode, 9 m/s in erection; leaving work mode clears the work alarm', () => {
    const signals = collect([
      crane(1, { windMps: 12.5, mode: 'work' }),
      crane(2, { windMps: 12.5, mode: 'idle' }),
      crane(3, { windMps: 9.5, mode: 'jacking' }),
      crane(4, { windMps: 5 }),
    ])
    expect(signals.map(brief)).toEqual([
      'crane.wind_work/windMps raise:alarm', // 12.5 m/s is past the alarm level at once
      'crane.wind_work/windMps clear', // idle: lifting has stopped
      'crane.wind_erection/windMps raise:alarm',
      'crane.wind_erection/windMps clear',
    ])
  })

  it('derives load % from load and rated load when the device does not send it', () => {
    expect(collect([crane(1, { loadT: 5.5, ratedLoadT: 5 })]).map(brief)).toEqual([
      'crane.load/loadPct raise:critical',
    ])
  })

  it('maps device events and keys them by code; a code nothing maps is raised under its name', () => {
    const signals = collect([event(1, 'LIMITER_BYPASS'), event(2, 'DOOR_OPEN')])
    expect(signals.map(brief)).toEqual([
      'crane.device_event/LIMITER_BYPASS raise:critical',
      'crane.device_event/LIMITER_BYPASS clear',
      'device.unknown_alarm/DOOR_OPEN raise:warning',
      'device.unknown_alarm/DOOR_OPEN clear',
    ])
  })

  it("treats the monitor's deviceAlarms as a state: raised while listed, cleared when left out", () => {
    const signals = collect([
      crane(1, { loadT: 1, deviceAlarms: ['LIMITER_BYPASS', 'UNKNOWN_CODE'] }),
      crane(2, { loadT: 1, deviceAlarms: ['LIMITER_BYPASS'] }),
      crane(3, { loadT: 1 }), // no list: says nothing about the alarms
      crane(4, { loadT: 1, deviceAlarms: [] }),
    ])
    expect(signals.map((s) => `${brief(s)}@${s.signal.ts}`)).toEqual([
      'crane.device_event/LIMITER_BYPASS raise:critical@1',
      'device.unknown_alarm/UNKNOWN_CODE raise:warning@1', // never dropped, as a state too
      'device.unknown_alarm/UNKNOWN_CODE clear@2',
      'crane.device_event/LIMITER_BYPASS clear@4',
    ])
  })

  it("judges a lift's peaks once, however often its record is resent", () => {
    const cycle = (ts: number, cycleNo: number, maxMomentPct: number): Reading =>
      ({
        siteId: 'S1',
        deviceId: 'TC-01',
        kind: 'crane',
        channel: 'cycle',
        ts,
        receivedAt: ts,
        source: 'mqtt',
        data: {
          ts,
          startTs: ts - 60_000,
          cycleNo,
          operatorId: 'OP-1',
          maxLoadT: 1,
          maxMomentPct,
          maxWindMps: 2,
        },
      }) as Reading
    const signals = collect([cycle(100_000, 7, 105), cycle(100_000, 7, 105), cycle(200_000, 8, 95)])
    expect(signals.map(brief)).toEqual([
      'crane.moment/momentPct raise:alarm', // lift 7: its peak is a breach
      'crane.moment/momentPct clear', // and the lift is over
      'crane.moment/momentPct raise:warning', // lift 8, once; the resent lift 7 said nothing
      'crane.moment/momentPct clear',
    ])
    expect(signals[0]?.signal).toMatchObject({
      value: 105,
      threshold: 100,
      basis: expect.stringContaining('lift 7'),
    })
  })

  it('marks breaches found in late data as retrospective', () => {
    const [signal] = collect([crane(1_000, { momentPct: 101 }, 1_000 + 10 * 60_000)])
    expect(signal?.retrospective).toBe(true)
  })

  it('evaluates out-of-order readings apart, in their own event order: they never clear a live breach', () => {
    const signals = collect([
      crane(100_000, { loadPct: 105 }), // live: alarm
      crane(10_000, { loadPct: 50 }), // backfill behind it: normal, must not clear the live alarm
      crane(20_000, { loadPct: 95 }), // a breach in the backfill: warning, retrospective
      crane(30_000, { loadPct: 50 }), // the backfill's breach ends
      crane(101_000, { loadPct: 50 }), // live again: the live alarm clears
    ]).filter((s) => s.ruleId === 'crane.load')
    expect(signals.map((s) => `${brief(s)}@${s.signal.ts} ${s.outOfOrder ? 'late' : 'live'}`)).toEqual([
      'crane.load/loadPct raise:alarm@100000 live',
      'crane.load/loadPct raise:warning@20000 late',
      'crane.load/loadPct clear@30000 late',
      'crane.load/loadPct clear@101000 live',
    ])
    expect(signals.map((s) => s.retrospective)).toEqual([false, true, true, false])
  })

  it('sorts nothing it need not: readings of a device in order stay live, whatever other devices do', () => {
    const other = (ts: number, loadPct: number) =>
      ({ ...crane(ts, { loadPct }), deviceId: 'TC-02' }) as Reading
    const signals = collect([
      crane(100_000, { loadPct: 50 }),
      other(5_000, 105),
      crane(100_001, { loadPct: 105 }),
    ])
    expect(
      signals.filter((s) => s.ruleId === 'crane.load').map((s) => [s.deviceId, s.outOfOrder ?? false]),
    ).toEqual([
      ['TC-02', false],
      ['TC-01', false],
    ])
  })

  it('starts where the store left off: a 3-reading run survives a restart between its readings', () => {
    const states = new RuleStates()
    const low = (ts: number) => crane(ts, { powerV: 300 })
    expect(collect([low(1_000), low(2_000)], {}, undefined, { states }).map(brief)).toEqual([])
    states.commit() // what the engine does with each batch's transaction
    const restarted = new RuleStates(JSON.parse(JSON.stringify([...states.entries()])))
    expect(collect([low(3_000)], {}, undefined, { states: restarted }).map(brief)).toEqual([
      'crane.power_low/powerV raise:alarm',
    ])
    // Without the saved state the third reading is only the first of a new run.
    expect(collect([low(3_000)]).map(brief)).toEqual([])
  })

  it('does not move its saved state when out-of-order readings arrive after a restart', () => {
    const signals = collect([crane(50_000, { loadPct: 105 })], {}, undefined, {
      latestTimestamps: () => new Map([['TC-01', 100_000]]),
    })
    expect(signals.map((s) => `${brief(s)} ${s.outOfOrder ? 'late' : 'live'}`)).toEqual([
      'crane.load/loadPct raise:alarm late',
    ])
  })

  it('pit: cumulative by %H and grade, rate with the 3-consecutive rule, per point', () => {
    // Grade 1, H = 15 m: wall top horizontal alarms at min(20 mm, 30 mm) = 20 mm, warns at 14 mm;
    // rate limit 2 mm/d, 70 % = 1.4 mm/d.
    const signals = collect([
      pit(1 * day, [
        { pointCode: 'ZQS-01', item: 'wall_top_horizontal', value: 15, cumulative: 15, ratePerDay: 1.5 },
      ]),
      pit(2 * day, [
        { pointCode: 'ZQS-01', item: 'wall_top_horizontal', value: 16.5, cumulative: 16.5, ratePerDay: 1.5 },
      ]),
      pit(3 * day, [
        { pointCode: 'ZQS-01', item: 'wall_top_horizontal', value: 18, cumulative: 18, ratePerDay: 1.5 },
      ]),
      pit(3 * day, [
        { pointCode: 'ZQS-02', item: 'wall_top_horizontal', value: -21, cumulative: -21, ratePerDay: null },
      ]),
    ])
    expect(signals.map(brief)).toEqual([
      'pit.wall_top_horizontal.cumulative/ZQS-01 raise:warning',
      'pit.wall_top_horizontal.rate/ZQS-01 raise:warning',
      'pit.wall_top_horizontal.cumulative/ZQS-01 peak:warning',
      'pit.wall_top_horizontal.cumulative/ZQS-01 peak:warning',
      'pit.wall_top_horizontal.rate/ZQS-01 escalate:alarm',
      'pit.wall_top_horizontal.cumulative/ZQS-02 raise:alarm',
    ])
    expect(signals.at(-1)).toMatchObject({
      origin: 'grade 1: min(20 mm, 0.2 % × 15 m = 30 mm)',
      signal: { value: 21, threshold: 20 },
    })
  })

  it('pit: after the base slab the rate limits are × 0.7', () => {
    const reading = pit(day, [
      { pointCode: 'ZQS-01', item: 'wall_top_horizontal', value: 1, cumulative: 1, ratePerDay: 1.5 },
    ])
    expect(collect([reading]).map(brief)).toEqual(['pit.wall_top_horizontal.rate/ZQS-01 raise:warning'])
    expect(collect([reading], { baseSlabCast: true }).map(brief)).toEqual([
      'pit.wall_top_horizontal.rate/ZQS-01 raise:alarm',
    ])
  })

  it('isolates a failing key: it is reported and stops, every other key goes on', () => {
    const failures: string[] = []
    const signals = collect(
      [
        pit(day, [
          { pointCode: 'BAD', item: 'wall_top_horizontal', value: 30, cumulative: 30, ratePerDay: null },
        ]),
        crane(2, { momentPct: 101 }),
      ],
      {},
      (key) => failures.push(key),
    )
    expect(signals.map(brief)).toEqual([
      'pit.wall_top_horizontal.cumulative/BAD raise:alarm',
      'crane.moment/momentPct raise:alarm',
    ])
    const broken = collect(
      [
        pit(day, [
          { pointCode: 'BAD', item: 'wall_top_horizontal', value: 30, cumulative: 30, ratePerDay: null },
        ]),
        crane(2, { momentPct: 101 }),
      ],
      {
        get pitGrade(): 1 {
          throw new Error('registry unavailable')
        },
      },
      (key) => failures.push(key),
    )
    expect(broken.map(brief)).toEqual(['crane.moment/momentPct raise:alarm'])
    expect(failures).toEqual([
      'S1|PIT-01|pit.wall_top_horizontal.cumulative',
      'S1|PIT-01|pit.wall_top_horizontal.rate',
    ])
  })

  describe('in virtual time', () => {
    let scheduler: TestScheduler
    beforeEach(() => {
      scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
    })
    const environment = (s: TestScheduler): RuleEnvironment => ({
      pitContext: () => ({ pitGrade: 1, pitDepthM: 15, baseSlabCast: false, designValue: null }),
      onKeyError: () => undefined,
      lateAfterMs: 300_000,
      scheduler: s,
    })

    it('raises a data gap after 4 silent intervals of 30 s and clears on the next reading', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const readings = cold('a 239999ms b |', {
          a: crane(0, { loadT: 1 }),
          b: crane(240_000, { loadT: 1 }),
        })
        const signals = readings.pipe(evaluateRules(rules, environment(scheduler)))
        expectObservable(signals).toBe('120000ms g 119999ms c |', {
          g: expect.objectContaining({
            ruleId: 'crane.data_gap',
            subject: 'telemetry',
            signal: expect.objectContaining({ type: 'raise', severity: 'alarm' }),
          }),
          c: expect.objectContaining({
            ruleId: 'crane.data_gap',
            signal: { type: 'clear', value: null, ts: 240_000 },
          }),
        })
      })
    })

    it('watches devices that were online before a restart even if they never speak again', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const env: RuleEnvironment = {
          ...environment(scheduler),
          watchFromStart: () => [{ siteId: 'S1', deviceId: 'TC-09', kind: 'crane' }],
        }
        expectObservable(cold<Reading>('-').pipe(evaluateRules(rules, env))).toBe('120000ms g', {
          g: expect.objectContaining({
            deviceId: 'TC-09',
            ruleId: 'crane.data_gap',
            signal: expect.objectContaining({ type: 'raise', severity: 'alarm', value: 120 }),
          }),
        })
      })
    })

    it('resumes a watch after a restart from the last reading, not from the restart', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const env: RuleEnvironment = {
          ...environment(scheduler),
          watchFromStart: () => [{ siteId: 'S1', deviceId: 'TC-09', kind: 'crane', lastSeenAt: -90_000 }],
        }
        expectObservable(cold<Reading>('-').pipe(evaluateRules(rules, env))).toBe('30000ms g', {
          g: expect.objectContaining({ deviceId: 'TC-09', signal: expect.objectContaining({ value: 120 }) }),
        })
      })
    })

    it('clears a gap raised before a restart when the device speaks again; backfill does not undo the raise', () => {
      scheduler.run(({ cold, expectObservable }) => {
        const env: RuleEnvironment = {
          ...environment(scheduler),
          watchFromStart: () => [{ siteId: 'S1', deviceId: 'TC-01', kind: 'crane', lastSeenAt: -600_000 }],
          initialState: (key) =>
            key === 'S1|TC-01|crane.data_gap|telemetry'
              ? { ...initialThresholdState(), active: 'alarm' }
              : undefined,
        }
        // A backfilled reading from inside the gap: the device is back, so the gap's condition
        // clears now (processing time). Nothing is raised again and nothing claims there was no gap.
        const readings = cold('5000ms a', { a: crane(-300_000, { loadT: 1 }) })
        // Silent again afterwards: the watch goes on and raises 120 s after that reading.
        expectObservable(readings.pipe(evaluateRules(rules, env))).toBe('5000ms c 119999ms g', {
          c: expect.objectContaining({
            ruleId: 'crane.data_gap',
            signal: { type: 'clear', value: null, ts: 5_000 },
            retrospective: false,
          }),
          g: expect.objectContaining({ signal: expect.objectContaining({ type: 'raise', ts: 125_000 }) }),
        })
      })
    })

    it('completes on empty, stays silent on never, passes a source error on, and unsubscribes', () => {
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        expectObservable(cold<Reading>('|').pipe(evaluateRules(rules, environment(scheduler)))).toBe('|')
        expectObservable(cold<Reading>('-').pipe(evaluateRules(rules, environment(scheduler)))).toBe('-')
        expectObservable(
          cold<Reading>('#', {}, new Error('log unreadable')).pipe(
            evaluateRules(rules, environment(scheduler)),
          ),
        ).toBe('#', {}, new Error('log unreadable'))
        const endless = cold<Reading>('a-a-a', { a: crane(1, { momentPct: 50 }) })
        expectObservable(endless.pipe(evaluateRules(rules, environment(scheduler))), '^--!').toBe('-')
        expectSubscriptions(endless.subscriptions).toBe('^--!')
      })
    })
  })
})

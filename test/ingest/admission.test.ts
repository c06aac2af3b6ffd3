import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { MessageRecord } from '../../domain/log-record.js'
import type { Channel } from '../../domain/payloads.js'
import type { DeviceKind } from '../../domain/registry.js'
import { admit } from '../../ingest/admission.js'
import { IngestState } from '../../ingest/ingest-state.js'

const now = Date.UTC(2026, 10, 29, 12, 0, 0)
const fresh = () => new IngestState({ deliveries: new Map(), pitPoints: [] })
const submit = (
  payload: unknown,
  options: {
    kind?: DeviceKind
    channel?: Channel
    state?: IngestState
    raw?: boolean
    source?: 'mqtt' | 'manual'
  } = {},
): MessageRecord =>
  admit(
    {
      siteId: 'S1',
      deviceId: 'TC-01',
      kind: options.kind ?? 'crane',
      channel: options.channel ?? 'telemetry',
      topic: 'sites/S1/devices/TC-01/telemetry',
      payload: Buffer.from(options.raw === true ? String(payload) : JSON.stringify(payload)),
      receivedAt: now,
      source: options.source ?? 'mqtt',
    },
    options.state ?? fresh(),
  )

describe('admission of payloads (CONTRACT §2.1)', () => {
  it('accepts a crane reading with ISO or epoch-ms ts and keeps ts in milliseconds', () => {
    const record = submit([
      { ts: now - 1000, loadT: 3.2, momentPct: 85, mode: 'work', unknownField: 'ignored' },
      { ts: '2026-11-29T20:00:00+08:00', windMps: 11 },
    ])
    expect(record.rejects).toEqual([])
    expect(record.items).toEqual([
      { ts: now - 1000, loadT: 3.2, momentPct: 85, mode: 'work' },
      { ts: Date.UTC(2026, 10, 29, 12, 0, 0), windMps: 11 },
    ])
    expect(record.raw).toBeUndefined()
  })

  const corpus: [string, unknown, RegExp, boolean?][] = [
    ['not JSON', '{"ts": 1,', /^payload is not valid JSON/, true],
    [
      'JSON nested 5,000 deep',
      `{"ts": 1, "junk": ${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
      /^payload nests arrays or objects deeper than 32 levels$/,
      true,
    ],
    ['a bare number', 42, /expected an object or an array of objects, got number/],
    ['null', null, /got null/],
    ['an empty array', [], /empty array/],
    ['no ts', { loadT: 1 }, /^ts: /],
    ['ts as a word', { ts: 'yesterday', loadT: 1 }, /^ts: /],
    ['ISO ts without offset', { ts: '2026-11-29T12:00:00', loadT: 1 }, /^ts: /],
    ['a string where a number belongs', { ts: now, loadT: 'heavy' }, /^loadT: expected number, got string$/],
    ['an unknown crane mode', { ts: now, mode: 'dancing' }, /^mode: /],
    ['no metric at all', { ts: now }, /at least one metric/],
    ['a negative seq', { ts: now, seq: -1, loadT: 1 }, /^seq: /],
    ['ts more than 5 minutes ahead', { ts: now + 6 * 60_000, loadT: 1 }, /more than 5 minutes in the future/],
    ['ts older than 30 days', { ts: now - 31 * 86_400_000, loadT: 1 }, /older than 30 days$/],
    [
      'epoch seconds instead of ms',
      { ts: Math.floor(now / 1000), loadT: 1 },
      /epoch timestamps must be in milliseconds/,
    ],
    [
      'deviceAlarms not an array',
      { ts: now, deviceAlarms: 'LIMITER' },
      /^deviceAlarms: expected array, got string$/,
    ],
  ]
  it.each(corpus)('refuses %s with a specific reason', (_name, payload, reason, raw) => {
    const record = submit(payload, { raw: raw === true })
    expect(record.items).toEqual([])
    expect(record.rejects).toHaveLength(1)
    expect(record.rejects[0]?.reason).toMatch(reason)
    expect(record.raw).toBe(raw === true ? String(payload) : JSON.stringify(payload))
  })

  it('refuses only the bad objects of an array and names their index', () => {
    const record = submit([
      { ts: now, loadT: 1 },
      { ts: now, loadT: 'x' },
      { ts: now, windMps: 5 },
    ])
    expect(record.items).toHaveLength(2)
    expect(record.rejects).toEqual([
      { index: 1, code: 'schema', reason: 'loadT: expected number, got string' },
    ])
  })

  it('refuses a payload over 64 KiB without parsing it', () => {
    const record = submit('x'.repeat(64 * 1024 + 1), { raw: true })
    expect(record.rejects[0]).toMatchObject({
      code: 'too_large',
      reason: 'payload is 65537 bytes; the limit is 65536',
    })
  })

  it('refuses a channel the device kind does not use', () => {
    const record = submit({ ts: now, cycleNo: 1 }, { kind: 'pit', channel: 'cycle' })
    expect(record.rejects[0]).toMatchObject({
      code: 'channel_not_used',
      reason: 'channel "cycle" is not used by pit devices',
    })
  })

  it('validates every channel: cycle, status, event, pit telemetry', () => {
    const lift = {
      ts: now,
      startTs: now - 60_000,
      cycleNo: 7,
      operatorId: 'OP-1',
      maxLoadT: 4,
      maxMomentPct: 80,
      maxWindMps: 6,
    }
    expect(submit(lift, { channel: 'cycle' }).rejects).toEqual([])
    const backwards = submit({ ...lift, startTs: now + 1 }, { channel: 'cycle' })
    expect(backwards.rejects[0]?.reason).toMatch(/^startTs: must not be after ts/)
    expect(submit({ ts: now, online: true, signalCsq: 20 }, { channel: 'status' }).rejects).toEqual([])
    expect(submit({ ts: now, signalCsq: 200 }, { channel: 'status' }).rejects[0]?.reason).toMatch(
      /^signalCsq: /,
    )
    expect(submit({ ts: now, code: 'LIMITER_BYPASS' }, { channel: 'event' }).rejects).toEqual([])
    expect(submit({ ts: now, code: 5 }, { channel: 'event' }).rejects[0]?.reason).toBe(
      'code: expected string, got number',
    )
    const pit = submit(
      { ts: now, points: [{ pointCode: 'P1', item: 'strut_force', value: 'big' }] },
      { kind: 'pit' },
    )
    expect(pit.rejects[0]?.reason).toBe('points[0].value: expected number, got string')
    const badItem = submit(
      { ts: now, points: [{ pointCode: 'P1', item: 'moon_phase', value: 1 }] },
      { kind: 'pit' },
    )
    expect(badItem.rejects[0]?.reason).toMatch(/^points\[0\]\.item: /)
  })

  it('drops repeated seqs, also across messages, and counts them', () => {
    const state = fresh()
    expect(
      submit(
        [
          { ts: now, seq: 1, loadT: 1 },
          { ts: now + 1, seq: 2, loadT: 2 },
        ],
        { state },
      ).duplicates,
    ).toBe(0)
    const again = submit(
      [
        { ts: now + 1, seq: 2, loadT: 2 },
        { ts: now + 2, seq: 3, loadT: 3 },
      ],
      { state },
    )
    expect(again.duplicates).toBe(1)
    expect(again.items).toEqual([{ ts: now + 2, seq: 3, loadT: 3 }])
  })

  it('drops a resend only: a seq seen with another ts is a new reading', () => {
    const state = fresh()
    const poison = Array.from({ length: 500 }, (_, seq) => ({
      ts: seq % 2 === 0 ? now - 29 * 86_400_000 : now + 290_000,
      seq,
      loadT: 1,
    }))
    expect(submit(poison, { state }).items).toHaveLength(500)
    const genuine = Array.from({ length: 20 }, (_, i) => ({ ts: now + i, seq: 100 + i, momentPct: 125 }))
    const record = submit(genuine, { state })
    expect(record.duplicates).toBe(0)
    expect(record.items).toHaveLength(20)
  })

  it("keeps an officer's seqs apart from the device's", () => {
    const state = fresh()
    submit({ ts: now, seq: 1, loadT: 1 }, { state, source: 'manual' })
    expect(submit({ ts: now, seq: 1, loadT: 1 }, { state }).duplicates).toBe(0)
    expect(submit({ ts: now, seq: 1, loadT: 1 }, { state }).duplicates).toBe(1)
    expect(submit({ ts: now, seq: 1, loadT: 1 }, { state, source: 'manual' }).duplicates).toBe(1)
  })

  it('derives cumulative change from the first reading and the rate per day between readings', () => {
    const state = fresh()
    const point = (value: number) => ({ pointCode: 'ZQS-01', item: 'wall_top_horizontal', value })
    const first = submit({ ts: now - 2 * 86_400_000, points: [point(10)] }, { kind: 'pit', state })
    const second = submit({ ts: now - 86_400_000 / 2, points: [point(13)] }, { kind: 'pit', state })
    const pointOf = (record: MessageRecord) =>
      record.kind === 'pit' && record.channel === 'telemetry' ? record.items[0]?.points[0] : undefined
    expect(pointOf(first)).toMatchObject({ cumulative: 0, ratePerDay: null })
    // 3 mm in 1.5 days = 2 mm/day (GB 50497-2019 §8.0.3 dual control: cumulative and rate).
    expect(pointOf(second)).toMatchObject({ cumulative: 3, ratePerDay: 2 })
  })

  it('never throws and explains every refusal, whatever arrives (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.string(),
          fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
        ),
        fc.constantFrom<[DeviceKind, Channel]>(
          ['crane', 'telemetry'],
          ['crane', 'cycle'],
          ['pit', 'telemetry'],
          ['crane', 'status'],
          ['pit', 'event'],
        ),
        (payload, [kind, channel]) => {
          const record = submit(typeof payload === 'string' ? payload : JSON.stringify(payload), {
            kind,
            channel,
            raw: true,
          })
          const objects = record.items.length + record.rejects.length + record.duplicates
          expect(objects).toBeGreaterThan(0)
          for (const reject of record.rejects) expect(reject.reason.length).toBeGreaterThan(5)
        },
      ),
      { numRuns: 2_000 },
    )
  })
})

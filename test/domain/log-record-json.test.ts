import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { messageRecordJson } from '../../domain/log-record.js'
import { admitVerbatim } from '../../ingest/admission.js'
import { IngestState } from '../../ingest/ingest-state.js'

const now = Date.UTC(2026, 11, 4, 2, 0, 0)
const admitText = (text: string, state = new IngestState({ deliveries: new Map(), pitPoints: [] })) =>
  admitVerbatim(
    {
      siteId: 'S1',
      deviceId: 'TC-01',
      kind: 'crane',
      channel: 'telemetry',
      topic: 'sites/S1/devices/TC-01/telemetry',
      payload: Buffer.from(text),
      receivedAt: now,
      source: 'mqtt',
    },
    state,
  )

/** What a reader of the log gets back from each encoding. */
const decodedBoth = (text: string) => {
  const { record, itemsJson } = admitText(text)
  return {
    verbatim: itemsJson !== null,
    stringified: JSON.parse(JSON.stringify(record)) as unknown,
    spliced: itemsJson === null ? null : (JSON.parse(messageRecordJson(record, itemsJson)) as unknown),
  }
}

const reading = fc.record(
  {
    ts: fc.integer({ min: now - 60_000, max: now }),
    seq: fc.nat({ max: 1_000_000 }),
    loadT: fc.double({ min: -10, max: 100, noNaN: true }),
    momentPct: fc.double({ min: 0, max: 200, noNaN: true }),
    windMps: fc.constantFrom(0, 1e1, 6.25, -0),
    mode: fc.constantFrom('work', 'idle'),
    operatorId: fc.string({ maxLength: 20 }),
    deviceAlarms: fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 3 }),
  },
  { requiredKeys: ['ts'] },
)

describe('a message record encoded around the payload text (issue 14)', () => {
  it('decodes to the very record JSON.stringify writes, for any reading, layout or escape', () => {
    let verbatim = 0
    fc.assert(
      fc.property(
        fc.oneof(reading, fc.array(reading, { minLength: 1, maxLength: 4 })),
        fc.constantFrom(0, 2),
        (payload, indent) => {
          const { stringified, spliced } = decodedBoth(JSON.stringify(payload, null, indent))
          if (spliced === null) return
          verbatim += 1
          expect(spliced).toEqual(stringified)
        },
      ),
      { numRuns: 500 },
    )
    expect(verbatim).toBeGreaterThan(250) // most went the short way, so the property was tested
  })

  it('is taken for the plain reading, numbers and escapes as the device wrote them', () => {
    const text =
      ' { "ts": 1796350800000 , "loadT": 1e1, "momentPct": 85.50, "operatorId": "\\u5f20\\"x\\"", "mode":"work" } '
    const both = decodedBoth(text.replace('1796350800000', String(now - 1000)))
    expect(both.verbatim).toBe(true)
    expect(both.spliced).toEqual(both.stringified)
    expect((both.spliced as { items: unknown[] }).items).toEqual([
      { ts: now - 1000, loadT: 10, momentPct: 85.5, operatorId: '张"x"', mode: 'work' },
    ])
  })

  it('is not taken when the items are not the payload: a field dropped, an object refused, a repeat, an ISO ts', () => {
    const ok = { ts: now - 1000, seq: 1, loadT: 2 }
    expect(admitText(JSON.stringify({ ...ok, extra: 1 })).itemsJson).toBeNull()
    expect(admitText(JSON.stringify([ok, { ts: now, loadT: 'heavy' }])).itemsJson).toBeNull()
    expect(admitText(JSON.stringify({ ts: new Date(now).toISOString(), loadT: 2 })).itemsJson).toBeNull()
    expect(admitText('{"__proto__": {"x": 1}, "ts": 1, "loadT": 2}').itemsJson).toBeNull()
    const state = new IngestState({ deliveries: new Map(), pitPoints: [] })
    expect(admitText(JSON.stringify(ok), state).itemsJson).not.toBeNull()
    const again = admitText(JSON.stringify([ok, { ...ok, seq: 2 }]), state)
    expect(again.record.duplicates).toBe(1)
    expect(again.itemsJson).toBeNull()
  })
})

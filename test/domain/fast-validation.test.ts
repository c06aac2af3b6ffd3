import { describe, expect, it } from 'vitest'
import { fastCraneTelemetry } from '../../domain/fast-validation.js'
import { craneMetricNames, craneTelemetrySchema } from '../../domain/payloads.js'
import { seededRandom } from '../../simulators/random.js'

const pick = <T>(next: () => number, choices: readonly T[]): T =>
  choices[Math.floor(next() * choices.length)] as T
const absent = Symbol('absent')
/** Per field: values the schema takes, and values it refuses or converts. */
const field = {
  ts: {
    good: [0, 7, 1_780_000_000_000, Number.MAX_SAFE_INTEGER],
    bad: [-1, 1.5, 2 ** 53, '5', null, absent, '2026-05-01T08:00:00+08:00', '2026-05-01'],
  },
  seq: { good: [0, 7, Number.MAX_SAFE_INTEGER, absent], bad: [-1, 1.5, 2 ** 53, '5', null] },
  mode: { good: ['work', 'idle', 'out_of_service', absent], bad: ['flying', '', 3, null] },
  operatorId: { good: ['OP-1', '', 'x'.repeat(64), absent], bad: ['x'.repeat(65), 12, null] },
  deviceAlarms: {
    good: [[], ['E1'], Array(64).fill('E'), absent],
    bad: [[''], ['x'.repeat(65)], Array(65).fill('E'), [1], 'E1', null],
  },
  extra: { good: ['ignored', { nested: true }, absent], bad: [] },
  metric: { good: [0, 1.5, -3, 40, 1e308, absent], bad: ['12', null, true, [], {}] },
} as const

function generate(next: () => number): Record<string, unknown> {
  const object: Record<string, unknown> = {}
  const put = (name: string, choices: { good: readonly unknown[]; bad: readonly unknown[] }) => {
    // Mostly good values, so that many objects pass and the outputs are compared too.
    const value =
      next() < 0.9 || choices.bad.length === 0 ? pick(next, choices.good) : pick(next, choices.bad)
    if (value !== absent) object[name] = value
  }
  const { metric, ...fields } = field
  for (const [name, choices] of Object.entries(fields)) put(name, choices)
  for (const name of craneMetricNames) if (next() < 0.3) put(name, metric)
  return object
}

describe('the compiled crane telemetry check', () => {
  it('never accepts what zod refuses, and builds what zod builds (20,000 generated objects)', () => {
    const next = seededRandom(14) // a failure repeats with the same seed
    let decided = 0
    let refusedByZod = 0
    for (let i = 0; i < 20_000; i++) {
      const object = generate(next)
      const fast = fastCraneTelemetry(object)
      if (fast === undefined) {
        if (!craneTelemetrySchema.safeParse(object).success) refusedByZod += 1
        continue
      }
      decided += 1
      const zod = craneTelemetrySchema.safeParse(object)
      expect(zod.success, JSON.stringify(object)).toBe(true)
      expect(fast, JSON.stringify(object)).toStrictEqual(zod.data)
    }
    // It decides a real share itself (otherwise it would be no faster).
    expect(decided).toBeGreaterThan(5_000)
    expect(refusedByZod).toBeGreaterThan(2_000) // and the generator makes bad objects too
  })

  it('decides every ordinary reading itself', () => {
    const reading = {
      ts: 1_780_000_000_000,
      seq: 3,
      loadT: 2.5,
      momentPct: 61,
      windMps: 7.2,
      mode: 'work',
      x: 1,
    }
    expect(fastCraneTelemetry(reading)).toStrictEqual({
      ts: 1_780_000_000_000,
      seq: 3,
      loadT: 2.5,
      momentPct: 61,
      windMps: 7.2,
      mode: 'work',
    })
    expect(fastCraneTelemetry({ ts: 1, deviceAlarms: ['E07'] })).toStrictEqual({
      ts: 1,
      deviceAlarms: ['E07'],
    })
  })

  it('leaves to zod what it cannot decide exactly', () => {
    for (const object of [
      { ts: '2026-05-01T08:00:00+08:00', loadT: 1 }, // ISO time: zod converts it
      { ts: 1, loadT: '1' },
      { ts: 1 }, // no metric: zod's message says which are expected
      [{ ts: 1, loadT: 1 }],
      null,
    ])
      expect(fastCraneTelemetry(object)).toBeUndefined()
  })
})

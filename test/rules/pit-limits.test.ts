import { describe, expect, it } from 'vitest'
import { loadRuleCatalogue } from '../../app/rule-catalogue.js'
import type { PitItem } from '../../domain/payloads.js'
import { type PitCondition, type PitContext, resolvePitLimits as resolveFor } from '../../rules/pit-limits.js'

const catalogue = new Map(
  loadRuleCatalogue(`${import.meta.dirname}/../../seeds/rules`).map((rule) => [rule.id, rule]),
)
const condition = (id: string) => catalogue.get(id)?.condition as PitCondition
/** A rule's limits for a point of the rule's own item. */
const resolvePitLimits = (cond: PitCondition, context: PitContext) => {
  const rule = [...catalogue.values()].find((r) => r.condition === cond)
  return resolveFor(cond, context, rule?.subject as PitItem)
}
const site = (over: Partial<PitContext> = {}): PitContext => ({
  pitGrade: 1,
  pitDepthM: 15,
  baseSlabCast: false,
  designValue: null,
  ...over,
})

describe('pit limits from GB 50497-2019 (worked by hand)', () => {
  it('cumulative: the smaller of the absolute limit and %H × H', () => {
    // Grade 1 wall top horizontal: min(20 mm, 0.2 % × 15 m = 30 mm) = 20 mm; warning 70 % = 14 mm.
    expect(resolvePitLimits(condition('pit.wall_top_horizontal.cumulative'), site())).toMatchObject({
      measure: 'cumulative',
      magnitude: true,
      limits: { direction: 'above', levels: { warning: 14, alarm: 20 } },
      origin: 'grade 1: min(20 mm, 0.2 % × 15 m = 30 mm)',
    })
    // Grade 2, a shallow pit: min(30 mm, 0.3 % × 8 m = 24 mm) = 24 mm; warning 16.8 mm.
    expect(
      resolvePitLimits(condition('pit.wall_top_horizontal.cumulative'), site({ pitGrade: 2, pitDepthM: 8 })),
    ).toMatchObject({
      limits: { levels: { warning: 16.8, alarm: 24 } },
    })
    // Without a design depth only the absolute limit applies; without a grade, grade 1.
    expect(
      resolvePitLimits(
        condition('pit.wall_top_horizontal.cumulative'),
        site({ pitGrade: null, pitDepthM: null }),
      ),
    ).toMatchObject({
      limits: { levels: { alarm: 20 } },
      origin: 'grade unknown, grade 1 assumed: 20 mm (no design depth for %H)',
    })
  })

  it('rate: the limit, 70 % of it on 3 consecutive days, critical at twice it, × 0.7 after the base slab', () => {
    expect(resolvePitLimits(condition('pit.wall_top_horizontal.rate'), site())).toMatchObject({
      measure: 'rate',
      limits: {
        levels: { warning: 1.4, alarm: 2, critical: 4 },
        // Three readings spanning (3 − 1) days less 10 % slack for survey times: 43.2 h.
        sustained: { level: 'warning', samples: 3, durationMs: 43.2 * 3_600_000, severity: 'alarm' },
        sustainedBasis: '≥ 1.4 per day (70 % of 2) on 3 consecutive days',
        resolution: 0.01,
      },
    })
    // After the base slab: 2 × 0.7 = 1.4 mm/d; warning 0.98.
    expect(
      resolvePitLimits(condition('pit.wall_top_horizontal.rate'), site({ baseSlabCast: true })),
    ).toMatchObject({
      limits: { levels: { warning: 0.98, alarm: 1.4 } },
      origin: 'grade 1: 2 per day × 0.7 after the base slab = 1.4',
    })
    // Soil nailing has its own row of Table 8.0.4: 3 mm/d at grade 1.
    expect(
      resolvePitLimits(condition('pit.wall_top_horizontal.rate'), site({ supportType: 'soil_nailing' })),
    ).toMatchObject({ limits: { levels: { alarm: 3 } }, origin: 'grade 1 (soil_nailing): 3 per day' })
    // The table gives no deep-horizontal rate: only the designer's value applies.
    expect(resolvePitLimits(condition('pit.deep_horizontal.rate'), site())).toEqual({
      skip: "needs the designer's rate alarm value (point set --rate-alarm)",
    })
    expect(resolvePitLimits(condition('pit.deep_horizontal.rate'), site({ rateAlarm: 3 }))).toMatchObject({
      limits: { levels: { warning: 2.1, alarm: 3, critical: 6 } },
      origin: 'point design value: 3 per day',
    })
  })

  it('strut and anchor forces against the point design value, and nothing without one', () => {
    // Grade 2 strut: 70 % of f2 = 2000 kN → alarm 1400 kN, warning 980 kN.
    expect(
      resolvePitLimits(condition('pit.strut_force.value'), site({ pitGrade: 2, designValue: 2000 })),
    ).toMatchObject({
      measure: 'value',
      limits: { direction: 'above', levels: { warning: 980, alarm: 1400 } },
    })
    // Anchor: alarm below 80 % of fy = 500 kN → 400 kN; warning inside the 80–100 % band (≤ 500 kN).
    expect(resolvePitLimits(condition('pit.anchor_force.value'), site({ designValue: 500 }))).toMatchObject({
      limits: { direction: 'below', levels: { warning: 500, alarm: 400 } },
    })
    expect(resolvePitLimits(condition('pit.anchor_force.value'), site({ prestress: 600 }))).toMatchObject({
      limits: { direction: 'below', levels: { warning: 600, alarm: 480 } },
      origin: 'grade 1: 80 % of the prestress fy 600',
    })
    expect(resolvePitLimits(condition('pit.strut_force.value'), site())).toEqual({
      skip: "needs the point's capacity f2 (point set --capacity)",
    })
    // The strut's preload loss reads the prestress only: its design value is the capacity.
    expect(resolvePitLimits(condition('pit.strut_force.min'), site({ designValue: 2000 }))).toEqual({
      skip: "needs the point's prestress fy (point set --prestress)",
    })
    expect(resolvePitLimits(condition('pit.strut_force.min'), site({ prestress: 800 }))).toMatchObject({
      limits: { direction: 'below', levels: { warning: 800, alarm: 640 } },
    })
  })

  it('surroundings: fixed limits (groundwater 1000 mm and 500 mm/d, building tilt 2 ‰)', () => {
    expect(resolvePitLimits(condition('pit.groundwater_level.cumulative'), site())).toMatchObject({
      limits: { levels: { alarm: 1000, warning: 700 } },
    })
    expect(resolvePitLimits(condition('pit.groundwater_level.rate'), site())).toMatchObject({
      measure: 'rate',
      limits: { levels: { alarm: 500 } },
    })
    expect(resolvePitLimits(condition('pit.building_tilt.cumulative'), site())).toMatchObject({
      limits: { levels: { alarm: 2 } },
    })
    // Tilt rate: 0.0001 H per day = 0.1 ‰/d, an alarm only after 3 consecutive days (Table 8.0.5 note 1).
    expect(resolvePitLimits(condition('pit.building_tilt.rate'), site())).toMatchObject({
      limits: { levels: { warning: 0.1 }, sustained: { level: 'warning', samples: 3, severity: 'alarm' } },
    })
    // The designer's value replaces a fixed limit too.
    expect(
      resolvePitLimits(condition('pit.groundwater_level.cumulative'), site({ cumulativeAlarm: 1500 })),
    ).toMatchObject({ limits: { levels: { alarm: 1500 } }, origin: 'point design value: 1500' })
  })

  it('covers every pit item of the wire contract, with rules for each danger GB 50497-2019 §8.0.9 derives from data', () => {
    const items = new Set(
      [...catalogue.values()].filter((rule) => rule.deviceKind === 'pit').map((rule) => rule.subject),
    )
    for (const item of [
      'wall_top_horizontal',
      'wall_top_vertical',
      'deep_horizontal',
      'column_vertical',
      'strut_force',
      'anchor_force',
      'groundwater_level',
      'surface_settlement',
      'building_settlement',
      'building_tilt',
      'crack_width',
      'basal_heave',
      'pipeline_settlement',
      'wall_internal_force',
      'column_internal_force',
      'earth_pressure',
      'pore_pressure',
      'event',
      'telemetry',
    ]) {
      expect(items.has(item), item).toBe(true)
    }
    expect(catalogue.get('pit.danger_report')?.condition).toMatchObject({
      codes: { DANGER_REPORT: 'critical', SUPPORT_FAILURE: 'critical' },
    })
    for (const id of [
      'pit.strut_force.collapse',
      'pit.anchor_force.collapse',
      'pit.anchor_force.max',
      'pit.strut_force.min',
      'pit.building_settlement.cumulative',
      'pit.building_settlement.differential',
      'pit.column_vertical.differential',
      'pit.deep_horizontal.rate',
      'pit.building_tilt.rate',
      'pit.pipeline_settlement.rate',
    ])
      expect(catalogue.has(id), id).toBe(true)
  })
})

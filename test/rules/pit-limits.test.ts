import { describe, expect, it } from 'vitest'
import { loadRuleCatalogue } from '../../src/app/rule-catalogue.js'
import { type PitCondition, type PitContext, resolvePitLimits } from '../../src/rules/pit-limits.js'

const catalogue = new Map(
  loadRuleCatalogue(`${import.meta.dirname}/../../seeds/rules`).map((rule) => [rule.id, rule]),
)
const condition = (id: string) => catalogue.get(id)?.condition as PitCondition
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

  it('rate: the limit, 70 % of it in 3 consecutive readings, × 0.7 after the base slab', () => {
    expect(resolvePitLimits(condition('pit.wall_top_horizontal.rate'), site())).toMatchObject({
      measure: 'rate',
      limits: {
        levels: { warning: 1.4, alarm: 2 },
        sustained: { level: 'warning', samples: 3, severity: 'alarm' },
      },
    })
    // After the base slab: 2 × 0.7 = 1.4 mm/d; warning 0.98.
    expect(
      resolvePitLimits(condition('pit.wall_top_horizontal.rate'), site({ baseSlabCast: true })),
    ).toMatchObject({
      limits: { levels: { warning: 0.98, alarm: 1.4 } },
      origin: 'grade 1: 2 per day × 0.7 after the base slab = 1.4',
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
    // Anchor: alarm below 80 % of fy = 500 kN → 400 kN; warning below 440 kN.
    expect(resolvePitLimits(condition('pit.anchor_force.value'), site({ designValue: 500 }))).toMatchObject({
      limits: { direction: 'below', levels: { warning: 440, alarm: 400 } },
    })
    expect(resolvePitLimits(condition('pit.strut_force.value'), site())).toEqual({
      skip: 'no design value configured for the point',
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
  })

  it('covers every pit item of DOMAIN.md §2 except the pipeline rows left out until checked', () => {
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
      'event',
      'telemetry',
    ]) {
      expect(items.has(item), item).toBe(true)
    }
    expect(catalogue.get('pit.danger_report')?.condition).toMatchObject({
      codes: { DANGER_REPORT: 'critical', SUPPORT_FAILURE: 'critical' },
    })
  })
})

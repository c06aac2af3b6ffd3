import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadRuleCatalogue, RuleCatalogueError } from '../../app/rule-catalogue.js'

const seeds = join(import.meta.dirname, '..', '..', 'seeds', 'rules')

describe('rule catalogue (seeds/rules)', () => {
  const rules = loadRuleCatalogue(seeds)
  const byId = new Map(rules.map((rule) => [rule.id, rule]))

  it('loads and validates the shipped catalogue', () => {
    expect(rules.length).toBeGreaterThanOrEqual(9)
  })

  it('covers the crane hazards of DOMAIN.md §1', () => {
    for (const id of [
      'crane.moment',
      'crane.load',
      'crane.wind_work',
      'crane.wind_erection',
      'crane.power_low',
      'crane.power_high',
      'crane.tilt',
      'crane.device_event',
      'crane.data_gap',
    ]) {
      expect(byId.has(id), id).toBe(true)
    }
  })

  it('carries the standard figures: moment 90/100/110 %, force 6 (10.8 m/s) stops work, 9 m/s in erection, events by severity', () => {
    expect(byId.get('crane.moment')?.condition).toMatchObject({
      levels: { warning: 90, alarm: 100, critical: 110 },
    })
    // JGJ 33-2012: work stops at wind force 6; a crane that says no mode is working (DOMAIN.md §4).
    expect(byId.get('crane.wind_work')?.condition).toMatchObject({
      levels: { warning: 9, alarm: 10.8 },
      modes: ['work', 'unreported'],
      cycleField: 'maxWindMps',
    })
    expect(byId.get('crane.wind_storm')?.condition).not.toHaveProperty('modes')
    expect(byId.get('crane.wind_erection')?.condition).toMatchObject({
      levels: { alarm: 9 },
      modes: ['erection', 'jacking'],
    })
    expect(byId.get('crane.device_event')?.condition).toMatchObject({
      codes: { LIMITER_BYPASS: 'critical', OPERATOR_UNCERTIFIED: 'alarm', SENSOR_FAULT: 'warning' },
    })
    expect(byId.get('crane.tilt')?.condition).toMatchObject({ levels: { warning: 0.23 } })
  })

  it('maps every monitor alarm JGJ 332 names (moment, load, height, radius, slew, travel, anti-collision, zone)', () => {
    const codes = new Set(
      rules.flatMap((rule) => (rule.condition.kind === 'event' ? Object.keys(rule.condition.codes) : [])),
    )
    for (const code of [
      'MOMENT_OVERLOAD',
      'LOAD_OVERLOAD',
      'HEIGHT_LIMIT',
      'RADIUS_LIMIT',
      'SLEW_LIMIT',
      'TRAVEL_LIMIT',
      'ANTI_COLLISION',
      'ZONE_PROTECTION',
    ])
      expect(codes.has(code), code).toBe(true)
    expect(byId.get('device.unknown_alarm')).toMatchObject({
      deviceKind: 'any',
      condition: { kind: 'unknown_code' },
    })
  })

  it('names a source and grade for every rule, and marks numbers without a standard UNCONFIRMED', () => {
    for (const rule of rules) expect(rule.sources.length, rule.id).toBeGreaterThan(0)
    expect(byId.get('crane.tilt')?.sources.some((source) => source.grade === 'UNCONFIRMED')).toBe(true)
  })

  it('lists every problem of a bad catalogue as file: path: message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'siteward-rules-'))
    try {
      writeFileSync(
        join(dir, 'a.json'),
        JSON.stringify([
          {
            id: 'crane.x',
            title: { zh: 'x', en: 'x' },
            deviceKind: 'crane',
            subject: 'loadT',
            condition: {
              kind: 'threshold',
              direction: 'above',
              levels: { warning: 100, alarm: 90 },
              hysteresis: 1,
            },
            sources: [],
          },
        ]),
      )
      writeFileSync(join(dir, 'b.json'), '{ nope')
      let error: unknown
      try {
        loadRuleCatalogue(dir)
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(RuleCatalogueError)
      const problems = (error as RuleCatalogueError).problems
      expect(problems).toContain('a.json: [0].condition.levels: levels must rise from warning to critical')
      expect(problems.some((p) => p.startsWith('a.json: [0].sources: '))).toBe(true)
      expect(problems.some((p) => p.startsWith('b.json: not valid JSON'))).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

import { describe, expect, it } from 'vitest'
import { defaultEscalationPolicy, escalationTarget, nextEscalationAt } from '../../domain/escalation.js'

describe('nextEscalationAt: the deadline the console shows (DOMAIN.md §3)', () => {
  const minute = 60_000
  const open = {
    severity: 'critical',
    state: 'open',
    raisedAt: 0,
    acknowledgedAt: null,
    escalationLevel: 0,
  } as const

  it('is the end of the acknowledge deadline while open, then each further one', () => {
    expect(nextEscalationAt(open, defaultEscalationPolicy)).toBe(5 * minute)
    expect(nextEscalationAt({ ...open, escalationLevel: 2 }, defaultEscalationPolicy)).toBe(15 * minute)
  })

  it('counts from the acknowledgement against the resolve deadline', () => {
    const acknowledged = { ...open, state: 'acknowledged', acknowledgedAt: 2 * minute } as const
    expect(nextEscalationAt(acknowledged, defaultEscalationPolicy)).toBe(62 * minute)
  })

  it('is null at the top of the chain', () => {
    expect(nextEscalationAt({ ...open, escalationLevel: 3 }, defaultEscalationPolicy)).toBeNull()
  })

  it('agrees with escalationTarget: just before it the level is unchanged, at it one higher', () => {
    for (const level of [0, 1, 2]) {
      const alert = { ...open, id: 'a', escalationLevel: level }
      const at = nextEscalationAt(alert, defaultEscalationPolicy) as number
      expect(escalationTarget(alert, defaultEscalationPolicy, at - 1)).toBe(level)
      expect(escalationTarget(alert, defaultEscalationPolicy, at)).toBe(level + 1)
    }
  })
})

import { describe, expect, it } from 'vitest'
import { nestsDeeperThan } from '../../domain/payloads.js'

/** `levels` arrays and objects inside each other, alternating, with a number at the bottom. */
function nested(levels: number): unknown {
  let value: unknown = 1
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { child: value }
  return value
}

describe('nestsDeeperThan (CONTRACT §2.1: 32 levels)', () => {
  it('counts arrays and objects alike, up to the limit and one past it', () => {
    expect(nestsDeeperThan(nested(32), 32)).toBe(false)
    expect(nestsDeeperThan(nested(33), 32)).toBe(true)
    expect(nestsDeeperThan(nested(5_000), 32)).toBe(true)
  })

  it('finds the deep branch beside shallow ones, and passes scalars and flat objects', () => {
    expect(nestsDeeperThan({ a: 1, b: [1, 2], c: { d: nested(30) } }, 32)).toBe(false)
    expect(nestsDeeperThan({ a: 1, b: [1, 2], c: { d: nested(31) } }, 32)).toBe(true)
    expect(nestsDeeperThan([{ ts: 1 }, { ts: 2, deviceAlarms: ['E1'] }], 32)).toBe(false)
    expect(nestsDeeperThan(null, 0)).toBe(false)
    expect(nestsDeeperThan(5, 0)).toBe(false)
    expect(nestsDeeperThan({}, 0)).toBe(true)
  })
})

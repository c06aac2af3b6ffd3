import { describe, expect, it } from 'vitest'
import { craneValue, degreesIntoSectors } from '../../rules/crane-items.js'

describe('crane values', () => {
  it('measures how far the jib is inside a forbidden sector, through north too', () => {
    const north = [{ fromDeg: 350, toDeg: 20 }]
    expect(degreesIntoSectors(5, north)).toBe(15) // 15° from the 20° edge
    expect(degreesIntoSectors(352, north)).toBe(2)
    expect(degreesIntoSectors(350, north)).toBe(0) // on the edge: reached
    expect(degreesIntoSectors(340, north)).toBe(-10) // 10° before it
    expect(degreesIntoSectors(30, north)).toBe(-10)
    expect(degreesIntoSectors(180, north)).toBe(-160)
    // The nearest of several sectors counts.
    expect(degreesIntoSectors(100, [...north, { fromDeg: 90, toDeg: 120 }])).toBe(10)
  })

  it('derives load and moment % at 0.01: 3.3 t of 3 t rated is 110 %, the critical level', () => {
    expect(craneValue('loadPct', { loadT: 3.3, ratedLoadT: 3 }, undefined)).toBe(110)
    expect(craneValue('momentPct', { loadT: 3.3, radiusM: 20 }, [{ radiusM: 30, ratedLoadT: 3 }])).toBe(110)
    expect(
      craneValue('momentPct', { loadT: 3.3, radiusM: 40 }, [{ radiusM: 30, ratedLoadT: 3 }]),
    ).toBeUndefined()
  })
})

import { describe, expect, it } from 'vitest'
import { SeqRanges } from '../../src/ingest/seq-ranges.js'

describe('SeqRanges (duplicate seq detection)', () => {
  it('merges consecutive seqs into one range', () => {
    const ranges = new SeqRanges()
    for (let seq = 1; seq <= 100; seq++) ranges.add(seq, 1000 + seq)
    expect(ranges.toJSON()).toEqual([[1, 100, 1001, 1100]])
    expect(ranges.isDuplicate(50, 1050)).toBe(true)
    expect(ranges.isDuplicate(101, 1101)).toBe(false)
  })

  it('accepts backfill that arrives after newer live data, and still catches its repeats', () => {
    const ranges = new SeqRanges()
    for (let seq = 1; seq <= 10; seq++) ranges.add(seq, seq)
    for (let seq = 51; seq <= 60; seq++) ranges.add(seq, seq) // live data after an outage
    for (let seq = 11; seq <= 50; seq++) {
      expect(ranges.isDuplicate(seq, seq)).toBe(false) // the buffered backfill is new data
      ranges.add(seq, seq)
    }
    expect(ranges.toJSON()).toEqual([[1, 60, 1, 60]])
    expect(ranges.isDuplicate(30, 30)).toBe(true)
  })

  it('treats a known seq with a later timestamp as a restarted counter, not a repeat', () => {
    const ranges = new SeqRanges()
    for (let seq = 0; seq <= 500; seq++) ranges.add(seq, 10_000 + seq)
    expect(ranges.isDuplicate(3, 99_999)).toBe(false)
    ranges.add(3, 99_999)
    expect(ranges.toJSON()).toEqual([[3, 3, 99_999, 99_999]])
    expect(ranges.isDuplicate(3, 99_999)).toBe(true)
  })

  it('keeps memory bounded under scattered seqs', () => {
    const ranges = new SeqRanges()
    for (let i = 0; i < 1_000; i++) ranges.add(i * 10, i)
    expect(ranges.toJSON().length).toBeLessThanOrEqual(32)
    expect(ranges.isDuplicate(9_990, 999)).toBe(true)
  })
})

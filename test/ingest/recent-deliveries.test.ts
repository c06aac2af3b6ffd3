import { describe, expect, it } from 'vitest'
import { deliveriesPerDevice, RecentDeliveries } from '../../ingest/recent-deliveries.js'

describe('RecentDeliveries (which objects are resends)', () => {
  it('knows a seq only with its original ts', () => {
    const deliveries = new RecentDeliveries()
    deliveries.add(7, 1_000)
    expect(deliveries.has(7, 1_000)).toBe(true)
    expect(deliveries.has(7, 1_001)).toBe(false) // a restarted counter, or another reading
    expect(deliveries.has(8, 1_000)).toBe(false)
  })

  it('claims nothing between the seqs it saw, whatever their ts', () => {
    const deliveries = new RecentDeliveries()
    const now = 1_800_000_000_000
    // The seq-poisoning message: consecutive seqs, ts alternating 29 days back and 4:50 ahead.
    for (let seq = 0; seq < 200; seq++)
      deliveries.add(seq, seq % 2 === 0 ? now - 29 * 86_400_000 : now + 290_000)
    for (let seq = 0; seq < 200; seq++) expect(deliveries.has(seq, now + seq)).toBe(false)
  })

  it('keeps its last deliveries and forgets the oldest', () => {
    const deliveries = new RecentDeliveries()
    for (let seq = 0; seq < deliveriesPerDevice + 10; seq++) deliveries.add(seq, 5_000 + seq)
    expect(deliveries.has(9, 5_009)).toBe(false)
    expect(deliveries.has(10, 5_010)).toBe(true)
    expect(deliveries.has(deliveriesPerDevice + 9, 5_000 + deliveriesPerDevice + 9)).toBe(true)
  })

  it('survives a save and a load, oldest first, and ignores the old range format', () => {
    const deliveries = new RecentDeliveries()
    for (let seq = 0; seq < deliveriesPerDevice + 3; seq++)
      deliveries.add(seq * 3, 1_700_000_000_000 + seq * 997)
    const saved = JSON.parse(JSON.stringify(deliveries)) as unknown
    const loaded = RecentDeliveries.fromJSON(saved)
    expect(loaded.toJSON()).toEqual(deliveries.toJSON())
    expect(
      loaded.has(3 * (deliveriesPerDevice + 2), 1_700_000_000_000 + (deliveriesPerDevice + 2) * 997),
    ).toBe(true)
    expect(loaded.has(0, 1_700_000_000_000)).toBe(false)
    expect(RecentDeliveries.fromJSON([[0, 100, 0, 9e15]]).has(5, 1_000)).toBe(false)
  })
})

import { describe, expect, it } from 'vitest'
import { fuzzHarness } from '../../reliability/fuzz-harness.js'

// The short version of `npm run reliability:fuzz` (100,000 packets): same harness, fewer packets.
describe('MQTT mutation fuzzing (short run; RELIABILITY.md has the long one)', () => {
  it('survives 5,000 malformed packets from many addresses while valid devices keep their PUBACKs', async () => {
    const result = await fuzzHarness({ packets: 5_000, seed: 7 })
    expect(result.packets).toBeGreaterThanOrEqual(5_000)
    expect(Object.keys(result.byStrategy).sort()).toEqual([
      'authenticated',
      'garbage-before-connect',
      'huge-length',
      'mutated-connect',
      'wrong-secret',
    ])
    expect(result.crashed).toBe(false)
    expect(result.exitCode).toBe(0) // and it still shut down cleanly on SIGTERM afterwards
    expect(result.stopMs).toBeLessThan(10_000)
    expect(result.lingering).toEqual([]) // nothing held the process once the engine had stopped
    expect(result.validAcked).toBeGreaterThan(0)
    expect(result.validStored).toBe(result.validAcked) // every acknowledged reading, counted once
    expect(result.validDisconnects).toBe(0)
  }, 120_000)
})

import { describe, expect, inject, it } from 'vitest'
import { crashHarness } from '../../reliability/crash-harness.js'

const skipReason = inject('influxSkipReason')

// The short version of `npm run reliability:crash` (100,000 messages, 20 kills).
describe.skipIf(skipReason !== '')(
  `SIGKILL under load (short run; RELIABILITY.md has the long one)${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    it('loses and doubles nothing acknowledged over 5 kills, and keeps alerts consistent', async () => {
      const result = await crashHarness({ messages: 8_000, kills: 5, devices: 10 })
      // The whole result in the message: a failure names every figure, not only the one that moved.
      expect(result, JSON.stringify(result)).toMatchObject({
        kills: 5,
        acked: 8_000,
        lostInInflux: 0,
        miscountedDevices: 0,
        lostAcknowledgements: 0,
        duplicateOpenAlerts: 0,
        brokenTimelines: 0,
        inconsistentEscalations: 0,
        devicesWithBreachButNoAlert: 0,
      })
      expect(result.alerts).toBeGreaterThanOrEqual(20) // an overload and a low-voltage run per device
    }, 180_000)
  },
)

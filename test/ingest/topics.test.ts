import { describe, expect, it } from 'vitest'
import { decidePublish, isAllowedSubscription, isAllowedWillTopic } from '../../ingest/topics.js'

const device = { deviceId: 'TC-01', siteId: 'S1', kind: 'crane' as const }

describe('device topic ACL (CONTRACT §2)', () => {
  it.each(['telemetry', 'cycle', 'status', 'event'])('allows publishing its own %s', (channel) => {
    expect(decidePublish(device, `sites/S1/devices/TC-01/${channel}`)).toEqual({ allowed: true, channel })
  })

  it.each([
    ['sites/S1/devices/TC-02/telemetry', "another device's"],
    ['sites/S2/devices/TC-01/telemetry', "another device's or site's"],
    ['sites/S1/devices/TC-01/commands', 'unknown channel'],
    ['sites/S1/alerts/A1', 'not a device topic'],
    ['$SYS/broker/clients', 'reserved'],
    ['sites/S1/devices/TC-01/telemetry/extra', 'not a device topic'],
  ])('refuses publishing to %s', (topic, reason) => {
    const decision = decidePublish(device, topic)
    expect(decision.allowed).toBe(false)
    if (!decision.allowed) expect(decision.reason).toContain(reason)
  })

  it('allows a Last Will only on its own status topic', () => {
    expect(isAllowedWillTopic(device, 'sites/S1/devices/TC-01/status')).toBe(true)
    expect(isAllowedWillTopic(device, 'sites/S1/devices/TC-02/status')).toBe(false)
    expect(isAllowedWillTopic(device, 'sites/S1/alerts/fake')).toBe(false)
  })

  it.each([
    ['sites/S1/alerts/#', true],
    ['sites/S1/alerts/+', true],
    ['sites/S1/alerts/01J000', true],
    ['sites/S1/devices/TC-01/commands/#', true],
    ['sites/S1/devices/TC-01/commands', true],
    ['sites/S2/alerts/#', false],
    ['sites/+/alerts/#', false],
    ['sites/S1/#', false],
    ['#', false],
    ['sites/S1/devices/TC-02/commands/#', false],
    ['sites/S1/devices/+/telemetry', false],
    ['$SYS/#', false],
  ])('subscription to %s allowed: %s', (filter, allowed) => {
    expect(isAllowedSubscription(device, filter)).toBe(allowed)
  })
})

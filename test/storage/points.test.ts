import { describe, expect, it } from 'vitest'
import { pointsOf } from '../../src/storage/telemetry/points.js'

describe('InfluxDB points of log records (CONTRACT §3)', () => {
  it('writes an alert_event point per alert timeline event', () => {
    const points = pointsOf({
      type: 'alert_event',
      receivedAt: 1_700_000_000_123,
      siteId: 'S1',
      deviceId: 'TC-01',
      ruleId: 'crane.moment',
      severity: 'alarm',
      alertId: '01J0000000000000000000000',
      eventType: 'raised',
      state: 'open',
      value: 104.2,
    })
    expect(points).toEqual([
      {
        measurement: 'alert_event',
        tags: { site: 'S1', device: 'TC-01', rule: 'crane.moment', severity: 'alarm' },
        fields: { alert_id: '01J0000000000000000000000', type: 'raised', state: 'open', value: 104.2 },
        ts: 1_700_000_000_123,
      },
    ])
  })

  it('writes a disconnect as device_status online=false at the engine time', () => {
    expect(
      pointsOf({
        type: 'presence',
        receivedAt: 5,
        siteId: 'S1',
        deviceId: 'TC-01',
        online: false,
        cause: 'connection_lost',
      }),
    ).toEqual([
      {
        measurement: 'device_status',
        tags: { site: 'S1', device: 'TC-01' },
        fields: { online: false },
        ts: 5,
      },
    ])
  })
})

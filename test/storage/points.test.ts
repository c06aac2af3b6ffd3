import { describe, expect, it } from 'vitest'
import { pointsOf } from '../../storage/telemetry/points.js'

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

  it('tags manual readings source=manual and records who entered them', () => {
    const [point] = pointsOf({
      type: 'message',
      receivedAt: 10,
      siteId: 'S1',
      deviceId: 'PIT-01',
      topic: 'api:sites/S1/readings',
      source: 'manual',
      enteredBy: 'Surveyor Zhao',
      kind: 'pit',
      channel: 'telemetry',
      items: [
        {
          ts: 9,
          points: [
            { pointCode: 'ZQS-01', item: 'wall_top_horizontal', value: 12, cumulative: 2, ratePerDay: null },
          ],
        },
      ],
      rejects: [],
      duplicates: 0,
    })
    expect(point).toEqual({
      measurement: 'pit',
      tags: { site: 'S1', device: 'PIT-01', source: 'manual', point: 'ZQS-01', item: 'wall_top_horizontal' },
      fields: { value: 12, cumulative: 2, entered_by: 'Surveyor Zhao' },
      ts: 9,
    })
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

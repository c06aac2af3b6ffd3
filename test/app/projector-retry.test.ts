import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'

/**
 * The worker evaluates a batch before it writes it (issue 14). When the write fails, the same
 * batch is written again later; its readings must not go through the rules a second time, where
 * they would be older than the device's newest reading and judged as late data.
 */
describe('a batch whose write fails is written again, not evaluated again (issue 14)', () => {
  let t: TestEngine | undefined
  afterEach(async () => {
    vi.restoreAllMocks()
    await t?.stop()
  })

  it('raises one live alert from three readings whose first write failed', async () => {
    t = await startTestEngine()
    const engine = t
    const secret = await engine.addDevice('S1', 'TC-01', 'crane')
    const officer = await engine.token('officer', { sites: ['S1'] })
    // The worker writes its batch's projection inside the batch's transaction.
    const commit = ProjectionRepository.prototype.commitWithin
    let failures = 0
    vi.spyOn(ProjectionRepository.prototype, 'commitWithin').mockImplementation(function (
      this: ProjectionRepository,
      batch,
    ) {
      if (failures === 0 && batch.devices.some((change) => change.deviceId === 'TC-01')) {
        failures += 1
        throw new Error('disk I/O error (simulated, once)')
      }
      return commit.call(this, batch)
    })
    const crane = await connectDevice(engine.mqttUrl, 'TC-01', secret)
    const now = Date.now()
    // One message, three readings in event order: normal, then over 100 % of rated moment twice.
    await crane.publishAsync(
      'sites/S1/devices/TC-01/telemetry',
      JSON.stringify([60, 104.2, 106].map((momentPct, i) => ({ ts: now - 3_000 + i * 1_000, momentPct }))),
      { qos: 1 },
    )
    await crane.endAsync()
    const api = apiClient(() => engine.httpUrl)
    const alerts = await waitFor(async () => {
      const { body } = await api('GET', '/api/alerts?deviceId=TC-01', officer)
      const items = body.items as Alert[]
      return items.length > 0 &&
        engine.lines.some((line) => line.msg === 'projecting the log failed; will retry')
        ? items
        : undefined
    }, 'the alert after the retried write')
    await new Promise((resolve) => setTimeout(resolve, 300)) // a second alert, if any, would be here by now
    const { body } = await api('GET', '/api/alerts?deviceId=TC-01', officer)
    expect(failures).toBe(1)
    expect(alerts.length).toBeGreaterThan(0)
    expect((body.items as Alert[]).map((a) => [a.ruleId, a.severity, a.retrospective, a.peakValue])).toEqual([
      ['crane.moment', 'alarm', false, 106],
    ])
  })
})

import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { registryDatabasePath } from '../../app/engine.js'
import { SettingsService } from '../../app/settings-service.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'

/**
 * The roles write to one SQLite store, each on its own connection. The worker's rules run
 * outside its write transaction: under province load, evaluating inside it held the write lock
 * nearly all the time, and the shipper's cursor and the edge's housekeeping failed with
 * "database is locked" after waiting busy_timeout (BENCHMARKS.md, issue 14).
 */
describe('the worker holds the store write lock only to write (issue 14)', () => {
  let t: TestEngine | undefined
  afterEach(async () => {
    vi.restoreAllMocks()
    await t?.stop()
  })

  it('lets another connection take the write lock at once while a reading goes through the rules', async () => {
    t = await startTestEngine()
    const engine = t
    const secret = await engine.addDevice('S1', 'TC-01', 'crane')
    const other = new Database(registryDatabasePath(engine.dataDir), { timeout: 0 })
    const attempts: ('free' | string)[] = []
    // Crane rules ask for the crane's load chart while they judge a reading (rules/crane-items.ts).
    const loadChart = SettingsService.prototype.loadChart
    vi.spyOn(SettingsService.prototype, 'loadChart').mockImplementation(function (
      this: SettingsService,
      deviceId: string,
    ) {
      try {
        other.exec('BEGIN IMMEDIATE')
        other.exec('ROLLBACK')
        attempts.push('free')
      } catch (error) {
        attempts.push((error as Error).message)
      }
      return loadChart.call(this, deviceId)
    })
    const crane = await connectDevice(engine.mqttUrl, 'TC-01', secret)
    for (const momentPct of [60, 104.2, 61])
      await crane.publishAsync(
        'sites/S1/devices/TC-01/telemetry',
        JSON.stringify({ ts: Date.now(), momentPct }),
        {
          qos: 1,
        },
      )
    // Every reading judged (a crane rule asks for the chart once a reading), and the alarm stored.
    await waitFor(
      () =>
        attempts.length >= 3 &&
        engine.db.prepare("SELECT id FROM alerts WHERE rule_id = 'crane.moment'").get() !== undefined,
      'the three readings judged and the moment alert committed',
    )
    await crane.endAsync()
    other.close()
    expect(attempts.length).toBeGreaterThanOrEqual(3)
    expect(attempts.every((attempt) => attempt === 'free')).toBe(true)
  })
})

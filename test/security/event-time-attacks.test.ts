import { afterEach, describe, expect, it } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'

const day = 86_400_000

/**
 * A compromised device or a malicious officer lying about `seq` and `ts` (issue 13): neither may
 * hide the device's genuine readings nor clear an alert ahead of time.
 */
describe('attacks through seq and ts', () => {
  let t: TestEngine
  const api = apiClient(() => t.httpUrl)
  afterEach(async () => {
    await t?.stop()
  })

  const setUp = async () => {
    t = await startTestEngine({ env: { SITEWARD_HTTP_RATE_LIMIT: '100000' } })
    const secret = await t.addDevice('S1', 'TC-01', 'crane')
    const officer = await t.token('officer', { sites: ['S1'] })
    const crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    const publish = (body: unknown) =>
      crane.publishAsync('sites/S1/devices/TC-01/telemetry', JSON.stringify(body), { qos: 1 })
    const momentAlerts = async () =>
      (await api('GET', '/api/alerts?ruleId=crane.moment', officer)).body.items as Alert[]
    const deviceCounts = async () =>
      (await api('GET', '/api/devices/TC-01', officer)).body as {
        acceptedCount: number
        duplicateCount: number
      }
    return { officer, crane, publish, momentAlerts, deviceCounts }
  }
  /** Consecutive seqs whose ts alternate between 29 days ago and 4 min 50 s ahead. */
  const poison = (now: number, extra: Record<string, unknown> = {}) =>
    Array.from({ length: 400 }, (_, seq) => ({
      ...extra,
      ts: seq % 2 === 0 ? now - 29 * day : now + 290_000,
      seq,
      momentPct: 40,
    }))
  const overloads = (from: number) =>
    Array.from({ length: 3 }, (_, i) => ({ ts: Date.now() + i, seq: from + i, momentPct: 125 }))

  it('seq poisoning by the device: its genuine overload after a range claim is judged, not dropped', async () => {
    const { publish, momentAlerts, deviceCounts } = await setUp()
    await publish(poison(Date.now()))
    await publish(overloads(150)) // seqs inside the poisoned range, with their own ts
    const alert = await waitFor(async () => (await momentAlerts())[0], 'the overload alert')
    expect(alert).toMatchObject({
      severity: 'critical',
      condition: 'active',
      retrospective: false,
      value: 125,
    })
    const counts = await waitFor(async () => {
      const found = await deviceCounts()
      return found.acceptedCount === 403 && found
    }, 'every object counted')
    expect(counts.duplicateCount).toBe(0)
  })

  it("seq poisoning by an officer: typed readings never touch the device's resend memory", async () => {
    const { officer, publish, momentAlerts, deviceCounts } = await setUp()
    const typed = poison(Date.now(), { deviceId: 'TC-01' })
    const answer = await api('POST', '/api/sites/S1/readings', officer, typed)
    expect(answer.status).toBe(201)
    expect(answer.body).toMatchObject({ accepted: 400, duplicates: 0 })
    // The device's own seqs 0..2, and the very ts an officer typed for seq 1.
    await publish([{ ts: typed[1]?.ts, seq: 1, momentPct: 125 }, ...overloads(2)])
    await waitFor(async () => (await momentAlerts())[0], 'the overload alert')
    const counts = await waitFor(async () => {
      const found = await deviceCounts()
      return found.acceptedCount === 404 && found
    }, 'every object counted')
    expect(counts.duplicateCount).toBe(0)
  })

  it('a resend is still dropped, and counted on the device', async () => {
    const { publish, deviceCounts } = await setUp()
    const ts = Date.now()
    await publish({ ts, seq: 9, momentPct: 50 })
    await publish({ ts, seq: 9, momentPct: 50 })
    const counts = await waitFor(async () => {
      const found = await deviceCounts()
      return found.duplicateCount === 1 && found
    }, 'the duplicate counted')
    expect(counts.acceptedCount).toBe(1)
  })

  it('future-stamped normal readings cannot clear a live alert ahead of time or make on-time ones late', async () => {
    const { publish, momentAlerts } = await setUp()
    await publish({ ts: Date.now(), momentPct: 125 })
    const live = await waitFor(async () => (await momentAlerts())[0], 'the live overload')
    expect(live.retrospective).toBe(false)

    const sentAt = Date.now()
    await publish(Array.from({ length: 5 }, (_, i) => ({ ts: sentAt + 290_000 + i, momentPct: 40 })))
    const cleared = await waitFor(async () => {
      const [found] = await momentAlerts()
      return found?.condition === 'cleared' && found
    }, 'the alert cleared by the normal readings')
    // Cleared when the engine heard it, not 4 min 50 s from now: nobody can close it early.
    expect(Date.parse(cleared.clearedAt as string)).toBeLessThanOrEqual(Date.now())

    // The genuine overload that follows, stamped on time, is live.
    await publish({ ts: Date.now(), momentPct: 130 })
    const next = await waitFor(async () => {
      const found = (await momentAlerts()).find(
        (alert) => alert.value === 130 && alert.condition === 'active',
      )
      return found
    }, 'the next overload, live')
    expect(next.retrospective).toBe(false)
    expect(Date.parse(next.raisedAt)).toBeLessThanOrEqual(Date.now())
  })
})

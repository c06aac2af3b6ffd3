import type { ISubackPacket } from 'mqtt-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'
import { RawMqtt } from '../helpers/raw-mqtt.js'

/** A compromised device trying to fill the engine's disk or memory (issue 13). */
describe('storage a device cannot exhaust', () => {
  let t: TestEngine
  let secret: string
  let officer: string
  const api = apiClient(() => t.httpUrl)
  beforeAll(async () => {
    t = await startTestEngine({ env: { SITEWARD_HTTP_RATE_LIMIT: '100000' } })
    secret = await t.addDevice('S1', 'TC-01', 'crane')
    await t.addDevice('S2', 'TC-02', 'crane')
    officer = await t.token('officer', { sites: ['S1'] })
  })
  afterAll(async () => {
    await t?.stop()
  })

  it('keeps a burst of its refused payloads, cut at 4 KiB, and counts every one', async () => {
    const crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    const garbage = `{"ts": ${'9'.repeat(60_000)}`
    await Promise.all(
      Array.from({ length: 300 }, () =>
        crane.publishAsync('sites/S1/devices/TC-01/telemetry', garbage, { qos: 1 }),
      ),
    )
    const device = await waitFor(async () => {
      const found = (await api('GET', '/api/devices/TC-01', officer)).body as { rejectedCount: number }
      return found.rejectedCount === 300 && found
    }, 'every refusal counted')
    expect(device).toMatchObject({ lastRejectReason: expect.stringMatching(/not valid JSON/) })

    const page = await api('GET', '/api/devices/TC-01/rejected?limit=200', officer)
    expect(page.status).toBe(200)
    const items = page.body.items as { reason: string; payload: string; topic: string }[]
    expect(items.length).toBeGreaterThanOrEqual(20)
    expect(items.length).toBeLessThanOrEqual(22)
    for (const item of items) {
      expect(item.reason).toMatch(/^payload is not valid JSON/)
      expect(item.payload.length).toBeLessThan(4_200)
      expect(item.payload).toMatch(/more characters not kept\)$/)
      expect(item.topic).toBe('sites/S1/devices/TC-01/telemetry')
    }
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text()
    expect(metrics).toMatch(
      new RegExp(`siteward_dead_letters_total\\{outcome="not_stored"\\} ${300 - items.length}\\b`),
    )
    await crane.endAsync()
  })

  it('pages back through the dead letters and keeps them from other scopes', async () => {
    const first = await api('GET', '/api/devices/TC-01/rejected?limit=5', officer)
    const before = first.body.nextBefore as number
    expect(before).toBeGreaterThan(0)
    const second = await api('GET', `/api/devices/TC-01/rejected?limit=5&before=${before}`, officer)
    const ids = (page: typeof first) => (page.body.items as { id: number }[]).map((item) => item.id)
    expect(Math.max(...ids(second))).toBeLessThan(Math.min(...ids(first)))
    const outsider = await t.token('officer', { sites: ['S2'] })
    expect((await api('GET', '/api/devices/TC-01/rejected', outsider)).status).toBe(404)
  })

  it('grants a device 16 subscriptions, kept with its persistent session, and refuses the rest', async () => {
    const login = { clientId: 'TC-01', username: 'TC-01', password: Buffer.from(secret), clean: false }
    const subscribe = async (client: RawMqtt, messageId: number, topics: string[]) => {
      client.send({ cmd: 'subscribe', messageId, subscriptions: topics.map((topic) => ({ topic, qos: 1 })) })
      return ((await client.next('suback')) as ISubackPacket).granted
    }
    const first = await RawMqtt.connect(t.engine.mqttPort, login)
    expect(first.connack.returnCode).toBe(0)
    const filters = Array.from({ length: 40 }, (_, i) => `sites/S1/alerts/crane.load/${i}`)
    const granted = await subscribe(first.client, 1, filters)
    expect(granted.filter((qos) => qos !== 128)).toHaveLength(16)
    first.client.send({ cmd: 'disconnect' })
    await first.client.closed
    // The same session again: its 16 are still held, so nothing more is granted.
    const again = await RawMqtt.connect(t.engine.mqttPort, login)
    expect(again.connack.sessionPresent).toBe(true)
    expect(await subscribe(again.client, 2, ['sites/S1/alerts/#'])).toEqual([128])
    // Giving some back makes room.
    again.client.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: filters.slice(0, 2) })
    await again.client.next('unsuback')
    expect(await subscribe(again.client, 4, ['sites/S1/alerts/#'])).toEqual([1])
    again.client.destroy()
  })
})

import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Alert } from '../../domain/alert.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { apiClient } from '../helpers/http.js'
import { openStream as openSseStream } from '../helpers/sse.js'

type StreamMessage = { data: { event: { type: string; seq: number }; alert: Alert } } & { id: number }
const openStream = (url: string, token: string, lastEventId?: number) =>
  openSseStream<StreamMessage['data']>(url, token, lastEventId)

describe('alerts end to end: MQTT reading → alert → API, SSE, MQTT → closed loop (CONTRACT §5)', () => {
  let t: TestEngine
  let secret: string
  let sirenSecret: string
  let siren: MqttClient
  const sirenMessages: { topic: string; payload: string; retain: boolean }[] = []
  const tokens: Record<string, string> = {}
  const api = apiClient(() => t.httpUrl)
  const publish = async (client: MqttClient, data: Record<string, unknown>) =>
    client.publishAsync('sites/S1/devices/TC-01/telemetry', JSON.stringify({ ts: Date.now(), ...data }), {
      qos: 1,
    })

  beforeAll(async () => {
    t = await startTestEngine()
    await t.provisioning.addSite({ id: 'S1', name: 'Site A', region: '330106' })
    await t.provisioning.addSite({ id: 'S2', name: 'Site B', region: '440305' })
    secret = (await t.provisioning.addDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' })).secret
    sirenSecret = (await t.provisioning.addDevice({ siteId: 'S1', id: 'SIREN-01', kind: 'crane' })).secret
    tokens.officer = await t.token('officer', { sites: ['S1'] })
    tokens.officerB = await t.token('officer', { sites: ['S2'] })
    tokens.supervisor = await t.token('supervisor', { sites: ['S1'] })
    tokens.regulator = await t.token('regulator', { region: '330106' })
    siren = await connectDevice(t.mqttUrl, 'SIREN-01', sirenSecret)
    siren.on('message', (topic, payload, packet) =>
      sirenMessages.push({ topic, payload: payload.toString(), retain: packet.retain }),
    )
    await siren.subscribeAsync('sites/S1/alerts/#', { qos: 1 })
  })
  afterAll(async () => {
    await siren?.endAsync()
    await t?.stop()
  })

  it('runs the whole loop, survives a restart in the middle, and keeps scopes', async () => {
    const stream = openStream(`${t.httpUrl}/api/alerts/stream`, tokens.officer as string)
    const strangerStream = openStream(`${t.httpUrl}/api/alerts/stream`, tokens.officerB as string)
    let crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    await publish(crane, { momentPct: 104.2, mode: 'work' }) // GB 5144-2006: over 100 % of rated moment → alarm

    const listed = await waitFor(async () => {
      const { body } = await api('GET', '/api/alerts?state=open', tokens.officer)
      return (body.items as Alert[])[0]
    }, 'the alert through the API')
    expect(listed).toMatchObject({
      siteId: 'S1',
      deviceId: 'TC-01',
      ruleId: 'crane.moment',
      subject: 'momentPct',
      severity: 'alarm',
      state: 'open',
      condition: 'active',
      value: 104.2,
      threshold: 100,
      count: 1,
      thresholdOrigin: 'rule default',
    })
    const id = listed.id
    const raised = await waitFor(
      () => stream.messages.find((m) => m.data.alert.id === id && m.data.event.type === 'raised'),
      'the raised event on SSE',
    )
    expect(raised.data.alert.severity).toBe('alarm')
    const retained = await waitFor(
      () => sirenMessages.find((m) => m.topic === `sites/S1/alerts/${id}`),
      'the alert on MQTT',
    )
    expect(JSON.parse(retained.payload)).toMatchObject({ id, state: 'open' })

    // Access matrix.
    expect((await api('GET', `/api/alerts/${id}`, tokens.officerB)).status).toBe(404)
    expect((await api('POST', `/api/alerts/${id}/acknowledge`, tokens.officerB, {})).status).toBe(404)
    expect((await api('POST', `/api/alerts/${id}/acknowledge`, tokens.regulator, {})).status).toBe(403)
    expect((await api('GET', `/api/alerts/${id}`, tokens.regulator)).status).toBe(200)
    expect((await api('GET', '/api/alerts', undefined)).status).toBe(401)
    expect((await api('GET', '/api/alerts', 'swt_wrong')).status).toBe(401)

    const acked = await api(
      'POST',
      `/api/alerts/${id}/acknowledge`,
      tokens.officer,
      { note: '已通知司机' },
      { 'if-match': String(listed.version) },
    )
    expect(acked.body).toMatchObject({ state: 'acknowledged', acknowledged: { note: '已通知司机' } })
    expect((await api('POST', `/api/alerts/${id}/acknowledge`, tokens.officer, {})).status).toBe(200) // a repeat: unchanged
    expect(
      (
        await api(
          'POST',
          `/api/alerts/${id}/resolve`,
          tokens.officer,
          { action: 'x' },
          { 'if-match': String(listed.version) },
        )
      ).body.error?.code,
    ).toBe('VERSION_MISMATCH')

    // The engine restarts in the middle of the loop.
    crane.end(true)
    const lastSeen = stream.messages.at(-1)?.id ?? 0
    stream.close()
    t = await t.restart()
    crane = await connectDevice(t.mqttUrl, 'TC-01', secret)
    // The siren reconnects to the restarted engine and finds the open alert retained.
    siren.end(true)
    siren = await connectDevice(t.mqttUrl, 'SIREN-01', sirenSecret)
    siren.on('message', (topic, payload, packet) =>
      sirenMessages.push({ topic, payload: payload.toString(), retain: packet.retain }),
    )
    sirenMessages.length = 0
    await siren.subscribeAsync('sites/S1/alerts/#', { qos: 1 })
    const afterRestart = await waitFor(
      () => sirenMessages.find((m) => m.topic === `sites/S1/alerts/${id}`),
      'the retained alert after the restart',
    )
    expect(afterRestart.retain).toBe(true)
    expect(JSON.parse(afterRestart.payload)).toMatchObject({ id, state: 'acknowledged' })
    const resumed = openStream(`${t.httpUrl}/api/alerts/stream`, tokens.officer as string, 0)
    await waitFor(
      () => resumed.messages.some((m) => m.id === lastSeen),
      'the stream resumed from the start after the restart',
    )

    const resolved = await api('POST', `/api/alerts/${id}/resolve`, tokens.officer, {
      action: 'Load reduced to 80 %; the operator briefed',
    })
    expect(resolved.body).toMatchObject({
      state: 'resolved',
      resolved: { action: 'Load reduced to 80 %; the operator briefed' },
    })
    expect((await api('POST', `/api/alerts/${id}/close`, tokens.officer, {})).status).toBe(403) // officers never close
    const early = await api('POST', `/api/alerts/${id}/close`, tokens.supervisor, {})
    expect(early.status).toBe(409)
    expect(early.body.error?.code).toBe('ALERT_CONDITION_ACTIVE')

    await publish(crane, { momentPct: 60, mode: 'work' }) // back to normal, past the hysteresis
    await waitFor(
      async () => (await api('GET', `/api/alerts/${id}`, tokens.officer)).body.condition === 'cleared',
      'the condition to clear',
    )
    const closed = await api('POST', `/api/alerts/${id}/close`, tokens.supervisor, {
      note: 'checked on site',
    })
    expect(closed.body).toMatchObject({ state: 'closed', closed: { note: 'checked on site' } })

    const timeline = await api('GET', `/api/alerts/${id}/events`, tokens.regulator)
    expect((timeline.body.items as { type: string }[]).map((e) => e.type)).toEqual([
      'raised',
      'acknowledged',
      'resolved',
      'cleared',
      'closed',
    ])
    expect((await api('GET', `/api/alerts/${id}/verify`, tokens.regulator)).body).toEqual({
      valid: true,
      events: 5,
      brokenAtSeq: null,
    })
    await waitFor(
      () => resumed.messages.some((m) => m.data.alert.id === id && m.data.event.type === 'closed'),
      'closed on SSE',
    )
    // Closed: subscribers hear it, then the retained copy is removed (an empty retained message).
    await waitFor(
      () => sirenMessages.some((m) => m.topic === `sites/S1/alerts/${id}` && m.payload === ''),
      'the retained copy removed',
    )
    expect(strangerStream.messages).toEqual([])
    resumed.close()
    strangerStream.close()
    await crane.endAsync()
  })
})

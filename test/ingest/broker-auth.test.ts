import { connect as connectTcp, type Socket } from 'node:net'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Reading } from '../../domain/reading.js'
import {
  connackCode,
  connectDevice,
  metricValue,
  startTestEngine,
  type TestEngine,
  waitFor,
} from '../helpers/engine.js'

/** Publishes over a client that may be closed for it; resolves to what happened. */
function publishOutcome(client: MqttClient, topic: string, payload: string): Promise<'acked' | 'closed'> {
  return new Promise((resolve) => {
    client.once('close', () => resolve('closed'))
    client.publish(topic, payload, { qos: 1 }, (error) => {
      if (!error) resolve('acked')
    })
  })
}

function openRawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1', () => resolve(socket))
    socket.once('error', reject)
  })
}

const closed = (socket: Socket) =>
  new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())))

describe('MQTT device authentication and ACL (CONTRACT §2)', () => {
  let t: TestEngine
  let secret: string
  let otherSecret: string
  let rightful: MqttClient
  let rightfulClosed = false
  const readings: Reading[] = []
  const maxUnauthenticated = 20

  beforeAll(async () => {
    t = await startTestEngine({
      env: {
        SITEWARD_MQTT_MAX_UNAUTHENTICATED: String(maxUnauthenticated),
        SITEWARD_MQTT_CONNECT_TIMEOUT_MS: '1000',
      },
    })
    secret = await t.addDevice('S1', 'TC-01', 'crane')
    otherSecret = await t.addDevice('S2', 'TC-09', 'crane')
    t.engine.readings$.subscribe((reading) => readings.push(reading))
    rightful = await connectDevice(t.mqttUrl, 'TC-01', secret)
    rightful.on('close', () => {
      rightfulClosed = true
    })
  })
  afterAll(async () => {
    await rightful?.endAsync()
    await t?.stop()
  })

  /** The rightful device can still publish, and its reading reaches the pipeline. */
  async function rightfulStillWorks(marker: number) {
    await rightful.publishAsync(
      'sites/S1/devices/TC-01/telemetry',
      JSON.stringify({ ts: Date.now(), loadT: marker }),
      { qos: 1 },
    )
    await waitFor(
      () => readings.some((r) => r.channel === 'telemetry' && r.kind === 'crane' && r.data.loadT === marker),
      `reading ${marker}`,
    )
    expect(rightfulClosed).toBe(false)
  }

  it('refuses a wrong secret with CONNACK 4, and the rightful session stays', async () => {
    expect(await connackCode(t.mqttUrl, { clientId: 'TC-01', username: 'TC-01', password: 'guess' })).toBe(4)
    await rightfulStillWorks(1)
  })

  it('refuses an unknown device with CONNACK 4 and missing credentials with CONNACK 4', async () => {
    expect(await connackCode(t.mqttUrl, { clientId: 'NOPE', username: 'NOPE', password: 'x' })).toBe(4)
    expect(await connackCode(t.mqttUrl, { clientId: 'TC-01' })).toBe(4)
  })

  it('refuses a client id that is not the device id with CONNACK 5', async () => {
    expect(
      await connackCode(t.mqttUrl, { clientId: 'someone-else', username: 'TC-01', password: secret }),
    ).toBe(5)
    await rightfulStillWorks(2)
  })

  it("refuses a Last Will aimed at another device's topic with CONNACK 5", async () => {
    const code = await connackCode(t.mqttUrl, {
      clientId: 'TC-09',
      username: 'TC-09',
      password: otherSecret,
      will: {
        topic: 'sites/S1/devices/TC-01/status',
        payload: Buffer.from('{"online":false}'),
        qos: 1,
        retain: false,
      },
    })
    expect(code).toBe(5)
  })

  it.each([
    ['another device of the same site', 'sites/S1/devices/TC-01/telemetry'],
    ['another site', 'sites/S1/devices/TC-09/telemetry'],
    ['$SYS', '$SYS/broker/fake'],
    ['an alerts topic', 'sites/S2/alerts/forged'],
  ])('closes a device that publishes to %s; nothing enters the pipeline', async (_what, topic) => {
    const intruder = await connectDevice(t.mqttUrl, 'TC-09', otherSecret)
    const before = readings.length
    expect(await publishOutcome(intruder, topic, JSON.stringify({ ts: Date.now(), loadT: 666 }))).toBe(
      'closed',
    )
    await rightfulStillWorks(3)
    expect(
      readings
        .slice(before)
        .some(
          (r) =>
            r.deviceId === 'TC-09' ||
            (r.kind === 'crane' && r.channel === 'telemetry' && r.data.loadT === 666),
        ),
    ).toBe(false)
    intruder.end(true)
  })

  it('grants its own alert and command subscriptions and answers 0x80 to others', async () => {
    const device = await connectDevice(t.mqttUrl, 'TC-09', otherSecret)
    const filters = [
      'sites/S2/alerts/#',
      'sites/S2/devices/TC-09/commands/#',
      'sites/S1/alerts/#',
      '#',
      '$SYS/#',
    ]
    // mqtt.js reports a SUBACK holding 0x80 as an error that carries the SUBACK itself.
    const granted = await device.subscribeAsync(filters, { qos: 1 }).then(
      (grants) => grants.map((grant) => grant.qos),
      (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
    )
    expect(granted).toEqual([1, 1, 128, 128, 128])
    expect(device.connected).toBe(true)
    await device.endAsync()
  })

  it('closes a socket whose packet declares more than 64 KiB, before the body is sent', async () => {
    const socket = await openRawSocket(t.engine.mqttPort)
    // PUBLISH fixed header declaring 10 MiB: 0x30, remaining length varint.
    socket.write(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x05]))
    await closed(socket)
    expect(t.lines.some((line) => line.msg === 'connection closed: packet too large')).toBe(true)
    await rightfulStillWorks(4)
  })

  it('closes it too when the oversized header arrives one byte at a time', async () => {
    const tooLarge = 'siteward_mqtt_refused_total{reason="packet_too_large"}'
    const before = await metricValue(t, tooLarge)
    const socket = await openRawSocket(t.engine.mqttPort)
    for (const byte of [0x30, 0x80, 0x80, 0x80, 0x05]) {
      socket.write(Buffer.from([byte]))
      await new Promise((resolve) => setTimeout(resolve, 20)) // each byte its own read
    }
    await closed(socket)
    expect(await metricValue(t, tooLarge)).toBe(before + 1)
    await rightfulStillWorks(4)
  })

  it('refuses an authenticated publish over 64 KiB by closing the connection', async () => {
    const device = await connectDevice(t.mqttUrl, 'TC-09', otherSecret)
    const huge = JSON.stringify({ ts: Date.now(), loadT: 1, pad: 'x'.repeat(70 * 1024) })
    expect(await publishOutcome(device, 'sites/S2/devices/TC-09/telemetry', huge)).toBe('closed')
    device.end(true)
  })

  it('caps sockets that have not logged in; they time out; the rightful session never notices', async () => {
    const flood = await Promise.all(
      Array.from({ length: maxUnauthenticated + 10 }, () => openRawSocket(t.engine.mqttPort)),
    )
    const over = flood.slice(maxUnauthenticated)
    await Promise.all(over.map(closed)) // beyond the cap: closed at once
    await rightfulStillWorks(5)
    await Promise.all(flood.map(closed)) // the rest: closed by the connect timeout
    expect(
      await connackCode(t.mqttUrl, { clientId: 'TC-09', username: 'TC-09', password: otherSecret }),
    ).toBe(0)
    await rightfulStillWorks(6)
  })

  it('lets a second valid connection with the same id take the session over (MQTT semantics)', async () => {
    const first = await connectDevice(t.mqttUrl, 'TC-09', otherSecret)
    const firstClosed = new Promise<void>((resolve) => first.once('close', () => resolve()))
    const second = await connectDevice(t.mqttUrl, 'TC-09', otherSecret)
    await firstClosed
    expect(second.connected).toBe(true)
    first.end(true)
    await second.endAsync()
  })
})

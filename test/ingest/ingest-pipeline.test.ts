import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Reading } from '../../domain/reading.js'
import { SegmentLog } from '../../storage/log/segment-log.js'
import { ProjectionRepository } from '../../storage/sqlite/projection-repository.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { connectDevice, startTestEngine, type TestEngine, waitFor } from '../helpers/engine.js'
import { memoryLogger } from '../helpers/log-sink.js'
import { RawMqtt } from '../helpers/raw-mqtt.js'

const run = promisify(execFile)

describe('ingest pipeline: log → device state, dead letters, readings', () => {
  let t: TestEngine
  const secrets: Record<string, string> = {}
  const readings: Reading[] = []
  const device = (id: string) => new RegistryRepository(t.db).getDevice(id)

  beforeAll(async () => {
    t = await startTestEngine()
    for (const id of ['TC-01', 'TC-02', 'TC-03', 'TC-04']) secrets[id] = await t.addDevice('S1', id, 'crane')
    secrets['PIT-01'] = await t.addDevice('S1', 'PIT-01', 'pit')
    t.engine.readings$.subscribe((reading) => readings.push(reading))
  })
  afterAll(async () => {
    await t?.stop()
  })

  /** How many records of the device with an object at `ts` an independent reader of the log files finds. */
  const loggedOnDisk = (deviceId: string, ts: number) => {
    const reader = new SegmentLog({
      dir: join(t.dataDir, 'wal'),
      segmentBytes: 64 * 1024 * 1024,
      lingerMs: 0,
      logger: memoryLogger().logger,
    })
    reader.start()
    return reader
      .readFrom(0, 100_000)
      .records.filter(
        ({ record: r }) =>
          r.type === 'message' && r.deviceId === deviceId && r.items.some((i) => i.ts === ts),
      ).length
  }

  it("accepts a QoS 1 publish from Debian's mosquitto_pub, a third-party client", async () => {
    const ts = Date.now()
    await run('mosquitto_pub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(t.engine.mqttPort),
      '-V',
      'mqttv311',
      '-i',
      'TC-03',
      '-u',
      'TC-03',
      '-P',
      secrets['TC-03'] as string,
      '-q',
      '1',
      '-t',
      'sites/S1/devices/TC-03/telemetry',
      '-m',
      JSON.stringify({ ts, loadT: 2.5, momentPct: 70, mode: 'work' }),
    ])
    const reading = await waitFor(
      async () => readings.find((r) => r.deviceId === 'TC-03'),
      'the mosquitto_pub reading',
    )
    expect(reading).toMatchObject({
      siteId: 'S1',
      deviceId: 'TC-03',
      kind: 'crane',
      channel: 'telemetry',
      ts,
      source: 'mqtt',
      data: { loadT: 2.5, momentPct: 70, mode: 'work' },
    })
    const state = await waitFor(
      async () => (await device('TC-03'))?.lastSeenAt !== null && (await device('TC-03')),
      'TC-03 state',
    )
    expect(state.acceptedCount).toBe(1)
  })

  it('a PUBACK means the message is already in the write-ahead log on disk', async () => {
    const client = await connectDevice(t.mqttUrl, 'TC-01', secrets['TC-01'] as string)
    const ts = Date.now()
    await client.publishAsync('sites/S1/devices/TC-01/telemetry', JSON.stringify({ ts, windMps: 9.75 }), {
      qos: 1,
    })
    // An independent reader of the log files (as after a crash) finds it.
    expect(loggedOnDisk('TC-01', ts)).toBe(1)
    await client.endAsync()
  })

  it('QoS 2, taken as at least once: a PUBREC means the message is in the log on disk; a resend is a duplicate by seq', async () => {
    const ts = Date.now()
    const { client } = await RawMqtt.connect(t.engine.mqttPort, {
      clientId: 'TC-04',
      username: 'TC-04',
      password: Buffer.from(secrets['TC-04'] as string),
    })
    const publish = { cmd: 'publish', topic: 'sites/S1/devices/TC-04/telemetry', qos: 2, messageId: 7 }
    const payload = JSON.stringify({ ts, seq: 1, windMps: 4.25 })
    client.send({ ...publish, payload })
    await client.next('pubrec')
    expect(loggedOnDisk('TC-04', ts)).toBe(1)
    client.send({ ...publish, dup: true, payload }) // as if the PUBREC was lost
    await client.next('pubrec')
    client.send({ cmd: 'pubrel', messageId: 7 })
    await client.next('pubcomp')
    expect(loggedOnDisk('TC-04', ts)).toBe(1)
    const counted = await waitFor(
      async () => ((await device('TC-04'))?.duplicateCount ?? 0) > 0 && (await device('TC-04')),
      'the resend',
    )
    expect(counted).toMatchObject({ duplicateCount: 1 })
    client.destroy()
  })

  it('MQTT 3.1 (protocol level 3, older monitors): a PUBACK means the message is in the log on disk', async () => {
    const ts = Date.now()
    const client = await connectDevice(t.mqttUrl, 'TC-04', secrets['TC-04'] as string, {
      protocolVersion: 3,
      protocolId: 'MQIsdp',
    })
    await client.publishAsync('sites/S1/devices/TC-04/telemetry', JSON.stringify({ ts, windMps: 4.5 }), {
      qos: 1,
    })
    expect(loggedOnDisk('TC-04', ts)).toBe(1)
    await client.endAsync()
  })

  it('dead-letters invalid payloads with reasons and counts, logs once a minute, and valid traffic flows on', async () => {
    const bad = await connectDevice(t.mqttUrl, 'TC-01', secrets['TC-01'] as string)
    const good = await connectDevice(t.mqttUrl, 'TC-02', secrets['TC-02'] as string)
    const before = (await device('TC-01'))?.rejectedCount ?? 0
    const invalid = [
      'not json',
      '42',
      '[]',
      JSON.stringify({ ts: Date.now(), loadT: 'heavy' }),
      JSON.stringify({ loadT: 1 }),
      JSON.stringify({ ts: Date.now() + 3_600_000, loadT: 1 }),
    ]
    const base = Date.now()
    const sends: Promise<unknown>[] = []
    for (let round = 0; round < 20; round++) {
      for (const payload of invalid)
        sends.push(bad.publishAsync('sites/S1/devices/TC-01/telemetry', payload, { qos: 1 }))
      sends.push(
        good.publishAsync(
          'sites/S1/devices/TC-02/telemetry',
          JSON.stringify({ ts: base + round, seq: round, loadT: round }),
          { qos: 1 },
        ),
      )
    }
    await Promise.all(sends) // every one PUBACKed, invalid ones too
    const state = await waitFor(
      async () => ((await device('TC-01'))?.rejectedCount ?? 0) - before >= 120 && (await device('TC-01')),
      'rejections counted',
    )
    expect(state.rejectedCount - before).toBe(120)
    expect(state.lastRejectReason).toMatch(/ts: .* is more than 5 minutes in the future/)
    await waitFor(
      async () => readings.filter((r) => r.deviceId === 'TC-02').length >= 20,
      'valid readings of TC-02',
    )
    expect(readings.filter((r) => r.deviceId === 'TC-02').map((r) => (r.data as { ts: number }).ts)).toEqual(
      Array.from({ length: 20 }, (_, i) => base + i),
    )
    // Nothing TC-01 sent in this burst was valid, so none of it may reach the rules.
    expect(readings.some((r) => r.deviceId === 'TC-01' && r.receivedAt >= base)).toBe(false)

    // Every refusal is counted on the device; a burst of 20 is kept as dead letters, the rest
    // only counted (10 a minute refill: this burst is too fast for more than one).
    const letters = await new ProjectionRepository(t.db).listDeadLetters({ deviceId: 'TC-01', limit: 1_000 })
    expect(letters.length).toBeGreaterThanOrEqual(20)
    expect(letters.length).toBeLessThanOrEqual(21)
    const expectedReasons = [
      /^payload is not valid JSON/,
      /^\(root\): expected an object or an array of objects, got number$/,
      /^\(root\): empty array, expected at least one object$/,
      /^\[0\] loadT: expected number, got string$/,
      /^\[0\] ts: required: ISO-8601 date-time with offset/,
      /^\[0\] ts: .* is more than 5 minutes in the future/,
    ]
    for (const letter of letters)
      expect(
        expectedReasons.some((reason) => reason.test(letter.reason)),
        letter.reason,
      ).toBe(true)
    for (const reason of expectedReasons)
      expect(letters.filter((l) => reason.test(l.reason)).length, String(reason)).toBeGreaterThanOrEqual(3)
    const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text()
    const notStored = /siteward_dead_letters_total\{outcome="not_stored"\} (\d+)/.exec(metrics)
    expect(Number(notStored?.[1])).toBe(120 - letters.length)
    expect(letters.find((l) => l.payload === 'not json')?.topic).toBe('sites/S1/devices/TC-01/telemetry')
    const logged = t.lines.filter(
      (line) => line.msg === 'payload refused and dead-lettered' && line.deviceId === 'TC-01',
    )
    expect(logged).toHaveLength(1)
    expect(bad.connected && good.connected).toBe(true)
    await bad.endAsync()
    await good.endAsync()
  })

  it('drops a resent seq as a duplicate and counts it on the device', async () => {
    const client = await connectDevice(t.mqttUrl, 'TC-02', secrets['TC-02'] as string)
    const before = readings.filter((r) => r.deviceId === 'TC-02').length
    const ts = Date.now()
    await client.publishAsync(
      'sites/S1/devices/TC-02/telemetry',
      JSON.stringify({ ts, seq: 500, loadT: 1 }),
      { qos: 1 },
    )
    await client.publishAsync(
      'sites/S1/devices/TC-02/telemetry',
      JSON.stringify({ ts, seq: 500, loadT: 1 }),
      { qos: 1 },
    )
    await client.publishAsync(
      'sites/S1/devices/TC-02/telemetry',
      JSON.stringify([
        { ts, seq: 500, loadT: 1 },
        { ts: ts + 1, seq: 501, loadT: 2 },
      ]),
      { qos: 1 },
    )
    await waitFor(
      async () => readings.filter((r) => r.deviceId === 'TC-02').length >= before + 2,
      'two new readings',
    )
    await waitFor(async () => ((await device('TC-02'))?.duplicateCount ?? 0) >= 2, 'duplicates counted')
    expect(readings.filter((r) => r.deviceId === 'TC-02').length).toBe(before + 2)
    expect((await device('TC-02'))?.duplicateCount).toBe(2)
    await client.endAsync()
  })

  it('online and lastSeenAt follow telemetry, status messages, disconnects and the Last Will', async () => {
    const will = {
      topic: 'sites/S1/devices/TC-03/status',
      payload: Buffer.from('{"online":false}'),
      qos: 1 as const,
      retain: false,
    }
    const client = await connectDevice(t.mqttUrl, 'TC-03', secrets['TC-03'] as string, { will })
    const sentAt = Date.now()
    await client.publishAsync('sites/S1/devices/TC-03/telemetry', JSON.stringify({ ts: sentAt, loadT: 1 }), {
      qos: 1,
    })
    await waitFor(
      async () =>
        (await device('TC-03'))?.online === true &&
        Date.parse((await device('TC-03'))?.lastSeenAt ?? '') >= sentAt,
      'online after telemetry',
    )
    await client.publishAsync(
      'sites/S1/devices/TC-03/status',
      JSON.stringify({ ts: Date.now(), online: false }),
      { qos: 1 },
    )
    await waitFor(async () => (await device('TC-03'))?.online === false, 'offline after status online:false')
    await client.publishAsync(
      'sites/S1/devices/TC-03/status',
      JSON.stringify({ ts: Date.now(), online: true, fw: '1.2.3' }),
      { qos: 1 },
    )
    await waitFor(async () => (await device('TC-03'))?.online === true, 'online after status')
    client.stream.destroy() // connection lost: the Last Will fires
    await waitFor(
      async () => (await device('TC-03'))?.online === false,
      'offline after the connection was lost',
    )
    expect(t.lines.some((line) => line.level >= 50)).toBe(false)
  })

  it('keeps pit baselines and seen seqs across a restart', async () => {
    const point = (value: number) => ({ pointCode: 'ZQS-01', item: 'wall_top_horizontal', value })
    let client = await connectDevice(t.mqttUrl, 'PIT-01', secrets['PIT-01'] as string)
    const t1 = Date.now() - 86_400_000
    await client.publishAsync(
      'sites/S1/devices/PIT-01/telemetry',
      JSON.stringify({ ts: t1, seq: 1, points: [point(100)] }),
      { qos: 1 },
    )
    await client.endAsync()
    t = await t.restart()
    t.engine.readings$.subscribe((reading) => readings.push(reading))
    client = await connectDevice(t.mqttUrl, 'PIT-01', secrets['PIT-01'] as string)
    await client.publishAsync(
      'sites/S1/devices/PIT-01/telemetry',
      JSON.stringify({ ts: t1, seq: 1, points: [point(100)] }),
      { qos: 1 },
    ) // a resend
    await client.publishAsync(
      'sites/S1/devices/PIT-01/telemetry',
      JSON.stringify({ ts: t1 + 43_200_000, seq: 2, points: [point(104)] }),
      { qos: 1 },
    )
    const second = await waitFor(
      async () => readings.find((r) => r.deviceId === 'PIT-01' && r.ts === t1 + 43_200_000),
      'the second pit reading',
    )
    // The baseline and the history survived the restart: 4 mm in 12 h, over a span of at least a day.
    expect(second.kind === 'pit' && second.channel === 'telemetry' && second.data.points[0]).toMatchObject({
      cumulative: 4,
      ratePerDay: 4,
      previousValue: 100,
      referenceValue: 100,
    })
    await waitFor(
      async () => (await device('PIT-01'))?.duplicateCount === 1,
      'the resend counted as a duplicate',
    )
    await client.endAsync()
  })
})

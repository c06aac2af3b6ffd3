// The crash harness: `siteward serve` as a child process under QoS 1 load from many devices,
// killed with SIGKILL again and again and restarted on the same ports, while the devices reconnect
// and resend what was not acknowledged and an officer acknowledges alerts through the API.
// Afterwards it checks what RELIABILITY.md reports: every acknowledged reading is in InfluxDB and
// counted exactly once, and alerts, timelines and escalations are consistent.
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { Provisioning } from '../domain/provisioning.js'
import { InfluxV1Client } from '../storage/influx/influx-client.js'
import { AlertRepository } from '../storage/sqlite/alert-repository.js'
import { openDatabase } from '../storage/sqlite/database.js'
import { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import { freePort, startInfluxd } from '../test/helpers/influxd.js'
import { spawnServe, stopServe } from '../test/helpers/serve.js'

export interface CrashResult {
  readonly messages: number
  readonly devices: number
  readonly kills: number
  readonly acked: number
  /** Publishes the client failed ("Connection closed") and the device sent again. */
  readonly resent: number
  /** Devices that sent a breach (an overload, 3 low-voltage readings) and have no alert for it. */
  readonly devicesWithBreachButNoAlert: number
  /** Acknowledged readings missing from InfluxDB at the end (target 0). */
  readonly lostInInflux: number
  /** Devices whose accepted counter differs from what they sent (double counting or loss). */
  readonly miscountedDevices: number
  readonly alerts: number
  readonly acknowledgements: number
  /** Acknowledgements answered 200 that the store no longer shows (target 0). */
  readonly lostAcknowledgements: number
  readonly duplicateOpenAlerts: number
  readonly brokenTimelines: number
  readonly inconsistentEscalations: number
  readonly maxRestartMs: number
  readonly durationMs: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A device's send: QoS 1, and sent again, unchanged, until a PUBACK comes. mqtt.js resends what
 * was in flight when a connection drops, but fails with "Connection closed" the messages it had
 * queued while replaying its store when the connection drops again during that replay (a kill
 * right after a restart); a real device retries those, and so does this one.
 */
async function publishUntilAcked(
  client: MqttClient,
  topic: string,
  payload: string,
  onRefused: () => void,
): Promise<void> {
  for (;;) {
    try {
      await client.publishAsync(topic, payload, { qos: 1 })
      return
    } catch {
      onRefused()
      await sleep(100)
    }
  }
}

export async function crashHarness(options: {
  messages: number
  kills: number
  devices?: number
  say?: (text: string) => void
}): Promise<CrashResult> {
  const say = options.say ?? (() => undefined)
  const deviceCount = options.devices ?? 20
  const perDevice = Math.ceil(options.messages / deviceCount)
  const started = Date.now()
  const dataDir = mkdtempSync(join(tmpdir(), 'siteward-crash-'))
  const db = openDatabase(join(dataDir, 'siteward.db'))
  const provisioning = new Provisioning(new RegistryRepository(db))
  await provisioning.addSite({ id: 'S1', name: 'Crash site', region: '330106' })
  const devices = await Promise.all(
    Array.from({ length: deviceCount }, async (_, i) => {
      const id = `TC-${String(i + 1).padStart(3, '0')}`
      return { id, secret: (await provisioning.addDevice({ siteId: 'S1', id, kind: 'crane' })).secret }
    }),
  )
  const officer = (await provisioning.createToken({ role: 'officer', name: 'officer', sites: ['S1'] })).token
  const admin = (await provisioning.createToken({ role: 'admin', name: 'harness' })).token
  db.close()

  const influxd = await startInfluxd()
  const mqttPort = await freePort()
  const httpPort = await freePort()
  const env = {
    SITEWARD_DATA_DIR: dataDir,
    SITEWARD_MQTT_PORT: String(mqttPort),
    SITEWARD_HTTP_PORT: String(httpPort),
    SITEWARD_INFLUX_URL: influxd.url,
    SITEWARD_INFLUX_DB: 'crash',
    // Short deadlines, so escalations happen (and must not repeat) across the kills.
    SITEWARD_ACK_DEADLINES: 'critical=2s,alarm=3s,warning=4s',
    SITEWARD_RESOLVE_DEADLINES: 'critical=6s,alarm=8s,warning=10s',
  }
  let engine: ChildProcess = (await spawnServe(env)).child
  const api = `http://127.0.0.1:${httpPort}`

  // Devices: QoS 1, ten in flight each; mqtt.js keeps unacknowledged messages and resends them
  // after it reconnects. A message counts as acknowledged when its PUBACK arrives.
  const base = Date.now() - 30 * 60_000
  let acked = 0
  let resent = 0
  const clients: MqttClient[] = []
  const breachAt = (i: number) => i % 97 === 50
  // Supply voltage low needs 3 readings in a row (seeds/rules/crane.json): kills fall between them.
  const lowPowerAt = (i: number) => i % 211 >= 100 && i % 211 <= 102
  const publishers = devices.map(async (device) => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
      clientId: device.id,
      username: device.id,
      password: device.secret,
      protocolVersion: 4,
      reconnectPeriod: 100,
      connectTimeout: 5_000,
    })
    clients.push(client)
    const inFlight = new Set<Promise<unknown>>()
    for (let i = 0; i < perDevice; i++) {
      const payload = {
        ts: base + i * 10,
        seq: i,
        loadT: i % 1000,
        loadPct: breachAt(i) ? 105 : 40,
        powerV: lowPowerAt(i) ? 300 : 380,
      }
      const sent = publishUntilAcked(
        client,
        `sites/S1/devices/${device.id}/telemetry`,
        JSON.stringify(payload),
        () => {
          resent += 1
        },
      ).then(() => {
        acked += 1
      })
      inFlight.add(sent)
      void sent.finally(() => inFlight.delete(sent))
      if (inFlight.size >= 10) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
  })

  // The officer: acknowledges whatever is open, every 300 ms; answers lost to a kill do not count.
  const acknowledged = new Set<string>()
  let running = true
  const officerLoop = (async () => {
    while (running) {
      await sleep(300)
      try {
        const list = (await (
          await fetch(`${api}/api/alerts?state=open&limit=100`, {
            headers: { authorization: `Bearer ${officer}` },
          })
        ).json()) as { items: { id: string }[] }
        for (const alert of list.items) {
          const answer = await fetch(`${api}/api/alerts/${alert.id}/acknowledge`, {
            method: 'POST',
            headers: { authorization: `Bearer ${officer}`, 'content-type': 'application/json' },
            body: JSON.stringify({ note: 'seen' }),
          })
          if (answer.status === 200) acknowledged.add(alert.id)
        }
      } catch {
        // the engine is down for a moment: try again
      }
    }
  })()

  // The killer: a SIGKILL each time another share of the load has been acknowledged.
  let kills = 0
  let maxRestartMs = 0
  const total = perDevice * deviceCount
  while (kills < options.kills) {
    const threshold = Math.floor((total * (kills + 1)) / (options.kills + 1))
    while (acked < threshold) await sleep(5)
    await sleep(Math.random() * 200) // not always at the same phase of a batch
    engine.kill('SIGKILL')
    await new Promise((resolve) => engine.once('exit', resolve))
    kills += 1
    const restartAt = Date.now()
    engine = (await spawnServe(env)).child
    maxRestartMs = Math.max(maxRestartMs, Date.now() - restartAt)
    say(
      `kill ${kills}/${options.kills} at ${acked}/${total} acknowledged; back in ${Date.now() - restartAt} ms`,
    )
  }
  await Promise.all(publishers)
  say(`all ${total} messages acknowledged after ${kills} kills; checking`)
  await sleep(2_000) // a last round of acknowledgements and escalations
  running = false
  await officerLoop
  for (const client of clients) await client.endAsync()

  // InfluxDB: one point per device timestamp; a loss shows as a missing timestamp.
  const influx = new InfluxV1Client({ url: influxd.url, database: 'crash', credentials: { kind: 'none' } })
  const countInInflux = async () => {
    const series = await influx.query('SELECT count(loadT) FROM crane GROUP BY device').catch(() => [])
    return series.reduce((sum, s) => sum + Number(s.values[0]?.[1] ?? 0), 0)
  }
  const deadline = Date.now() + 120_000
  while ((await countInInflux()) < total && Date.now() < deadline) await sleep(500)
  const lostInInflux = total - (await countInInflux())

  let miscountedDevices = 0
  for (const device of devices) {
    const answer = (await (
      await fetch(`${api}/api/devices/${device.id}`, { headers: { authorization: `Bearer ${admin}` } })
    ).json()) as { acceptedCount: number }
    if (answer.acceptedCount !== perDevice) miscountedDevices += 1
  }
  await stopServe(engine)
  await influxd.stop()

  // The alert store, read after the last clean stop.
  const store = openDatabase(join(dataDir, 'siteward.db'))
  const alerts = new AlertRepository(store)
  const rows = store.prepare('SELECT id, device_id, state, escalation_level FROM alerts').all() as {
    id: string
    device_id: string
    state: string
    escalation_level: number
  }[]
  const duplicateOpenAlerts = (
    store
      .prepare(
        "SELECT count(*) AS n FROM (SELECT 1 FROM alerts WHERE state <> 'closed' GROUP BY site_id, device_id, rule_id, subject HAVING count(*) > 1)",
      )
      .get() as { n: number }
  ).n
  const eventsOf = store.prepare('SELECT type FROM alert_events WHERE alert_id = ?')
  let lostAcknowledgements = 0
  let brokenTimelines = 0
  let inconsistentEscalations = 0
  for (const row of rows) {
    const types = (eventsOf.all(row.id) as { type: string }[]).map((e) => e.type)
    if (acknowledged.has(row.id) && (row.state === 'open' || !types.includes('acknowledged')))
      lostAcknowledgements += 1
    if (!(await alerts.verify(row.id)).valid) brokenTimelines += 1
    const escalations = types.filter((t) => t === 'escalated').length
    if (escalations !== row.escalation_level || row.escalation_level > 3) inconsistentEscalations += 1
  }
  const alertedBy = (ruleId: string) =>
    new Set(
      (
        store.prepare('SELECT DISTINCT device_id FROM alerts WHERE rule_id = ?').all(ruleId) as {
          device_id: string
        }[]
      ).map((r) => r.device_id),
    )
  const loadAlerts = alertedBy('crane.load')
  const powerAlerts = alertedBy('crane.power_low')
  store.close()
  rmSync(dataDir, { recursive: true, force: true })
  return {
    messages: total,
    devices: deviceCount,
    kills,
    acked,
    resent,
    lostInInflux,
    miscountedDevices,
    alerts: rows.length,
    acknowledgements: acknowledged.size,
    lostAcknowledgements,
    duplicateOpenAlerts,
    brokenTimelines,
    inconsistentEscalations,
    devicesWithBreachButNoAlert: devices.filter(
      (d) => (perDevice > 50 && !loadAlerts.has(d.id)) || (perDevice > 102 && !powerAlerts.has(d.id)),
    ).length,
    maxRestartMs,
    durationMs: Date.now() - started,
  }
}

// A load publisher in its own process: many device connections, each keeping a window of QoS 1
// publishes in flight. Prints one JSON line with what it sent and how long the acks took.
import mqtt from 'mqtt'

interface Options {
  url: string
  devices: { id: string; siteId: string; secret: string }[]
  total: number
  window: number
  qos: 0 | 1
  /** Paced mode: this many messages per second for `durationMs`, spread over the devices. */
  ratePerSecond?: number
  durationMs?: number
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options

async function main() {
  const clients = await Promise.all(
    options.devices.map((device) =>
      mqtt.connectAsync(options.url, {
        clientId: device.id,
        username: device.id,
        password: device.secret,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 30_000,
      }),
    ),
  )
  if (options.ratePerSecond !== undefined) {
    await paced(clients, options.ratePerSecond, options.durationMs ?? 10_000)
    await Promise.all(clients.map((client) => client.endAsync()))
    return
  }
  const perDevice = Math.ceil(options.total / clients.length)
  const startedAt = performance.now()
  let acked = 0
  let errors = 0
  await Promise.all(
    clients.map(async (client, index) => {
      const device = options.devices[index]
      if (device === undefined) return
      const topic = `sites/${device.siteId}/devices/${device.id}/telemetry`
      const baseTs = Date.now() - 60_000
      let next = 0
      const lane = async () => {
        while (next < perDevice) {
          const seq = next++
          const payload = JSON.stringify({
            ts: baseTs + seq,
            seq,
            loadT: 2 + (seq % 50) / 10,
            momentPct: 60 + (seq % 30),
            radiusM: 25.5,
            windMps: 6.2,
            mode: 'work',
          })
          try {
            await client.publishAsync(topic, payload, { qos: options.qos })
            acked++
          } catch {
            errors++
          }
        }
      }
      await Promise.all(Array.from({ length: options.window }, lane))
    }),
  )
  const elapsedMs = performance.now() - startedAt
  await Promise.all(clients.map((client) => client.endAsync()))
  process.stdout.write(`${JSON.stringify({ sent: perDevice * clients.length, acked, errors, elapsedMs })}\n`)
}

/** Steady background telemetry: every 10 ms, the share of the rate due by then, round robin. */
async function paced(clients: mqtt.MqttClient[], ratePerSecond: number, durationMs: number) {
  const startedAt = performance.now()
  let sent = 0
  let acked = 0
  let seq = 0
  while (performance.now() - startedAt < durationMs) {
    const due = Math.floor(((performance.now() - startedAt) / 1000) * ratePerSecond)
    while (sent < due) {
      const index = sent % clients.length
      const client = clients[index] as mqtt.MqttClient
      const device = options.devices[index] as Options['devices'][number]
      const payload = JSON.stringify({
        ts: Date.now(),
        seq: seq++,
        loadT: 2.1,
        momentPct: 55,
        windMps: 4.2,
        mode: 'work',
      })
      client.publish(
        `sites/${device.siteId}/devices/${device.id}/telemetry`,
        payload,
        { qos: 1 },
        (error) => {
          if (!error) acked++
        },
      )
      sent++
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  process.stdout.write(
    `${JSON.stringify({ sent, acked, errors: 0, elapsedMs: performance.now() - startedAt })}\n`,
  )
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})

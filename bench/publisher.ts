// A load publisher in its own process: many device connections, each keeping a window of QoS 1
// publishes in flight. Prints one JSON line with what it sent and how long the acks took.
import mqtt from 'mqtt'

interface Options {
  url: string
  devices: { id: string; siteId: string; secret: string }[]
  total: number
  window: number
  qos: 0 | 1
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

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})

// A load publisher in its own process, the same for every broker under test. Modes:
// - burst: every connection keeps `window` publishes in flight until `total` are sent. At QoS 0
//   each connection ends with one QoS 1 publish: brokers handle a connection's packets in order,
//   so its PUBACK means the broker has taken in everything before it.
// - paced: `ratePerSecond` spread round robin over the connections for `durationMs`.
// - idle: publish nothing until stdin closes.
// Prints {"connected":n} once every connection is up, then waits for a line on stdin before it
// publishes: the bench starts every process's load at the same moment, once all are connected.
// Options come as a JSON file (argv[2]). Prints one JSON line with what it sent, what was acknowledged and how long it took.
import { readFileSync } from 'node:fs'
import mqtt from 'mqtt'

export interface BenchDevice {
  readonly id: string
  readonly siteId: string
  readonly secret: string
}

export interface PublisherOptions {
  readonly url: string
  readonly devices: readonly BenchDevice[]
  readonly mode: 'burst' | 'paced' | 'idle'
  readonly qos: 0 | 1
  readonly total?: number
  readonly window?: number
  readonly ratePerSecond?: number
  readonly durationMs?: number
}

export interface PublisherResult {
  readonly sent: number
  readonly acked: number
  readonly errors: number
  readonly elapsedMs: number
}

/** A crane reading of the contract's shape (CONTRACT §2.2), different on every seq. */
export const craneFields = (ts: number, seq: number) => ({
  ts,
  seq,
  loadT: 2 + (seq % 50) / 10,
  momentPct: 60 + (seq % 30),
  radiusM: 25.5,
  windMps: 6.2,
  mode: 'work' as const,
})

export const craneReading = (ts: number, seq: number): string => JSON.stringify(craneFields(ts, seq))

const topicOf = (device: BenchDevice) => `sites/${device.siteId}/devices/${device.id}/telemetry`
const connectBatch = 250

async function connectAll(options: PublisherOptions): Promise<mqtt.MqttClient[]> {
  const clients: mqtt.MqttClient[] = []
  for (let i = 0; i < options.devices.length; i += connectBatch) {
    const batch = options.devices.slice(i, i + connectBatch)
    clients.push(
      ...(await Promise.all(
        batch.map((device) =>
          mqtt.connectAsync(options.url, {
            clientId: device.id,
            username: device.id,
            password: device.secret,
            protocolVersion: 4,
            reconnectPeriod: 0,
            connectTimeout: 60_000,
            keepalive: 120,
          }),
        ),
      )),
    )
  }
  return clients
}

async function burst(options: PublisherOptions, clients: mqtt.MqttClient[]): Promise<PublisherResult> {
  const perDevice = Math.ceil((options.total ?? 0) / clients.length)
  const startedAt = performance.now()
  let acked = 0
  let errors = 0
  await Promise.all(
    clients.map(async (client, index) => {
      const device = options.devices[index] as BenchDevice
      const topic = topicOf(device)
      const baseTs = Date.now() - 60_000
      let next = 0
      const lane = async () => {
        while (next < perDevice) {
          const seq = next++
          try {
            await client.publishAsync(topic, craneReading(baseTs + seq, seq), { qos: options.qos })
            if (options.qos === 1) acked++
          } catch {
            errors++
          }
        }
      }
      await Promise.all(Array.from({ length: options.window ?? 10 }, lane))
      if (options.qos === 0) {
        await client.publishAsync(topic, craneReading(baseTs + perDevice, perDevice), { qos: 1 })
        acked++
      }
    }),
  )
  const sent = perDevice * clients.length + (options.qos === 0 ? clients.length : 0)
  return { sent, acked, errors, elapsedMs: performance.now() - startedAt }
}

/** Steady telemetry: every 10 ms, the share of the rate due by then, round robin. */
async function paced(options: PublisherOptions, clients: mqtt.MqttClient[]): Promise<PublisherResult> {
  const rate = options.ratePerSecond ?? 1
  const durationMs = options.durationMs ?? 10_000
  const startedAt = performance.now()
  let sent = 0
  let acked = 0
  let errors = 0
  while (performance.now() - startedAt < durationMs) {
    const due = Math.floor(((performance.now() - startedAt) / 1000) * rate)
    while (sent < due) {
      const index = sent % clients.length
      const client = clients[index] as mqtt.MqttClient
      const device = options.devices[index] as BenchDevice
      const seq = Math.floor(sent / clients.length)
      client.publish(topicOf(device), craneReading(Date.now(), seq), { qos: options.qos }, (error) => {
        if (error) errors++
        else acked++
      })
      sent++
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  // Give the last acknowledgements a moment to arrive.
  const settleUntil = performance.now() + 5_000
  while (options.qos === 1 && acked + errors < sent && performance.now() < settleUntil)
    await new Promise((resolve) => setTimeout(resolve, 50))
  return { sent, acked, errors, elapsedMs: performance.now() - startedAt }
}

/** The first line on stdin (or its end): the bench says go once every process is connected. */
function goSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.on('data', (chunk: Buffer) => {
      if (chunk.includes('\n')) resolve()
    })
    process.stdin.once('end', resolve)
    process.stdin.resume()
  })
}

async function idle(): Promise<PublisherResult> {
  process.stdin.resume()
  await new Promise((resolve) => process.stdin.once('end', resolve))
  return { sent: 0, acked: 0, errors: 0, elapsedMs: 0 }
}

async function main() {
  const options = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as PublisherOptions
  const clients = await connectAll(options)
  process.stdout.write(`${JSON.stringify({ connected: clients.length })}\n`)
  if (options.mode !== 'idle') await goSignal()
  const result =
    options.mode === 'idle'
      ? await idle()
      : options.mode === 'paced'
        ? await paced(options, clients)
        : await burst(options, clients)
  await Promise.all(clients.map((client) => client.endAsync(true)))
  process.stdout.write(`${JSON.stringify(result)}\n`)
  process.exit(0)
}

if (process.argv[1]?.endsWith('publisher.ts')) {
  main().catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}

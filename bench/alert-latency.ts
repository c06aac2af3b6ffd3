// Alert latency: from the MQTT publish of a breaching crane reading to its event on the SSE
// stream, while the target is under load. A probe crane alternates a breach (moment 120 %) and
// a return to normal (50 %) every 100 ms, so every publish makes one alert event.
import mqtt from 'mqtt'
import { openStream } from '../test/helpers/sse.js'
import { sleep } from './proc.js'
import type { BenchTarget } from './targets/index.js'

export interface LatencyProbe {
  /** Breaches and returns to normal published. */
  readonly probes: number
  /** Milliseconds from publish to SSE event, ascending; fewer than `probes` if events were late. */
  readonly latencies: number[]
}

export interface AlertProbe {
  /** Publishes for `durationMs`, then closes the probe's connection. */
  run(durationMs: number): Promise<LatencyProbe>
}

/**
 * Logs the probe crane in before the load starts: at province load a login made during the
 * window waited behind the socket backlog longer than MQTT.js's 30 s CONNACK timeout, and the
 * timeout's unhandled error ended the whole bench.
 */
export async function connectAlertProbe(target: BenchTarget): Promise<AlertProbe> {
  const probe = target.probe
  if (probe === undefined) throw new Error(`${target.name} raises no alerts to probe`)
  const client = await mqtt.connectAsync(target.url, {
    clientId: probe.device.id,
    username: probe.device.id,
    password: probe.device.secret,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 120_000,
    keepalive: 120,
  })
  // A connection lost under load loses probes; they show as missing events, not as a crash.
  client.on('error', () => {})
  return { run: (durationMs) => runProbe(client, probe, durationMs) }
}

async function runProbe(
  client: mqtt.MqttClient,
  probe: NonNullable<BenchTarget['probe']>,
  durationMs: number,
): Promise<LatencyProbe> {
  const stream = openStream<{ event: { data: { ts?: string } }; alert: { deviceId: string } }>(
    `http://127.0.0.1:${probe.httpPort}/api/alerts/stream`,
    probe.token,
  )
  const sentAt = new Map<string, number>()
  try {
    // The first breach must not be raised before the stream listens: under load the stream's
    // connection took longer than an alert, and one probe of 180 went unseen (issue 14).
    await stream.opened
    const until = performance.now() + durationMs
    for (let i = 0; performance.now() < until; i++) {
      const ts = Date.now()
      sentAt.set(new Date(ts).toISOString(), performance.now())
      client.publish(
        `sites/${probe.device.siteId}/devices/${probe.device.id}/telemetry`,
        JSON.stringify({ ts, momentPct: i % 2 === 0 ? 120 : 50, mode: 'work' }),
        { qos: 1 },
      )
      await sleep(100)
    }
    await sleep(2_000) // the last events
  } finally {
    stream.close()
    await client.endAsync()
  }
  const latencies = stream.messages.flatMap((message) => {
    const sent =
      message.data.alert.deviceId === probe.device.id
        ? sentAt.get(message.data.event.data.ts ?? '')
        : undefined
    return sent === undefined ? [] : [message.arrivedAt - sent]
  })
  return { probes: sentAt.size, latencies: latencies.sort((a, b) => a - b) }
}

// Alert latency (issue 3): from the MQTT publish of a breaching crane reading to its event on
// the SSE stream, while background telemetry runs at a steady rate. A probe crane alternates
// a breach (moment 120 %) and a return to normal (50 %), so every publish makes one alert event.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { Provisioning } from '../src/domain/provisioning.js'
import { openDatabase } from '../src/storage/sqlite/database.js'
import { RegistryRepository } from '../src/storage/sqlite/registry-repository.js'
import { spawnServe, stopServe } from '../test/helpers/serve.js'
import { openStream } from '../test/helpers/sse.js'

export interface LatencyResult {
  readonly ratePerSecond: number
  readonly backgroundAcked: number
  readonly samples: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN

export async function benchAlertLatency(
  influxUrl: string,
  rates: readonly number[],
  say: (text: string) => void,
): Promise<LatencyResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'siteward-latency-'))
  const db = openDatabase(join(dataDir, 'siteward.db'))
  const provisioning = new Provisioning(new RegistryRepository(db))
  provisioning.addSite({ id: 'BENCH', name: 'Latency benchmark', region: '330106' })
  say('latency: provisioning 100 background devices and a probe…')
  const background = Array.from({ length: 100 }, (_, i) => {
    const id = `BG-${String(i).padStart(3, '0')}`
    return {
      id,
      siteId: 'BENCH',
      secret: provisioning.addDevice({ siteId: 'BENCH', id, kind: 'crane' }).secret,
    }
  })
  const probeSecret = provisioning.addDevice({ siteId: 'BENCH', id: 'PROBE-01', kind: 'crane' }).secret
  const token = provisioning.createToken({ role: 'admin', name: 'bench' }).token
  db.close()
  const { child: server, ...ready } = await spawnServe({
    SITEWARD_DATA_DIR: dataDir,
    SITEWARD_INFLUX_URL: influxUrl,
    SITEWARD_INFLUX_DB: 'latency',
  })
  const url = `mqtt://127.0.0.1:${ready.mqttPort}`
  const probe = await mqtt.connectAsync(url, {
    clientId: 'PROBE-01',
    username: 'PROBE-01',
    password: probeSecret,
    protocolVersion: 4,
    reconnectPeriod: 0,
  })
  const results: LatencyResult[] = []
  try {
    for (const rate of rates) {
      say(`latency: background telemetry at ${rate} messages/s for 15 s, probing every 100 ms…`)
      const stream = openStream<{
        event: { type: string; data: { ts?: string } }
        alert: { deviceId: string }
      }>(`http://127.0.0.1:${ready.httpPort}/api/alerts/stream`, token)
      const publisher = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'bench/publisher.ts',
          JSON.stringify({
            url,
            devices: background,
            total: 0,
            window: 1,
            qos: 1,
            ratePerSecond: rate,
            durationMs: 15_000,
          }),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      )
      let publisherOutput = ''
      publisher.stdout.on('data', (chunk: Buffer) => {
        publisherOutput += chunk.toString()
      })
      const finished = new Promise((resolve) => publisher.once('exit', resolve))
      await new Promise((resolve) => setTimeout(resolve, 3_000)) // connections up, load steady
      const sentAt = new Map<string, number>()
      const until = performance.now() + 10_000
      for (let i = 0; performance.now() < until; i++) {
        const ts = Date.now()
        sentAt.set(new Date(ts).toISOString(), performance.now())
        probe.publish(
          'sites/BENCH/devices/PROBE-01/telemetry',
          JSON.stringify({ ts, momentPct: i % 2 === 0 ? 120 : 50, mode: 'work' }),
          { qos: 1 },
        )
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      await finished
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      stream.close()
      const latencies = stream.messages.flatMap((message) => {
        const sent =
          message.data.alert.deviceId === 'PROBE-01'
            ? sentAt.get(message.data.event.data.ts ?? '')
            : undefined
        return sent === undefined ? [] : [message.arrivedAt - sent]
      })
      latencies.sort((a, b) => a - b)
      const load = JSON.parse(publisherOutput || '{"acked":0}') as { acked: number }
      const result = {
        ratePerSecond: rate,
        backgroundAcked: load.acked,
        samples: latencies.length,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        maxMs: latencies.at(-1) ?? Number.NaN,
      }
      say(
        `latency at ${rate}/s: ${result.samples} samples, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms`,
      )
      results.push(result)
    }
  } finally {
    await probe.endAsync()
    await stopServe(server)
    rmSync(dataDir, { recursive: true, force: true })
  }
  return results
}

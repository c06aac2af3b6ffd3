import mqtt, { type MqttClient } from 'mqtt'
import { badPayload } from './bad-payloads.js'
import { CraneModel } from './crane-model.js'
import { PitModel } from './pit-model.js'
import { seededRandom } from './random.js'
import type { Scenario } from './scenarios.js'

export interface SimulatedDevice {
  readonly id: string
  readonly siteId: string
  readonly kind: 'crane' | 'pit'
  readonly secret: string
}

export interface SimulationOptions {
  readonly mqttUrl: string
  readonly devices: readonly SimulatedDevice[]
  readonly scenario: Scenario
  readonly durationMs: number
  readonly craneIntervalMs: number
  readonly pitIntervalMs: number
  readonly seed: number
  /** Called about once a second and at the end. */
  readonly onProgress?: (progress: SimulationProgress) => void
  /** Ends the run early (Ctrl-C in the demo). */
  readonly signal?: AbortSignal
  /**
   * Compresses the scenario's own timings (when silence or the outage begins, how long the outage
   * lasts, how often connections drop) by this factor, for demos and tests. Default 1.
   */
  readonly timeScale?: number
}

export interface SimulationProgress {
  sent: number
  acked: number
  errors: number
  buffered: number
  /** Connections re-established after a drop (reconnect-storm). */
  reconnects: number
  elapsedMs: number
}

const topic = (device: SimulatedDevice, channel: string) =>
  `sites/${device.siteId}/devices/${device.id}/${channel}`
/** A backfill array stays well under the 64 KiB payload limit (CONTRACT §2.1). */
const backfillChunk = 200
const heartbeatEveryTicks = 60

/**
 * Runs the devices against a broker over MQTT only (ARCHITECTURE.md: simulators talk to the
 * engine like any device): QoS 1, a Last Will on the status topic, heartbeats, and the
 * scenario's knobs (silence, an outage with backfill, bad payloads, reconnect storms).
 */
export async function simulate(options: SimulationOptions): Promise<SimulationProgress> {
  const progress: SimulationProgress = {
    sent: 0,
    acked: 0,
    errors: 0,
    buffered: 0,
    reconnects: 0,
    elapsedMs: 0,
  }
  const started = Date.now()
  const clients: MqttClient[] = []
  const timers: NodeJS.Timeout[] = []
  const pending = new Set<Promise<unknown>>()
  const publish = (client: MqttClient, to: string, payload: string) => {
    progress.sent += 1
    const sent = client.publishAsync(to, payload, { qos: 1 }).then(
      () => {
        progress.acked += 1
      },
      () => {
        progress.errors += 1
      },
    )
    pending.add(sent)
    void sent.finally(() => pending.delete(sent))
  }

  const { scenario } = options
  const scale = options.timeScale ?? 1
  const outageStart = 10_000 / scale
  const outageMs = (scenario.outageSeconds * 1_000) / scale
  for (const [index, device] of options.devices.entries()) {
    const random = seededRandom(options.seed * 1_000 + index)
    const client = await mqtt.connectAsync(options.mqttUrl, {
      clientId: device.id,
      username: device.id,
      password: device.secret,
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 1_000,
      will: {
        topic: topic(device, 'status'),
        payload: Buffer.from(JSON.stringify({ ts: Date.now(), online: false })),
        qos: 1,
        retain: false,
      },
    })
    clients.push(client)
    client.on('connect', () => {
      progress.reconnects += 1 // the first connect happened before this listener
    })
    const crane = device.kind === 'crane' ? new CraneModel(device.id, scenario, random) : null
    const pit = device.kind === 'pit' ? new PitModel(scenario, random) : null
    const buffer: unknown[] = []
    let tick = 0
    const interval = crane === null ? options.pitIntervalMs : options.craneIntervalMs
    const step = () => {
      const now = Date.now()
      const elapsed = now - started
      tick += 1
      if (scenario.silence && index === 0 && elapsed > outageStart) return // connected, but mute
      const reading = crane !== null ? crane.next(now) : (pit as PitModel).next(now)
      const offline = scenario.outageSeconds > 0 && elapsed > outageStart && elapsed < outageStart + outageMs
      if (offline) {
        // The device has no network: it keeps its readings and sends them when it is back.
        buffer.push('telemetry' in reading ? reading.telemetry : reading)
        progress.buffered += 1
        return
      }
      while (buffer.length > 0) {
        const chunk = buffer.splice(0, backfillChunk)
        progress.buffered -= chunk.length
        publish(client, topic(device, 'telemetry'), JSON.stringify(chunk))
      }
      if (scenario.badShare > 0 && random() < scenario.badShare) {
        publish(client, topic(device, 'telemetry'), badPayload(tick, now))
        return
      }
      if ('telemetry' in reading) {
        publish(client, topic(device, 'telemetry'), JSON.stringify(reading.telemetry))
        if (reading.cycle !== undefined)
          publish(client, topic(device, 'cycle'), JSON.stringify(reading.cycle))
      } else {
        publish(client, topic(device, 'telemetry'), JSON.stringify(reading))
      }
      if (tick % heartbeatEveryTicks === 1)
        publish(
          client,
          topic(device, 'status'),
          JSON.stringify({ ts: now, online: true, fw: 'sim-1.0', signalCsq: 24 }),
        )
    }
    timers.push(setInterval(step, interval))
  }
  if (scenario.reconnectEverySeconds > 0) {
    // Every connection drops at once (a site's uplink flaps); MQTT.js reconnects and resends.
    timers.push(
      setInterval(
        () => {
          for (const client of clients) client.stream.destroy()
        },
        (scenario.reconnectEverySeconds * 1_000) / scale,
      ),
    )
  }
  const reporter = setInterval(() => {
    progress.elapsedMs = Date.now() - started
    options.onProgress?.(progress)
  }, 1_000)
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, options.durationMs)
    options.signal?.addEventListener('abort', () => {
      clearTimeout(timer)
      resolve()
    })
  })
  for (const timer of timers) clearInterval(timer)
  clearInterval(reporter)
  // Let what is in flight be acknowledged (bounded), then say goodbye properly (no Will).
  await Promise.race([Promise.all(pending), new Promise((resolve) => setTimeout(resolve, 10_000))])
  await Promise.all(clients.map((client) => client.endAsync()))
  progress.elapsedMs = Date.now() - started
  options.onProgress?.(progress)
  return progress
}

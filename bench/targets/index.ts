// The five systems the benchmark drives with the same publisher and payloads (issue 6).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Provisioning } from '../../domain/provisioning.js'
import { openDatabase } from '../../storage/sqlite/database.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { spawnServe } from '../../test/helpers/serve.js'
import { killWithBench, stopChild, waitForLine } from '../proc.js'
import type { BenchDevice } from '../publisher.js'
import { startPlainMosquitto } from './mosquitto.js'
import { type NodeRedInstall, startNodeRedStack } from './node-red.js'

export type TargetName = 'mosquitto' | 'aedes' | 'siteward-ingest' | 'siteward' | 'node-red'

export const targetLabels: Record<TargetName, string> = {
  mosquitto: 'Debian mosquitto 2 (native; no auth, no persistence)',
  aedes: 'bare Aedes (no auth, no persistence)',
  'siteward-ingest': 'Siteward ingest only (auth, validation, fsync’d log before PUBACK)',
  siteward: 'Siteward full (+ projector, rules, alerts, InfluxDB)',
  'node-red': 'mosquitto + Node-RED flow → InfluxDB',
}

export interface BenchTarget {
  readonly name: TargetName
  readonly url: string
  readonly devices: BenchDevice[]
  /** The processes whose CPU and memory are the target's (influxd is measured apart). */
  readonly pids: () => number[]
  /** Telemetry points the target has confirmed stored in InfluxDB, where it stores any. */
  readonly stored?: () => Promise<number>
  /** A device that is not under load, and an admin token: for alert-latency probes. */
  readonly probe?: { readonly device: BenchDevice; readonly httpPort: number; readonly token: string }
  /** Siteward's /metrics: CPU seconds per role's thread, its counters and log depths. */
  readonly engineSample?: () => Promise<EngineSample>
  stop(): Promise<void>
}

export interface EngineSample {
  readonly secondsByRole: Readonly<Record<string, number>>
  /** Payload objects the edge accepted, refused (dead-lettered) and dropped as repeats, and the points the shipper stored. */
  readonly accepted: number
  readonly rejected: number
  readonly duplicates: number
  readonly written: number
  /** Write-ahead log bytes each consumer (projector, shipper) has still to read. */
  readonly logDepthBytes: Readonly<Record<string, number>>
  /** The log's group commits so far, the records they held and their time; the appends waiting for one. */
  readonly commits: number
  readonly committedRecords: number
  readonly commitSeconds: number
  readonly unacknowledged: number
}

/** One labelled family of /metrics, as label value → number. */
function family(text: string, name: string, label: string): Record<string, number> {
  const values: Record<string, number> = {}
  for (const [, key, value] of text.matchAll(new RegExp(`^${name}\\{${label}="(\\w+)"\\} (\\S+)$`, 'gm')))
    if (key !== undefined) values[key] = Number(value)
  return values
}

const single = (text: string, name: string) =>
  Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0)

/** Reads each thread's CPU seconds, what the edge took in, what the shipper stored, and the log depth per consumer. */
async function scrapeEngine(httpPort: number): Promise<EngineSample> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
  return {
    secondsByRole: family(text, 'siteward_thread_cpu_seconds_total', 'role'),
    accepted: single(text, 'siteward_messages_accepted_total'),
    rejected: sum(family(text, 'siteward_messages_rejected_total', 'reason')),
    duplicates: single(text, 'siteward_messages_duplicate_total'),
    written: single(text, 'siteward_telemetry_points_written_total'),
    logDepthBytes: family(text, 'siteward_log_depth_bytes', 'consumer'),
    commits: single(text, 'siteward_log_commits_total'),
    committedRecords: single(text, 'siteward_log_committed_records_total'),
    commitSeconds: single(text, 'siteward_log_commit_seconds_total'),
    unacknowledged: single(text, 'siteward_log_unacknowledged_appends'),
  }
}

/** The engine's warnings and errors reach the bench's stderr, so a failed run says why. */
function forwardWarnings(child: ChildProcess): void {
  let pending = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) if (/"level":(4|5|6)\d/.test(line)) process.stderr.write(`[siteward] ${line}\n`)
  })
}

export interface TargetContext {
  readonly influxUrl: string
  readonly influxPort: number
  readonly database: string
  readonly nodeRed: NodeRedInstall | null
}

/** BENCH_PROFILE=1: the engine writes a V8 CPU profile into bench/results/profiles when it stops. */
const profileArgs = () =>
  process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', '--cpu-prof-dir=bench/results/profiles'] : []

const anonymous = (count: number, prefix: string): BenchDevice[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${prefix}-${i}`, siteId: 'BENCH', secret: 'x' }))

/** A data folder whose registry has a site, `count` cranes, a probe crane and an admin token. */
async function provisioned(count: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'siteward-bench-'))
  const db = openDatabase(join(dataDir, 'siteward.db'))
  const provisioning = new Provisioning(new RegistryRepository(db))
  await provisioning.addSite({ id: 'BENCH', name: 'Benchmark site', region: '330106' })
  const add = async (id: string): Promise<BenchDevice> => ({
    id,
    siteId: 'BENCH',
    secret: (await provisioning.addDevice({ siteId: 'BENCH', id, kind: 'crane' })).secret,
  })
  const devices: BenchDevice[] = []
  for (let i = 0; i < count; i++) devices.push(await add(`TC-${String(i).padStart(5, '0')}`))
  const probe = await add('PROBE-01')
  const token = (await provisioning.createToken({ role: 'admin', name: 'bench' })).token
  db.close()
  return { dataDir, devices, probe, token }
}

/** Runs a bench server script that prints {"port":n} when it listens. */
async function scriptServer(script: string, args: string[]) {
  const child = killWithBench(
    spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] }),
  )
  const { port } = JSON.parse(await waitForLine(child, (line) => line.startsWith('{'))) as { port: number }
  return { child, port }
}

async function influxCount(influxUrl: string, database: string, measurement: string): Promise<number> {
  const query = `SELECT count(loadT) FROM ${measurement}`
  const response = await fetch(
    `${influxUrl}/query?db=${encodeURIComponent(database)}&q=${encodeURIComponent(query)}`,
  )
  const body = (await response.json()) as { results?: { series?: { values?: [string, number][] }[] }[] }
  return Number(body.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0)
}

export async function startTarget(
  name: TargetName,
  deviceCount: number,
  context: TargetContext,
): Promise<BenchTarget> {
  switch (name) {
    case 'mosquitto': {
      const broker = await startPlainMosquitto()
      return {
        name,
        url: `mqtt://127.0.0.1:${broker.port}`,
        devices: anonymous(deviceCount, 'MQ'),
        pids: () => [broker.pid],
        stop: () => broker.stop(),
      }
    }
    case 'aedes': {
      const { child, port } = await scriptServer('bench/bare-aedes.ts', [])
      return {
        name,
        url: `mqtt://127.0.0.1:${port}`,
        devices: anonymous(deviceCount, 'AE'),
        pids: () => [child.pid ?? 0],
        stop: () => stopChild(child),
      }
    }
    case 'siteward-ingest': {
      const { dataDir, devices } = await provisioned(deviceCount)
      const { child, port } = await scriptServer('bench/siteward-ingest.ts', [dataDir])
      return {
        name,
        url: `mqtt://127.0.0.1:${port}`,
        devices,
        pids: () => [child.pid ?? 0],
        async stop() {
          await stopChild(child)
          rmSync(dataDir, { recursive: true, force: true })
        },
      }
    }
    case 'siteward': {
      const { dataDir, devices, probe, token } = await provisioned(deviceCount)
      const { child, mqttPort, httpPort } = await spawnServe(
        {
          SITEWARD_DATA_DIR: dataDir,
          SITEWARD_INFLUX_URL: context.influxUrl,
          SITEWARD_INFLUX_DB: context.database,
          SITEWARD_MQTT_CONNECT_TIMEOUT_MS: '60000',
          // Every publisher process connects from 127.0.0.1, 250 logins in flight each: like
          // devices behind one TCP proxy, for which the README says to raise the per-address cap.
          SITEWARD_MQTT_MAX_UNAUTHENTICATED_PER_ADDRESS: '1000',
        },
        { nodeArgs: profileArgs(), compiled: true },
      )
      killWithBench(child)
      forwardWarnings(child)
      return {
        name,
        url: `mqtt://127.0.0.1:${mqttPort}`,
        devices,
        pids: () => [child.pid ?? 0],
        stored: () => influxCount(context.influxUrl, context.database, 'crane'),
        probe: { device: probe, httpPort, token },
        engineSample: () => scrapeEngine(httpPort),
        async stop() {
          await stopChild(child)
          rmSync(dataDir, { recursive: true, force: true })
        },
      }
    }
    case 'node-red': {
      if (context.nodeRed === null) throw new Error('Node-RED is not installed')
      const stack = await startNodeRedStack(context.nodeRed, context.influxPort, context.database)
      return {
        name,
        url: `mqtt://127.0.0.1:${stack.mqttPort}`,
        devices: anonymous(deviceCount, 'NR'),
        pids: stack.pids,
        stored: () => influxCount(context.influxUrl, context.database, 'crane'),
        stop: () => stack.stop(),
      }
    }
  }
}

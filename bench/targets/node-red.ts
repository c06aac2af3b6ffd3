// The do-it-yourself stack users build instead (issue 6): mosquitto as the broker and a Node-RED
// flow, MQTT in → JSON → threshold switch → InfluxDB out, with node-red-contrib-influxdb writing
// to the same influxd as Siteward. Node-RED is installed from npm into a temporary folder when the
// benchmark runs; it is not a project dependency. node-red@4 is the last major for Node.js 20.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../test/helpers/influxd.js'
import { killWithBench, say, stopChild, waitForLine } from '../proc.js'
import { type RunningBroker, startPlainMosquitto } from './mosquitto.js'

export interface NodeRedInstall {
  readonly dir: string
  readonly version: string
  remove(): void
}

/** npm install node-red@4 and node-red-contrib-influxdb into a temporary folder. */
export function installNodeRed(): NodeRedInstall {
  const dir = mkdtempSync(join(tmpdir(), 'siteward-bench-node-red-'))
  say('Node-RED: npm install node-red@4 node-red-contrib-influxdb into a temporary folder…')
  execFileSync(
    'npm',
    [
      'install',
      '--prefix',
      dir,
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      'node-red@4',
      'node-red-contrib-influxdb',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const version = execFileSync(
    process.execPath,
    ['-p', `require(${JSON.stringify(join(dir, 'node_modules/node-red/package.json'))}).version`],
    { encoding: 'utf8' },
  ).trim()
  return { dir, version, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Telemetry to a point tagged with its device, timed by the reading's own `ts`. */
const toPoint = `const p = msg.payload;
msg.payload = [{ time: p.ts, seq: p.seq, loadT: p.loadT, momentPct: p.momentPct, radiusM: p.radiusM, windMps: p.windMps, mode: p.mode },
  { device_id: msg.topic.split('/')[3] }];
return msg;`
const toAlert = `const p = msg.payload;
msg.payload = [{ time: p.ts, momentPct: p.momentPct, severity: p.momentPct > 100 ? 'critical' : 'warning' },
  { device_id: msg.topic.split('/')[3] }];
return msg;`

function flow(mqttPort: number, influxPort: number, database: string) {
  const influxOut = (id: string, measurement: string) => ({
    id,
    type: 'influxdb out',
    z: 'bench',
    influxdb: 'influx',
    measurement,
    precision: 'ms',
    retentionPolicy: '',
    wires: [],
  })
  // Flow nodes have a position on the canvas; Node-RED takes nodes without one for config nodes.
  const placed = (nodes: Record<string, unknown>[]) =>
    nodes.map((node, i) => ('z' in node ? { x: 100 + 150 * i, y: 100, ...node } : node))
  return placed([
    { id: 'bench', type: 'tab', label: 'telemetry' },
    {
      id: 'broker',
      type: 'mqtt-broker',
      broker: '127.0.0.1',
      port: String(mqttPort),
      clientid: 'node-red-bench',
      autoConnect: true,
      usetls: false,
      protocolVersion: '4',
      keepalive: '60',
      cleansession: true,
    },
    {
      id: 'influx',
      type: 'influxdb',
      hostname: '127.0.0.1',
      port: String(influxPort),
      protocol: 'http',
      database,
      influxdbVersion: '1.x',
    },
    {
      id: 'in',
      type: 'mqtt in',
      z: 'bench',
      topic: 'sites/+/devices/+/telemetry',
      qos: '1',
      datatype: 'utf8',
      broker: 'broker',
      inputs: 0,
      wires: [['json']],
    },
    {
      id: 'json',
      type: 'json',
      z: 'bench',
      property: 'payload',
      action: 'obj',
      wires: [['point', 'threshold']],
    },
    { id: 'point', type: 'function', z: 'bench', func: toPoint, outputs: 1, wires: [['store']] },
    influxOut('store', 'crane'),
    // DOMAIN.md: load moment 90 % warns, 100 % is critical.
    {
      id: 'threshold',
      type: 'switch',
      z: 'bench',
      property: 'payload.momentPct',
      propertyType: 'msg',
      rules: [{ t: 'gte', v: '90', vt: 'num' }],
      checkall: 'true',
      outputs: 1,
      wires: [['alert']],
    },
    { id: 'alert', type: 'function', z: 'bench', func: toAlert, outputs: 1, wires: [['alertStore']] },
    influxOut('alertStore', 'alert'),
  ])
}

export interface RunningNodeRed {
  readonly mqttPort: number
  readonly pids: () => number[]
  stop(): Promise<void>
}

export async function startNodeRedStack(
  install: NodeRedInstall,
  influxPort: number,
  database: string,
): Promise<RunningNodeRed> {
  const mosquitto: RunningBroker = await startPlainMosquitto()
  const userDir = join(install.dir, `user-${database}`)
  mkdirSync(userDir, { recursive: true })
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow(mosquitto.port, influxPort, database)))
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = { uiHost: '127.0.0.1', uiPort: ${await freePort()}, flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'info' } } }\n`,
  )
  await fetch(
    `http://127.0.0.1:${influxPort}/query?q=${encodeURIComponent(`CREATE DATABASE "${database}"`)}`,
    {
      method: 'POST',
    },
  )
  const child: ChildProcess = killWithBench(
    spawn(
      process.execPath,
      [
        join(install.dir, 'node_modules/node-red/red.js'),
        '--userDir',
        userDir,
        '--settings',
        join(userDir, 'settings.js'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  )
  // Node-RED reports failed writes only in its log (the influx client retries them): count them.
  let errors = 0
  let firstError = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.includes('[error]')) continue
      errors++
      firstError ||= line.slice(0, 300)
    }
  })
  await waitForLine(child, (line) => line.includes('Connected to broker'), 60_000)
  return {
    mqttPort: mosquitto.port,
    pids: () => [child.pid ?? 0, mosquitto.pid],
    async stop() {
      if (errors > 0) say(`Node-RED logged ${errors} errors, the first: ${firstError}`)
      await stopChild(child)
      await mosquitto.stop()
    },
  }
}

// `npm run bench`: Siteward side by side with what users would pick instead (issue 6), with the
// same publisher process and payloads for every target:
//   Debian's mosquitto (the native ceiling), bare Aedes, Siteward's ingest path alone, Siteward
//   full, and mosquitto + a Node-RED flow writing to the same influxd.
// Sections (BENCH_ONLY=throughput|load|idle|reports, or several with commas; default all): QoS 1 / QoS 0 throughput;
// CPU, memory and alert latency at city and province load; memory per idle connection; start-up
// over 100,000 stored alerts and the regulators' queries. Markdown tables go to stdout for
// BENCHMARKS.md; the figures are also saved as JSON under bench/results/.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { startInfluxd } from '../test/helpers/influxd.js'
import { type IdleRun, measureIdle } from './idle.js'
import { type LoadRun, measureLoad } from './load.js'
import { say } from './proc.js'
import { report } from './report.js'
import { benchReports, emptyStartupMs, type ReportsBench } from './reports.js'
import { type TargetContext, type TargetName, targetLabels } from './targets/index.js'
import type { NodeRedInstall } from './targets/node-red.js'
import { installNodeRed } from './targets/node-red.js'
import { type ThroughputRun, throughputRound } from './throughput.js'

const settings = {
  messages: Number(process.env.BENCH_MESSAGES ?? 100_000),
  devices: Number(process.env.BENCH_DEVICES ?? 100),
  window: Number(process.env.BENCH_WINDOW ?? 10),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  cityDevices: Number(process.env.BENCH_CITY_DEVICES ?? 2_000),
  // 20,000 in the issue; one process may hold at most 20,000 open files here (ulimit -Hn), and
  // the engine needs a few dozen for itself.
  provinceDevices: Number(process.env.BENCH_PROVINCE_DEVICES ?? 19_500),
  alerts: Number(process.env.BENCH_ALERTS ?? 100_000),
  loads: (process.env.BENCH_LOADS ?? 'city,province').split(','),
  idleConnections: (process.env.BENCH_IDLE ?? '1000,10000').split(',').map(Number),
  targets: (process.env.BENCH_TARGETS ?? Object.keys(targetLabels).join(',')).split(',') as TargetName[],
}
const only = process.env.BENCH_ONLY ?? ''
const sections = only.split(',').filter((section) => section !== '')
const runs = (section: string) => sections.length === 0 || sections.includes(section)

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 1024 ** 3),
  node: process.version,
  influxd: execFileSync('influxd', ['version'], { encoding: 'utf8' }).trim(),
  mosquitto: execFileSync('sh', ['-c', '(mosquitto -h || /usr/sbin/mosquitto -h) 2>&1 | head -n 1 || true'], {
    encoding: 'utf8',
  }).trim(),
}
say(`machine: ${JSON.stringify(machine)}`)
// Siteward runs as `npm start` runs it: compiled (the build is brought up to date first).
execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { stdio: 'inherit' })

let nodeRed: NodeRedInstall | null = null
let nodeRedMissing: string | null = null
const targets = settings.targets.filter((name) => {
  if (name !== 'node-red' || !(runs('throughput') || runs('load'))) return true
  try {
    nodeRed = installNodeRed()
    return true
  } catch (error) {
    nodeRedMissing = `npm install node-red@4 failed: ${(error as Error).message}`
    say(`${nodeRedMissing}; the Node-RED flow is left out`)
    return false
  }
})
say('starting a throw-away influxd…')
const influxd = await startInfluxd()
process.on('exit', () => {
  // Dead already after a normal stop; after a crash of the bench, it must not outlive it.
  try {
    process.kill(influxd.pid, 'SIGKILL')
  } catch {}
})
let databases = 0
const context = (): TargetContext => ({
  influxUrl: influxd.url,
  influxPort: influxd.port,
  database: `bench_${++databases}`,
  nodeRed,
})

const throughput: ThroughputRun[] = []
const loads: LoadRun[] = []
const idle: IdleRun[] = []
const failures: { section: string; target: TargetName; reason: string }[] = []
let reports: ReportsBench | null = null
let emptyStartup: number[] = []
try {
  if (runs('throughput'))
    for (let round = 1; round <= settings.rounds; round++)
      throughput.push(
        ...(await throughputRound(
          round,
          { targets, messages: settings.messages, devices: settings.devices, window: settings.window },
          context,
        )),
      )
  if (runs('load'))
    for (const load of [
      { name: 'city', devices: settings.cityDevices },
      { name: 'province', devices: settings.provinceDevices },
    ].filter((l) => settings.loads.includes(l.name)))
      for (const name of targets)
        try {
          loads.push(await measureLoad(load, name, context(), influxd.pid))
        } catch (error) {
          // One failed run must not take the finished ones with it: it is reported, and the rest runs.
          const reason = error instanceof Error ? error.message : String(error)
          say(`${load.name} load: ${name}: failed: ${reason}`)
          failures.push({ section: `${load.name} load`, target: name, reason })
        }
  if (runs('idle'))
    for (const connections of settings.idleConnections)
      for (const name of targets.filter((t) => t !== 'node-red'))
        idle.push(await measureIdle(name, connections, context()))
  if (runs('reports')) {
    emptyStartup = await emptyStartupMs()
    reports = await benchReports(settings.alerts, say)
  }
} finally {
  await influxd.stop()
  ;(nodeRed as NodeRedInstall | null)?.remove()
}

const results = {
  date: new Date().toISOString(),
  machine,
  settings,
  nodeRed: (nodeRed as NodeRedInstall | null)?.version ?? nodeRedMissing,
  throughput,
  loads,
  idle,
  emptyStartup,
  reports,
  failures,
}
mkdirSync('bench/results', { recursive: true })
writeFileSync(
  `bench/results/${results.date.replace(/[:.]/g, '-')}.json`,
  `${JSON.stringify(results, null, 2)}\n`,
)
process.stdout.write(report(results))

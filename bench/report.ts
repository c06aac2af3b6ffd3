// The benchmark's Markdown: tables side by side, ratios, and whether each aim of issue 6 is met.
import type { IdleRun } from './idle.js'
import { engineCpus, type LoadRun } from './load.js'
import { median } from './proc.js'
import type { ReportsBench } from './reports.js'
import { type TargetName, targetLabels } from './targets/index.js'
import { storeTimeoutMs, type ThroughputRun } from './throughput.js'

export interface BenchResults {
  readonly machine: Record<string, unknown>
  readonly settings: {
    readonly messages: number
    readonly devices: number
    readonly rounds: number
    readonly alerts: number
  }
  readonly nodeRed: string | null
  readonly throughput: readonly ThroughputRun[]
  readonly loads: readonly LoadRun[]
  readonly idle: readonly IdleRun[]
  readonly emptyStartup: readonly number[]
  readonly reports: ReportsBench | null
  readonly failures?: readonly {
    readonly section: string
    readonly target: TargetName
    readonly reason: string
  }[]
}

const n = (value: number | null | undefined, digits = 0) =>
  value === null || value === undefined || Number.isNaN(value)
    ? '—'
    : value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const pct = (ratio: number) => `${n(ratio * 100)} %`
const verdict = (met: boolean) => (met ? '**met**' : '**missed**')

function medianOf(
  runs: readonly ThroughputRun[],
  target: TargetName,
  qos: 0 | 1,
  pick: (r: ThroughputRun) => number | null,
) {
  const values = runs.filter((r) => r.target === target && r.qos === qos).map(pick)
  if (values.length === 0 || values.some((v) => v === null)) return null
  return median(values as number[])
}

/**
 * Into InfluxDB per second; for a run that had not stored everything when the wait ended, what
 * it had stored by then over the whole time (an upper bound on its rate).
 */
const storedRate = (r: ThroughputRun): number | null =>
  r.endToEndRate ?? (r.stored === null ? null : r.stored / (r.messages / r.ackRate + storeTimeoutMs / 1000))

function throughputSection(results: BenchResults): string[] {
  const runs = results.throughput
  if (runs.length === 0) return []
  const targets = [...new Set(runs.map((r) => r.target))]
  const bare = medianOf(runs, 'aedes', 1, (r) => r.ackRate)
  const lines = [
    `### Throughput: ${n(results.settings.messages)} messages from ${n(results.settings.devices)} connections, median of ${results.settings.rounds} rounds`,
    '',
    '| target | QoS 1 taken in/s | QoS 1 into InfluxDB/s | QoS 0 taken in/s | QoS 0 into InfluxDB/s | CPU µs/message (QoS 1) | QoS 1 taken in, of bare Aedes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const target of targets) {
    const ack1 = medianOf(runs, target, 1, (r) => r.ackRate)
    lines.push(
      `| ${targetLabels[target]} | ${n(ack1)} | ${rateText(runs, target, 1)} | ${n(medianOf(runs, target, 0, (r) => r.ackRate))} | ${rateText(runs, target, 0)} | ${n(medianOf(runs, target, 1, (r) => r.cpuMicrosPerMessage))} | ${bare === null || ack1 === null ? '—' : pct(ack1 / bare)} |`,
    )
  }
  const stored = runs.filter((r) => r.stored !== null)
  const late = stored.filter((r) => r.endToEndRate === null)
  const wrong = stored.filter((r) => r.endToEndRate !== null && r.stored !== r.messages)
  lines.push(
    '',
    `InfluxDB held exactly the messages sent in ${stored.length - late.length - wrong.length} of the ${stored.length} runs that store telemetry.`,
  )
  if (late.length > 0)
    lines.push(
      `Not all stored within ${storeTimeoutMs / 1000} s of the last publish (≤: what was stored by then over the whole time): ${late.map((r) => `${r.target} QoS ${r.qos} ${n(r.stored)}/${n(r.messages)}`).join(', ')}.`,
    )
  if (wrong.length > 0)
    lines.push(
      `More stored than sent: ${wrong.map((r) => `${r.target} QoS ${r.qos} ${r.stored}/${r.messages}`).join(', ')}.`,
    )
  const errors = runs.filter((r) => r.errors > 0)
  if (errors.length > 0)
    lines.push(`Publish errors: ${errors.map((r) => `${r.target} QoS ${r.qos}: ${r.errors}`).join(', ')}.`)
  return lines
}

/** The median into-InfluxDB rate, marked ≤ when some runs had not finished (see storedRate). */
function rateText(runs: readonly ThroughputRun[], target: TargetName, qos: 0 | 1): string {
  const rate = medianOf(runs, target, qos, storedRate)
  const unfinished = runs.some(
    (r) => r.target === target && r.qos === qos && r.stored !== null && r.endToEndRate === null,
  )
  return rate === null ? '—' : `${unfinished ? '≤ ' : ''}${n(rate)}`
}

function loadSection(results: BenchResults): string[] {
  if (results.loads.length === 0) return []
  return [
    `### Fixed load: each device publishes one QoS 1 reading a second (20 s window after 5 s)${engineCpus === null ? '' : `, the target pinned to CPUs ${engineCpus}`}`,
    '',
    '| load | target | devices | connect | sent/s | acked/s | stored/s | CPU, % of one core | influxd CPU | peak memory | alert p50 | alert p99 | alert events / probes |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.loads.map(
      (r) =>
        `| ${r.load} | ${targetLabels[r.target]} | ${n(r.devices)} | ${n(r.connectSeconds, 1)} s | ${n(r.sentRate ?? null)} | ${n(r.ackedRate)} | ${n(r.storedRate)} | ${n(r.cpuPercent)} % | ${n(r.influxdCpuPercent)} % | ${n(r.peakRssMiB)} MiB | ${r.alertP50Ms === null ? '—' : `${n(r.alertP50Ms, 1)} ms`} | ${r.alertP99Ms === null ? '—' : `${n(r.alertP99Ms, 1)} ms`} | ${r.alertProbes === null ? '—' : `${r.alertLatencies} / ${r.alertProbes}`} |`,
    ),
    ...engineSampleTable(results.loads),
  ]
}

/** Siteward's CPU per reading split by the role's thread it ran on (siteward_thread_cpu_seconds_total). */
function engineSampleTable(loads: readonly LoadRun[]): string[] {
  const rows = loads.filter((r) => r.cpuUsPerReadingByRole !== null)
  if (rows.length === 0) return []
  const roles = ['edge', 'worker', 'shipper', 'api']
  return [
    '',
    'Siteward full, CPU per accepted reading by thread (µs; per reading shipped where the edge was too busy to report what it accepted; the process total also holds the threads Node runs for itself: GC, file I/O, fsync):',
    '',
    `| load | ${roles.join(' | ')} | roles together | whole process | accepted/s | refused/s | shipped/s | log depth, projector | log depth, shipper |`,
    `| --- | ${roles.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...rows.map((r) => {
      const byRole = r.cpuUsPerReadingByRole ?? {}
      const together = roles.reduce((sum, role) => sum + (byRole[role] ?? 0), 0)
      const accepted = r.engineRates?.accepted ?? Number.NaN
      const whole = (r.cpuPercent / 100 / (Number.isFinite(accepted) ? accepted : r.ackedRate)) * 1e6
      return `| ${r.load} | ${roles.map((role) => n(byRole[role] ?? null, 1)).join(' | ')} | ${n(together, 1)} | ${n(whole, 1)} | ${n(r.engineRates?.accepted)} | ${n(r.engineRates?.rejected)} | ${n(r.engineRates?.written)} | ${depth(r, 'projector')} | ${depth(r, 'shipper')} |`
    }),
  ]
}

/** A consumer's unread log at the window's start → end, in MiB. */
function depth(r: LoadRun, consumer: string): string {
  const mib = (bytes: number | undefined) => (bytes === undefined ? '—' : n(bytes / 1024 ** 2, 1))
  return r.logDepthBytes === null
    ? '—'
    : `${mib(r.logDepthBytes.start[consumer])} → ${mib(r.logDepthBytes.end[consumer])} MiB`
}

function failuresSection(results: BenchResults): string[] {
  const failures = results.failures ?? []
  if (failures.length === 0) return []
  return [
    '### Runs that failed (the tables above hold the ones that finished)',
    '',
    ...failures.map((f) => `- ${f.section}, ${targetLabels[f.target]}: ${f.reason}`),
  ]
}

function idleSection(results: BenchResults): string[] {
  if (results.idle.length === 0) return []
  return [
    '### Memory per idle connection',
    '',
    '| target | connections | memory before | memory connected | per connection |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...results.idle.map(
      (r) =>
        `| ${targetLabels[r.target]} | ${n(r.connections)} | ${n(r.baseRssMiB)} MiB | ${n(r.rssMiB)} MiB | ${n(r.bytesPerConnection / 1024, 1)} KiB |`,
    ),
  ]
}

function reportsSection(results: BenchResults): string[] {
  const reports = results.reports
  if (reports === null) return []
  const full = median(reports.startupMs)
  const empty = median(results.emptyStartup)
  return [
    '### Start-up and the regulators’ queries',
    '',
    `\`siteward serve\` (compiled, as \`npm start\` runs it) to its ready line, median of 3: empty store ${n(empty)} ms; ${n(reports.alerts ?? results.settings.alerts)} stored alerts (${n(reports.notClosed)} not closed, their retained MQTT copies republished) ${n(full)} ms (${n(full / empty, 1)}×).`,
    '',
    '| query | median | max of 5 | response |',
    '| --- | ---: | ---: | ---: |',
    ...reports.timings.map(
      (t) => `| ${t.name} | ${n(t.medianMs)} ms | ${n(t.maxMs)} ms | ${n(t.bytes / 1024)} KiB |`,
    ),
  ]
}

function aims(results: BenchResults): string[] {
  const runs = results.throughput
  const lines: string[] = []
  const bare = medianOf(runs, 'aedes', 1, (r) => r.ackRate)
  const full = medianOf(runs, 'siteward', 1, (r) => r.ackRate)
  const fullStored = medianOf(runs, 'siteward', 1, (r) => r.endToEndRate)
  const red = medianOf(runs, 'node-red', 1, storedRate)
  if (bare !== null && full !== null)
    lines.push(
      `- Siteward full ≥ 50 % of bare Aedes's QoS 1 throughput: ${pct(full / bare)} acknowledged${fullStored === null ? '' : `, ${pct(fullStored / bare)} into InfluxDB`}: ${verdict(full / bare >= 0.5)}.`,
    )
  if (fullStored !== null && red !== null)
    lines.push(
      `- Siteward full ≥ 2× the Node-RED flow (QoS 1, into InfluxDB): ${runs.some((r) => r.target === 'node-red' && r.endToEndRate === null) ? 'at least ' : ''}${n(fullStored / red, 1)}×: ${verdict(fullStored / red >= 2)}.`,
    )
  const city = results.loads.find((r) => r.load === 'city' && r.target === 'siteward')
  if (city !== undefined) {
    lines.push(
      `- City load under 25 % of one core: ${n(city.cpuPercent)} %: ${verdict(city.cpuPercent < 25)}.`,
    )
    if (city.alertP99Ms !== null)
      lines.push(
        `- p99 alert latency under 100 ms at city load: ${n(city.alertP99Ms, 1)} ms: ${verdict(city.alertP99Ms < 100)}.`,
      )
  }
  return lines.length === 0 ? [] : ['### Aims of issue 6', '', ...lines]
}

export function report(results: BenchResults): string {
  const sections = [
    [`Machine: ${JSON.stringify(results.machine)}`, `Node-RED: ${results.nodeRed ?? 'not run'}`],
    throughputSection(results),
    loadSection(results),
    idleSection(results),
    reportsSection(results),
    failuresSection(results),
    aims(results),
  ].filter((lines) => lines.length > 0)
  return `\n${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`
}

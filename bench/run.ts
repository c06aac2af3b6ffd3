// `npm run bench`: QoS 1 throughput of bare Aedes and of Siteward's ingest path (authenticated
// devices, validation, write-ahead log with fsync, projector, shipper into a real InfluxDB),
// driven by the same publisher process with the same payloads. Results print as a Markdown
// table for BENCHMARKS.md and are saved under bench/results/.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { Provisioning } from '../src/domain/provisioning.js'
import { InfluxV1Client } from '../src/storage/influx/influx-client.js'
import { openDatabase } from '../src/storage/sqlite/database.js'
import { RegistryRepository } from '../src/storage/sqlite/registry-repository.js'
import { startInfluxd } from '../test/helpers/influxd.js'
import { spawnServe } from '../test/helpers/serve.js'
import { benchAlertLatency } from './alert-latency.js'
import { benchReports } from './reports.js'

const total = Number(process.env.BENCH_MESSAGES ?? 100_000)
const deviceCount = Number(process.env.BENCH_DEVICES ?? 100)
const window = Number(process.env.BENCH_WINDOW ?? 10)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const say = (text: string) => process.stderr.write(`[bench] ${text}\n`)

interface PublishResult {
  sent: number
  acked: number
  errors: number
  elapsedMs: number
}

function waitForLine(
  child: ChildProcess,
  match: (line: string) => boolean,
  timeoutMs = 60_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = ''
    const timer = setTimeout(() => reject(new Error('timed out waiting for the server to start')), timeoutMs)
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      const found = lines.find(match)
      if (found !== undefined) {
        clearTimeout(timer)
        resolve(found)
      }
    })
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)))
  })
}

function publish(
  url: string,
  devices: { id: string; siteId: string; secret: string }[],
  messages: number,
): Promise<PublishResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/publisher.ts',
        JSON.stringify({ url, devices, total: messages, window, qos: 1 }),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(output) as PublishResult)
        : reject(new Error(`publisher exited ${code}`)),
    )
  })
}

/** CPU seconds (user + system, all threads) a process has used, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

async function benchBareAedes(devices: { id: string; siteId: string; secret: string }[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-aedes.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const { port } = JSON.parse(await waitForLine(child, (line) => line.startsWith('{'))) as { port: number }
  const url = `mqtt://127.0.0.1:${port}`
  await publish(url, devices, Math.min(10_000, total)) // warm-up
  const cpuBefore = cpuSeconds(child.pid)
  const result = await publish(url, devices, total)
  const brokerCpuSeconds = cpuSeconds(child.pid) - cpuBefore
  await stop(child)
  return { ...result, brokerCpuSeconds }
}

async function benchSiteward(influxUrl: string, database: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'siteward-bench-'))
  const db = openDatabase(join(dataDir, 'siteward.db'))
  const provisioning = new Provisioning(new RegistryRepository(db))
  provisioning.addSite({ id: 'BENCH', name: 'Benchmark site', region: '330106' })
  say(`provisioning ${deviceCount} devices…`)
  const devices = Array.from({ length: deviceCount }, (_, i) => {
    const id = `TC-${String(i).padStart(4, '0')}`
    return {
      id,
      siteId: 'BENCH',
      secret: provisioning.addDevice({ siteId: 'BENCH', id, kind: 'crane' }).secret,
    }
  })
  db.close()
  const { child, ...ready } = await spawnServe({
    SITEWARD_DATA_DIR: dataDir,
    SITEWARD_INFLUX_URL: influxUrl,
    SITEWARD_INFLUX_DB: database,
  })
  const url = `mqtt://127.0.0.1:${ready.mqttPort}`
  const written = async () => {
    const text = await (await fetch(`http://127.0.0.1:${ready.httpPort}/metrics`)).text()
    return Number(/^siteward_telemetry_points_written_total (\S+)/m.exec(text)?.[1] ?? 0)
  }
  say('Siteward: warm-up…')
  const warmup = Math.min(10_000, total)
  await publish(url, devices, warmup)
  while ((await written()) < warmup) await new Promise((resolve) => setTimeout(resolve, 100))
  say(`Siteward: ${total} QoS 1 messages from ${deviceCount} devices…`)
  const before = await written()
  // The measured run re-uses the warm-up devices and restarts their seqs; a second later its
  // payloads carry later timestamps, so the duplicate check sees a restarted counter (SeqRanges).
  await new Promise((resolve) => setTimeout(resolve, 1_100))
  const cpuBefore = cpuSeconds(child.pid)
  const startedAt = performance.now()
  const result = await publish(url, devices, total)
  let endToEndMs = 0
  for (;;) {
    if ((await written()) - before >= result.acked) {
      endToEndMs = performance.now() - startedAt
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const engineCpuSeconds = cpuSeconds(child.pid) - cpuBefore
  const influx = new InfluxV1Client({ url: influxUrl, database, credentials: { kind: 'none' } })
  const counted = await influx.query('SELECT count(loadT) FROM crane')
  const storedPoints = Number(counted[0]?.values[0]?.[1] ?? 0)
  await stop(child)
  rmSync(dataDir, { recursive: true, force: true })
  return { ...result, endToEndMs, engineCpuSeconds, storedPoints, expectedPoints: warmup + result.acked }
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 1024 ** 3),
  node: process.version,
  influxd: execFileSync('influxd', ['version'], { encoding: 'utf8' }).trim(),
}
say(`machine: ${JSON.stringify(machine)}`)
say(`starting a throw-away influxd…`)
const influxd = await startInfluxd()
async function benchThroughput(influxUrl: string): Promise<void> {
  const bareDevices = Array.from({ length: deviceCount }, (_, i) => ({
    id: `BARE-${i}`,
    siteId: 'BENCH',
    secret: 'x',
  }))
  const measured: {
    bare: number
    ack: number
    endToEnd: number
    cpuMicros: number
    bareCpuMicros: number
    stored: number
    expected: number
    errors: number
  }[] = []
  for (let round = 1; round <= rounds; round++) {
    say(`round ${round}/${rounds}: bare Aedes, ${total} QoS 1 messages from ${deviceCount} connections…`)
    const bare = await benchBareAedes(bareDevices)
    const siteward = await benchSiteward(influxUrl, `bench_${round}`)
    const row = {
      bare: bare.acked / (bare.elapsedMs / 1000),
      ack: siteward.acked / (siteward.elapsedMs / 1000),
      endToEnd: siteward.acked / (siteward.endToEndMs / 1000),
      cpuMicros: (siteward.engineCpuSeconds * 1e6) / siteward.acked,
      bareCpuMicros: (bare.brokerCpuSeconds * 1e6) / bare.acked,
      stored: siteward.storedPoints,
      expected: siteward.expectedPoints,
      errors: bare.errors + siteward.errors,
    }
    measured.push(row)
    say(
      `round ${round}: bare ${Math.round(row.bare)}/s, Siteward ack ${Math.round(row.ack)}/s, end to end ${Math.round(row.endToEnd)}/s, ${row.cpuMicros.toFixed(0)} µs CPU per message`,
    )
  }
  const bareRate = median(measured.map((m) => m.bare))
  const ackRate = median(measured.map((m) => m.ack))
  const endToEndRate = median(measured.map((m) => m.endToEnd))
  const span = (pick: (m: (typeof measured)[number]) => number) => {
    const values = measured.map(pick)
    return `${Math.round(Math.min(...values)).toLocaleString('en')}–${Math.round(Math.max(...values)).toLocaleString('en')}`
  }
  const rows = [
    ['bare Aedes (no auth, no persistence)', bareRate, span((m) => m.bare), '—'],
    [
      'Siteward ingest: PUBACK after fsync of the write-ahead log',
      ackRate,
      span((m) => m.ack),
      `${((ackRate / bareRate) * 100).toFixed(0)} %`,
    ],
    [
      'Siteward end to end: acked and confirmed by InfluxDB',
      endToEndRate,
      span((m) => m.endToEnd),
      `${((endToEndRate / bareRate) * 100).toFixed(0)} %`,
    ],
  ] as const
  const table = [
    `| path | QoS 1 messages/s (median of ${rounds}) | range | of bare Aedes |`,
    `| --- | ---: | ---: | ---: |`,
    ...rows.map(
      ([name, rate, range, ratio]) =>
        `| ${name} | ${Math.round(rate).toLocaleString('en')} | ${range} | ${ratio} |`,
    ),
  ].join('\n')
  const summary = {
    date: new Date().toISOString(),
    machine,
    load: { messages: total, devices: deviceCount, inFlightPerDevice: window, rounds },
    rounds: measured,
    medians: {
      bareRate,
      ackRate,
      endToEndRate,
      engineCpuMicrosPerMessage: median(measured.map((m) => m.cpuMicros)),
      bareCpuMicrosPerMessage: median(measured.map((m) => m.bareCpuMicros)),
    },
  }
  mkdirSync('bench/results', { recursive: true })
  writeFileSync(
    `bench/results/${summary.date.replace(/[:.]/g, '-')}.json`,
    `${JSON.stringify(summary, null, 2)}\n`,
  )
  const exact = measured.every((m) => m.stored === m.expected)
  process.stdout.write(
    `\n${table}\n\nCPU per message (all threads, median): Siteward ${summary.medians.engineCpuMicrosPerMessage.toFixed(0)} µs, bare Aedes ${summary.medians.bareCpuMicrosPerMessage.toFixed(0)} µs.\n` +
      `InfluxDB held exactly the acknowledged points in every round: ${exact ? 'yes' : `NO (${measured.map((m) => `${m.stored}/${m.expected}`).join(', ')})`}.\n`,
  )
  if (measured.some((m) => m.errors > 0))
    process.stdout.write(`Publish errors: ${measured.map((m) => m.errors).join(', ')}\n`)
}

async function benchLatency(influxUrl: string): Promise<void> {
  const rates = (process.env.BENCH_LATENCY_RATES ?? '2000,12000').split(',').map(Number)
  const results = await benchAlertLatency(influxUrl, rates, say)
  const table = [
    '| background telemetry | messages acked | probes | alert latency p50 | p99 | max |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.ratePerSecond.toLocaleString('en')}/s | ${r.backgroundAcked.toLocaleString('en')} | ${r.samples} | ${r.p50Ms.toFixed(1)} ms | ${r.p99Ms.toFixed(1)} ms | ${r.maxMs.toFixed(1)} ms |`,
    ),
  ].join('\n')
  process.stdout.write(`\nAlert latency, MQTT publish of a breaching reading → its SSE event:\n\n${table}\n`)
}

async function benchReportQueries(): Promise<void> {
  const count = Number(process.env.BENCH_ALERTS ?? 100_000)
  const timings = await benchReports(count, say)
  const table = [
    '| query | median | max of 5 | response |',
    '| --- | ---: | ---: | ---: |',
    ...timings.map(
      (t) =>
        `| ${t.name} | ${t.medianMs.toFixed(0)} ms | ${t.maxMs.toFixed(0)} ms | ${(t.bytes / 1024).toFixed(0)} KiB |`,
    ),
  ].join('\n')
  process.stdout.write(`\nIncidents and reports over ${count.toLocaleString('en')} alerts:\n\n${table}\n`)
}

const only = process.env.BENCH_ONLY ?? ''
try {
  if (only === '' || only === 'throughput') await benchThroughput(influxd.url)
  if (only === '' || only === 'latency') await benchLatency(influxd.url)
  if (only === '' || only === 'reports') await benchReportQueries()
} finally {
  await influxd.stop()
}

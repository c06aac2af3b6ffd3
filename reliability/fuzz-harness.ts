// The fuzz harness: a real `siteward serve` child process, valid devices publishing QoS 1 the
// whole time, and the mutation fuzzer from many loopback addresses. What it measures is what
// RELIABILITY.md reports: crashes, lost or duplicated acknowledged readings, the longest wait for
// a PUBACK of a valid device while under attack, and the engine's memory high-water mark.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { Provisioning } from '../domain/provisioning.js'
import { openDatabase } from '../storage/sqlite/database.js'
import { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import { connectDevice, waitFor } from '../test/helpers/engine.js'
import { spawnServe, stopServe } from '../test/helpers/serve.js'
import type { FuzzReport } from './mqtt-fuzz.js'

export interface FuzzHarnessResult extends FuzzReport {
  readonly crashed: boolean
  readonly exitCode: number | null
  readonly validAcked: number
  readonly validStored: number
  readonly validDisconnects: number
  readonly maxAckWaitMs: number
  readonly rssHighWaterMb: number
  readonly durationMs: number
  /** From SIGTERM to the process's exit. */
  readonly stopMs: number
  /** What still held the event loop after the engine stopped (serve names it, then exits). */
  readonly lingering: readonly string[]
}

const memoryOf = (pid: number, field: 'VmRSS' | 'VmHWM') => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`))
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024 // kB → MB
}

/** Runs reliability/fuzz-client.ts as a child process and relays its progress. */
function runFuzzProcess(job: object, onProgress: (report: FuzzReport) => void): Promise<FuzzReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fuzz-client.ts')], {
    env: { ...process.env, FUZZ_JOB: JSON.stringify(job) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    let buffer = ''
    let report: FuzzReport | null = null
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const lines = buffer.split('\n')
      buffer = lines.pop() ?? ''
      for (const line of lines) {
        const message = JSON.parse(line) as { progress?: FuzzReport; report?: FuzzReport }
        if (message.progress !== undefined) onProgress(message.progress)
        if (message.report !== undefined) report = message.report
      }
    })
    child.once('exit', (code) =>
      report === null ? reject(new Error(`the fuzzer exited with ${code} and no report`)) : resolve(report),
    )
  })
}

export async function fuzzHarness(options: {
  packets: number
  concurrency?: number
  validDevices?: number
  seed?: number
  say?: (text: string) => void
}): Promise<FuzzHarnessResult> {
  const say = options.say ?? (() => undefined)
  const dataDir = mkdtempSync(join(tmpdir(), 'siteward-fuzz-'))
  const db = openDatabase(join(dataDir, 'siteward.db'))
  const provisioning = new Provisioning(new RegistryRepository(db))
  await provisioning.addSite({ id: 'S1', name: 'Valid devices', region: '330106' })
  await provisioning.addSite({ id: 'F1', name: 'Fuzz devices', region: '330106' })
  const valid = await Promise.all(
    Array.from({ length: options.validDevices ?? 5 }, async (_, i) => {
      const id = `TC-${String(i + 1).padStart(2, '0')}`
      return { id, secret: (await provisioning.addDevice({ siteId: 'S1', id, kind: 'crane' })).secret }
    }),
  )
  const fuzzDevices = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const id = `FZ-${i + 1}`
      return {
        id,
        siteId: 'F1',
        secret: (await provisioning.addDevice({ siteId: 'F1', id, kind: 'crane' })).secret,
      }
    }),
  )
  await provisioning.addDevice({ siteId: 'F1', id: 'VICTIM-01', kind: 'crane' })
  const token = (await provisioning.createToken({ role: 'admin', name: 'fuzz harness' })).token
  db.close()

  const started = Date.now()
  const engine = await spawnServe({ SITEWARD_DATA_DIR: dataDir })
  const pid = engine.child.pid as number
  let exitCode: number | null = null
  let crashed = false
  engine.child.once('exit', (code) => {
    exitCode = code
  })

  // Valid devices: one QoS 1 reading every 20 ms each, throughout.
  let publishing = true
  let validAcked = 0
  let validDisconnects = 0
  let maxAckWaitMs = 0
  const clients: MqttClient[] = []
  const publishers = valid.map(async (device) => {
    const client = await connectDevice(`mqtt://127.0.0.1:${engine.mqttPort}`, device.id, device.secret, {
      reconnectPeriod: 500,
    })
    clients.push(client)
    client.on('close', () => {
      if (publishing) validDisconnects += 1
    })
    for (let seq = 0; publishing; seq++) {
      const sentAt = Date.now()
      await client.publishAsync(
        `sites/S1/devices/${device.id}/telemetry`,
        JSON.stringify({ ts: sentAt, seq, loadT: 1 }),
        { qos: 1 },
      )
      validAcked += 1
      maxAckWaitMs = Math.max(maxAckWaitMs, Date.now() - sentAt)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

  const report = await runFuzzProcess(
    {
      target: { port: engine.mqttPort, devices: fuzzDevices, victimId: 'VICTIM-01' },
      packets: options.packets,
      concurrency: options.concurrency ?? 50,
      seed: options.seed ?? 1,
    },
    (r) =>
      say(
        `${r.packets} packets in ${r.sessions} sessions; valid devices acked ${validAcked}; engine RSS ${memoryOf(pid, 'VmRSS').toFixed(0)} MB`,
      ),
  )
  say(`fuzz finished after ${Date.now() - started} ms`)
  publishing = false
  await Promise.all(publishers)
  say(`publishers stopped after ${Date.now() - started} ms`)
  for (const client of clients) await client.endAsync()
  crashed = exitCode !== null

  let validStored = 0
  let rssHighWaterMb = 0
  let stopMs = 0
  const lingering: string[] = []
  if (!crashed) {
    rssHighWaterMb = memoryOf(pid, 'VmHWM')
    // Every acknowledged reading of a valid device is counted once (seq dedupes a resend).
    validStored = await waitFor(
      async () => {
        let total = 0
        for (const device of valid) {
          const response = await fetch(`http://127.0.0.1:${engine.httpPort}/api/devices/${device.id}`, {
            headers: { authorization: `Bearer ${token}` },
          })
          total += ((await response.json()) as { acceptedCount: number }).acceptedCount
        }
        return total >= validAcked && total
      },
      'the valid readings projected',
      30_000,
    ).catch(() => 0)
    say(`readings checked after ${Date.now() - started} ms`)
    engine.child.stdout?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n'))
        if (line.includes('still holding handles'))
          lingering.push(...((JSON.parse(line) as { resources?: string[] }).resources ?? []))
    })
    const stopping = Date.now()
    await stopServe(engine.child)
    stopMs = Date.now() - stopping
    say(`engine stopped after ${Date.now() - started} ms (${stopMs} ms after SIGTERM)`)
  }
  rmSync(dataDir, { recursive: true, force: true })
  return {
    ...report,
    crashed,
    exitCode: crashed ? exitCode : (engine.child.exitCode ?? exitCode),
    validAcked,
    validStored,
    validDisconnects,
    maxAckWaitMs,
    rssHighWaterMb,
    durationMs: Date.now() - started,
    stopMs,
    lingering,
  }
}

// Incidents and summary queries over a store of 100,000 alerts (issue 5): how long a regulator
// waits. Alerts are written through the alert store, spread over 90 days, 200 sites in 10
// regions, with acknowledgements, closes and escalations; then `siteward serve` answers over HTTP.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Provisioning } from '../domain/provisioning.js'
import type { Principal } from '../domain/registry.js'
import type { Severity } from '../domain/rules.js'
import { AlertRepository } from '../storage/sqlite/alert-repository.js'
import { openDatabase } from '../storage/sqlite/database.js'
import { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import { spawnServe, stopServe } from '../test/helpers/serve.js'

export interface QueryTiming {
  readonly name: string
  readonly path: string
  readonly medianMs: number
  readonly maxMs: number
  readonly bytes: number
}

const day = 86_400_000
/** Alert i goes to site i % 200 (its device follows), rule by i % 3: 600 keys, then they repeat. */
const keysInCycle = 600
const severities: Severity[] = ['warning', 'alarm', 'critical']

export interface ReportsBench {
  readonly timings: QueryTiming[]
  readonly alerts: number
  /** `siteward serve` from spawn to its ready line, three starts over the same store. */
  readonly startupMs: number[]
  readonly notClosed: number
}

/** Spawns `siteward serve` as `npm start` runs it (compiled) and times it to its ready line. */
async function timedStart(env: Record<string, string>) {
  const began = performance.now()
  const engine = await spawnServe(env, { compiled: true })
  return { engine, ms: performance.now() - began }
}

/** Start-up of an engine over an empty store, for comparison with a full one. */
export async function emptyStartupMs(): Promise<number[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'siteward-bench-empty-'))
  const times: number[] = []
  try {
    for (let i = 0; i < 3; i++) {
      const { engine, ms } = await timedStart({ SITEWARD_DATA_DIR: dataDir })
      times.push(ms)
      await stopServe(engine.child)
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
  return times
}

export async function benchReports(alertCount: number, say: (text: string) => void): Promise<ReportsBench> {
  const dataDir = mkdtempSync(join(tmpdir(), 'siteward-bench-reports-'))
  const db = openDatabase(join(dataDir, 'siteward.db'))
  const provisioning = new Provisioning(new RegistryRepository(db))
  const sites = Array.from({ length: 200 }, (_, i) => `S${String(i + 1).padStart(3, '0')}`)
  say(`provisioning 200 sites and 1,000 devices, writing ${alertCount.toLocaleString('en')} alerts…`)
  for (const [i, id] of sites.entries()) {
    await provisioning.addSite({ id, name: `工地 ${id}`, region: `33${String(i % 10).padStart(4, '0')}` })
    for (let d = 0; d < 5; d++)
      await provisioning.addDevice({ siteId: id, id: `${id}-TC${d}`, kind: 'crane' })
  }
  const store = new AlertRepository(db)
  const person: Principal = { tokenId: 'bench', name: 'bench', role: 'supervisor', sites: [], region: null }
  const start = Date.now() - 90 * day
  const step = (90 * day) / alertCount
  // One transaction around the lot (the store's own nest inside it as savepoints): 600,000
  // commits would measure the disk, not the reports.
  db.exec('BEGIN')
  for (let i = 0; i < alertCount; i++) {
    const at = Math.floor(start + i * step)
    const site = sites[i % sites.length] as string
    const key = {
      siteId: site,
      deviceId: `${site}-TC${i % 5}`,
      ruleId: i % 3 === 0 ? 'crane.wind_work' : 'crane.load',
      subject: i % 3 === 0 ? 'windMps' : 'loadPct',
      origin: 'bench',
      retrospective: i % 50 === 0,
    }
    const severity = severities[i % 3] as Severity
    const raised = await store.applySignal(
      { ...key, signal: { type: 'raise', severity, value: 1, threshold: 1, ts: at } },
      at,
    )
    if (raised === null) continue
    const id = raised.alert.id
    if (i % 7 === 0) await store.escalate(id, 0, 'not acknowledged in time', at + 20 * 60_000)
    // All close but a fifth of the last 600 (one not-closed alert per key at most: a key that
    // still has one cannot raise again, and every one of the alerts must be stored).
    const closes = i % 10 < 8 || i < alertCount - keysInCycle
    if (i % 10 < 9 || closes)
      await store.transition(
        id,
        { action: 'acknowledge', note: 'seen' },
        person,
        undefined,
        at + (1 + (i % 13)) * 60_000,
      )
    if (closes) {
      await store.transition(
        id,
        { action: 'resolve', note: null, resolution: 'fixed' },
        person,
        undefined,
        at + 30 * 60_000,
      )
      await store.applySignal(
        { ...key, signal: { type: 'clear', value: 0, ts: at + 31 * 60_000 } },
        at + 31 * 60_000,
      )
      await store.transition(
        id,
        { action: 'close', note: null },
        person,
        undefined,
        at + (40 + (i % 29)) * 60_000,
      )
    }
  }
  db.exec('COMMIT')
  const stored = (db.prepare('SELECT count(*) AS n FROM alerts').get() as { n: number }).n
  const notClosed = (
    db.prepare("SELECT count(*) AS n FROM alerts WHERE state <> 'closed'").get() as { n: number }
  ).n
  const regulator = (
    await provisioning.createToken({
      role: 'regulator',
      name: 'bench regulator',
      region: '330003',
    })
  ).token
  const admin = (await provisioning.createToken({ role: 'admin', name: 'bench admin' })).token
  db.close()
  say(`${stored.toLocaleString('en')} alerts stored; starting siteward serve`)

  const env = { SITEWARD_DATA_DIR: dataDir, SITEWARD_HTTP_RATE_LIMIT: '100000' }
  const startupMs: number[] = []
  for (let i = 0; i < 2; i++) {
    const { engine, ms } = await timedStart(env)
    startupMs.push(ms)
    await stopServe(engine.child)
  }
  const { engine, ms } = await timedStart(env)
  startupMs.push(ms)
  say(
    `start-up over ${stored.toLocaleString('en')} alerts (${notClosed.toLocaleString('en')} not closed): ${startupMs.map((t) => `${t.toFixed(0)} ms`).join(', ')}`,
  )
  const base = `http://127.0.0.1:${engine.httpPort}`
  const period = `from=${new Date(start).toISOString()}&to=${new Date().toISOString()}`
  const queries: [string, string, string][] = [
    ['incidents, first page of 100, everything (admin)', '/api/incidents?limit=100', admin],
    [
      'incidents, escalated critical, one region (regulator)',
      '/api/incidents?limit=100&severity=critical&escalated=true',
      regulator,
    ],
    ['incidents, overdue (admin)', '/api/incidents?limit=100&overdue=true', admin],
    ['summary by site, 90 days, all 100,000 (admin)', `/api/reports/summary?${period}&groupBy=site`, admin],
    ['summary by day, 90 days (admin)', `/api/reports/summary?${period}&groupBy=day`, admin],
    ['summary by rule, one region (regulator)', `/api/reports/summary?${period}&groupBy=rule`, regulator],
    ['incidents.csv, one region, 10,000 rows (regulator)', '/api/incidents.csv', regulator],
    ['incidents.csv, everything, 100,000 rows (admin)', '/api/incidents.csv', admin],
  ]
  const timings: QueryTiming[] = []
  try {
    for (const [name, path, token] of queries) {
      const runs: number[] = []
      let bytes = 0
      for (let run = 0; run < 5; run++) {
        const began = performance.now()
        const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })
        const body = Buffer.from(await response.arrayBuffer())
        if (response.status !== 200)
          throw new Error(`${path} answered ${response.status}: ${body.toString().slice(0, 200)}`)
        runs.push(performance.now() - began)
        bytes = body.length
      }
      runs.sort((a, b) => a - b)
      const timing = { name, path, medianMs: runs[2] as number, maxMs: runs[4] as number, bytes }
      say(
        `${name}: median ${timing.medianMs.toFixed(0)} ms (max ${timing.maxMs.toFixed(0)} ms, ${bytes.toLocaleString('en')} bytes)`,
      )
      timings.push(timing)
    }
  } finally {
    await stopServe(engine.child)
    rmSync(dataDir, { recursive: true, force: true })
  }
  return { timings, startupMs, notClosed, alerts: stored }
}

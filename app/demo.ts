import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Alert } from '../domain/alert.js'
import { Provisioning } from '../domain/provisioning.js'
import { scenarioNamed } from '../simulators/scenarios.js'
import { type SimulatedDevice, simulate } from '../simulators/simulator.js'
import { openDatabase } from '../storage/sqlite/database.js'
import { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import { loadConfig } from './config.js'
import { Engine, registryDatabasePath } from './engine.js'
import { createLogger } from './logger.js'

export interface DemoOptions {
  readonly mqttPort: number
  readonly httpPort: number
  /** Acknowledge deadlines, short so that escalation shows within a minute. */
  readonly ackDeadlines: string
  /** How old an open alert is when the scripted responder acknowledges it. */
  readonly ackAfterMs: number
  /** A crane reading this often; a lift takes 20–40 readings. */
  readonly craneIntervalMs: number
  readonly say: (line: string) => void
  readonly signal: AbortSignal
}

/**
 * `npm run demo`: an engine with a demo site (two cranes, a foundation pit), simulators playing
 * overload, gusts and an accelerating pit, and a scripted responder that acknowledges what stays
 * open too long, after it has escalated. Everything in this one process; Ctrl-C stops it cleanly.
 */
export async function runDemo(options: DemoOptions): Promise<void> {
  const { say } = options
  const dataDir = mkdtempSync(join(tmpdir(), 'siteward-demo-'))
  const db = openDatabase(registryDatabasePath(dataDir))
  const provisioning = new Provisioning(new RegistryRepository(db))
  await provisioning.addSite({
    id: 'DEMO',
    name: '演示工地 Demo site',
    region: '330106',
    pitGrade: 1,
    pitDepthM: 15,
  })
  const device = async (id: string, kind: 'crane' | 'pit'): Promise<SimulatedDevice> => ({
    id,
    siteId: 'DEMO',
    kind,
    secret: (await provisioning.addDevice({ siteId: 'DEMO', id, kind })).secret,
  })
  const overloadCrane = await device('DEMO-TC1', 'crane')
  const gustCrane = await device('DEMO-TC2', 'crane')
  const pit = await device('DEMO-PIT1', 'pit')
  const admin = (await provisioning.createToken({ role: 'admin', name: 'demo admin' })).token
  const officer = (
    await provisioning.createToken({
      role: 'officer',
      name: '值班安全员 (demo responder)',
      sites: ['DEMO'],
    })
  ).token
  const supervisor = (
    await provisioning.createToken({
      role: 'supervisor',
      name: '项目监理 (demo)',
      sites: ['DEMO'],
    })
  ).token
  const regulator = (await provisioning.createToken({ role: 'regulator', name: '监管部门 (demo)' })).token
  db.close()

  const config = loadConfig({
    ...process.env,
    SITEWARD_DATA_DIR: dataDir,
    SITEWARD_MQTT_PORT: String(options.mqttPort),
    SITEWARD_HTTP_PORT: String(options.httpPort),
    SITEWARD_ACK_DEADLINES: options.ackDeadlines,
    SITEWARD_LOG_LEVEL: 'warn',
  })
  const engine = new Engine(config, createLogger(config.logLevel))
  await engine.start()
  const api = `http://localhost:${engine.httpPort}`
  say(`Siteward demo running.
  console:      ${api}/   sign in with a token below
  API docs:     ${api}/docs
  MQTT:         mqtt://localhost:${engine.mqttPort}
  supervisor:   ${supervisor}   (the board: acknowledge, resolve, close)
  regulator:    ${regulator}   (history, reports, CSV)
  admin token:  ${admin}
  try:          curl -H "Authorization: Bearer ${admin}" ${api}/api/alerts
  Simulating DEMO-TC1 (overload), DEMO-TC2 (wind gusts), DEMO-PIT1 (accelerating pit). Ctrl-C stops.`)

  const simulations = [
    ['overload', overloadCrane],
    ['wind-gust', gustCrane],
    ['pit-acceleration', pit],
  ] as const
  const running = simulations.map(([name, simulated], i) =>
    simulate({
      mqttUrl: `mqtt://127.0.0.1:${engine.mqttPort}`,
      devices: [simulated],
      scenario: scenarioNamed(name) ?? (scenarioNamed('normal') as never),
      durationMs: 24 * 3_600_000,
      craneIntervalMs: options.craneIntervalMs,
      pitIntervalMs: 10_000,
      seed: i + 1,
      signal: options.signal,
    }),
  )
  // 127.0.0.1, not localhost: Node's fetch may try ::1 first, where the engine may not listen.
  const responder = respond(`http://127.0.0.1:${engine.httpPort}`, officer, options)
  await Promise.all([...running, responder])
  await engine.stop()
  rmSync(dataDir, { recursive: true, force: true })
  say('Siteward demo stopped.')
}

/** Watches the alerts as the officer, tells what happens, and acknowledges the slow ones. */
async function respond(api: string, token: string, options: DemoOptions): Promise<void> {
  const seen = new Map<string, { state: string; level: number }>()
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  while (!options.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    try {
      const response = await fetch(`${api}/api/alerts?limit=100`, { headers })
      if (!response.ok) {
        options.say(
          `responder: the API answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
        )
        continue
      }
      const { items } = (await response.json()) as { items: Alert[] }
      for (const alert of items) {
        const before = seen.get(alert.id)
        const value = alert.value === null ? '' : ` ${Number(alert.value.toFixed(2))}`
        const what = `${alert.severity} ${alert.ruleId} on ${alert.deviceId} (${alert.subject}${value})`
        if (before === undefined) options.say(`raised        ${what}`)
        else if (alert.escalationLevel > before.level)
          options.say(`escalated     ${what} to level ${alert.escalationLevel}: not acknowledged in time`)
        seen.set(alert.id, { state: alert.state, level: alert.escalationLevel })
        if (alert.state === 'open' && Date.now() - Date.parse(alert.raisedAt) > options.ackAfterMs) {
          const answer = await fetch(`${api}/api/alerts/${alert.id}/acknowledge`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ note: 'on my way (demo responder)' }),
          })
          if (answer.status === 200) options.say(`acknowledged  ${what} by the demo responder`)
        }
      }
    } catch (error) {
      // Connection refused while the engine stops is expected; anything else is worth a line.
      if (!options.signal.aborted) options.say(`responder: ${(error as Error).message}`)
    }
  }
}

import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect as connectTcp } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { loadConfig } from '../../app/config.js'
import { Engine, registryDatabasePath } from '../../app/engine.js'
import { Provisioning } from '../../domain/provisioning.js'
import type { DeviceKind, Role } from '../../domain/registry.js'
import { openDatabase, type SqliteDatabase } from '../../storage/sqlite/database.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { type LogLine, memoryLogger } from './log-sink.js'

export interface TestEngine {
  readonly engine: Engine
  readonly dataDir: string
  readonly lines: LogLine[]
  readonly mqttUrl: string
  readonly httpUrl: string
  /** Provisioning through a second connection to the same SQLite file, as the CLI does. */
  readonly provisioning: Provisioning
  readonly db: SqliteDatabase
  addDevice(siteId: string, deviceId: string, kind: DeviceKind): Promise<string>
  token(role: Role, scope?: { sites?: string[]; region?: string }): Promise<string>
  restart(): Promise<TestEngine>
  stop(options?: { keepData?: boolean }): Promise<void>
}

export interface TestEngineOptions {
  readonly influxUrl?: string
  readonly influxDatabase?: string
  readonly dataDir?: string
  readonly env?: Record<string, string>
}

/** A real engine on loopback, port 0, with its own data directory and an in-memory log. */
export async function startTestEngine(options: TestEngineOptions = {}): Promise<TestEngine> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'siteward-test-'))
  const env: Record<string, string> = {
    SITEWARD_DATA_DIR: dataDir,
    SITEWARD_MQTT_HOST: '127.0.0.1',
    SITEWARD_MQTT_PORT: '0',
    SITEWARD_HTTP_HOST: '127.0.0.1',
    SITEWARD_HTTP_PORT: '0',
    SITEWARD_WAL_COMMIT_MS: '1',
    ...options.env,
  }
  if (options.influxUrl !== undefined) {
    env.SITEWARD_INFLUX_URL = options.influxUrl
    env.SITEWARD_INFLUX_DB = options.influxDatabase ?? `test_${randomUUID().replace(/-/g, '')}`
  }
  const config = loadConfig(env)
  const { logger, lines } = memoryLogger()
  const engine = new Engine(config, logger)
  await engine.start()
  const db = openDatabase(registryDatabasePath(dataDir))
  const provisioning = new Provisioning(new RegistryRepository(db))
  const self: TestEngine = {
    engine,
    dataDir,
    lines,
    mqttUrl: `mqtt://127.0.0.1:${engine.mqttPort}`,
    httpUrl: `http://127.0.0.1:${engine.httpPort}`,
    provisioning,
    db,
    async addDevice(siteId, deviceId, kind) {
      if ((await new RegistryRepository(db).getSite(siteId)) === undefined)
        await provisioning.addSite({ id: siteId, name: `Site ${siteId}`, region: '330106' })
      return (await provisioning.addDevice({ siteId, id: deviceId, kind })).secret
    },
    async token(role, scope = {}) {
      const issued = await provisioning.createToken({
        role,
        name: `${role}-${randomUUID()}`,
        sites: scope.sites ?? [],
        region: scope.region ?? null,
      })
      return issued.token
    },
    async restart() {
      await self.stop({ keepData: true })
      return startTestEngine({ ...options, dataDir, influxDatabase: env.SITEWARD_INFLUX_DB })
    },
    async stop({ keepData = false } = {}) {
      await engine.stop()
      db.close()
      if (!keepData) rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return self
}

/** Connects as a device (client id = username = device id), resolving on CONNACK. */
export function connectDevice(
  url: string,
  deviceId: string,
  secret: string,
  extra: IClientOptions = {},
): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: deviceId,
    username: deviceId,
    password: secret,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    ...extra,
  })
}

/**
 * Tries to connect and returns the CONNACK refusal code, or 0 when the broker accepted.
 * `localAddress` picks the loopback address to connect from (127.0.0.0/8 all reach the broker).
 */
export async function connackCode(
  url: string,
  options: IClientOptions,
  localAddress?: string,
): Promise<number> {
  const settings: IClientOptions = {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...options,
  }
  const target = new URL(url)
  const client =
    localAddress === undefined
      ? mqtt.connect(url, settings)
      : new mqtt.MqttClient(
          () => connectTcp({ host: target.hostname, port: Number(target.port), localAddress }),
          settings,
        )
  return new Promise((resolve) => {
    client.once('connect', () => {
      client.end(true)
      resolve(0)
    })
    client.once('error', (error) => {
      client.end(true)
      resolve((error as { code?: number }).code ?? -1)
    })
  })
}

/** One sample of the engine's /metrics: `name` with its labels, e.g. `x_total{reason="acl"}`; 0 when absent. */
export async function metricValue(t: TestEngine, name: string): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  return line === undefined ? 0 : Number(line.split(' ').at(-1))
}

export async function waitFor<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<Exclude<NonNullable<T>, false>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== null && value !== false)
      return value as Exclude<NonNullable<T>, false>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

export const nowTs = () => Date.now()

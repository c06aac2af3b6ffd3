import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type ServerResponse } from 'node:http'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Provisioning } from '../../domain/provisioning.js'
import { openDatabase } from '../../storage/sqlite/database.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { connectDevice, waitFor } from '../helpers/engine.js'
import { spawnServe, stopServe } from '../helpers/serve.js'

/** A data folder with one crane and an officer's token, provisioned as the CLI does. */
async function provisioned(prefix: string) {
  const dataDir = mkdtempSync(join(tmpdir(), prefix))
  const db = openDatabase(join(dataDir, 'siteward.db'))
  const provisioning = new Provisioning(new RegistryRepository(db))
  await provisioning.addSite({ id: 'S1', name: 'S1', region: '330106' })
  const secret = (await provisioning.addDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' })).secret
  const token = (await provisioning.createToken({ role: 'officer', name: 'officer', sites: ['S1'] })).token
  db.close()
  return { dataDir, secret, token }
}

async function get(httpPort: number, path: string, token?: string) {
  const response = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })
  return { status: response.status, text: await response.text() }
}

/** Wind of 15 m/s at TC-01's anemometer: over the working limit (force 6 and up). */
async function publishGust(mqttPort: number, secret: string): Promise<void> {
  const client = await connectDevice(`mqtt://127.0.0.1:${mqttPort}`, 'TC-01', secret)
  await client.publishAsync(
    'sites/S1/devices/TC-01/telemetry',
    JSON.stringify({ ts: Date.now(), windMps: 15 }),
    {
      qos: 1,
    },
  )
  await client.endAsync()
}

/** The wind alert (crane.wind_work) of TC-01 as the API lists it, once there. */
function windAlert(httpPort: number, token: string) {
  return waitFor(async () => {
    const { text } = await get(httpPort, '/api/alerts?state=open', token)
    const alerts = (JSON.parse(text) as { items: { ruleId: string; deviceId: string }[] }).items
    return alerts.find((alert) => alert.deviceId === 'TC-01' && alert.ruleId === 'crane.wind_work')
  }, 'the wind alert in the API')
}

describe('siteward serve: the edge, worker and API roles apart (issue 14)', () => {
  const folders: string[] = []
  afterAll(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true })
  })

  it('runs each role in a thread of its own: a breaching reading becomes an alert, every role reports', async () => {
    const { dataDir, secret, token } = await provisioned('siteward-threads-')
    folders.push(dataDir)
    const serve = await spawnServe({ SITEWARD_DATA_DIR: dataDir })
    try {
      await publishGust(serve.mqttPort, secret)
      expect(await windAlert(serve.httpPort, token)).toMatchObject({ deviceId: 'TC-01' })
      const metrics = (await get(serve.httpPort, '/metrics')).text
      for (const part of ['edge', 'worker', 'shipper', 'api'])
        expect(metrics).toContain(`siteward_role_up{role="${part}"} 1`)
      expect(metrics).toMatch(/^siteward_messages_accepted_total 1$/m) // the edge's counter
      // The reading's group commit: counted, and nothing left waiting for one.
      const commits = Number(/^siteward_log_commits_total (\S+)$/m.exec(metrics)?.[1])
      expect(commits).toBeGreaterThanOrEqual(1)
      expect(
        Number(/^siteward_log_committed_records_total (\S+)$/m.exec(metrics)?.[1]),
      ).toBeGreaterThanOrEqual(commits)
      expect(Number(/^siteward_log_commit_seconds_total (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0)
      expect(metrics).toMatch(/^siteward_log_unacknowledged_appends 0$/m)
      expect(metrics).toMatch(/^siteward_log_depth_bytes\{consumer="projector"\} 0$/m) // the worker's gauge
      expect(metrics).toMatch(/^siteward_shipper_lag_seconds \d/m) // the shipper's
      // Each thread's own CPU, read on that thread (/proc/thread-self): one counter per thread.
      const cpu = new Map(
        [...metrics.matchAll(/^siteward_thread_cpu_seconds_total\{role="(\w+)"\} (\S+)$/gm)].map(
          ([, part, seconds]) => [part, Number(seconds)] as const,
        ),
      )
      expect([...cpu.keys()].sort()).toEqual(['api', 'edge', 'shipper', 'worker'])
      for (const seconds of cpu.values()) expect(seconds).toBeGreaterThan(0)
      const ready = JSON.parse((await get(serve.httpPort, '/readyz')).text) as { checks: { name: string }[] }
      expect(ready.checks.map((check) => check.name)).toEqual(['mqtt', 'wal', 'store', 'telemetry'])
      const threads = startedThreads(serve.output())
      expect([...threads.keys()].sort()).toEqual(['api', 'edge', 'shipper', 'worker'])
      expect(new Set(threads.values()).size).toBe(4) // four threads, one process
    } finally {
      await stopServe(serve.child)
    }
    expect(serve.child.exitCode).toBe(0)
  }, 30_000)

  it('raises the alert of a breaching reading while the shipper is stuck far behind (alerts never wait behind telemetry)', async () => {
    const { dataDir, secret, token } = await provisioned('siteward-threads-shipper-')
    folders.push(dataDir)
    // An InfluxDB that answers CREATE DATABASE and pings but holds every write: the shipper
    // takes a batch and waits on it, and everything after it stays in the log.
    const held: ServerResponse[] = []
    const influx = createHttpServer((request, response) => {
      if (request.url?.startsWith('/write') === true) held.push(response)
      else if (request.url?.startsWith('/ping') === true) response.writeHead(204).end()
      else
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"results":[{"statement_id":0}]}')
    })
    await new Promise<void>((resolve) => influx.listen(0, '127.0.0.1', resolve))
    const influxPort = (influx.address() as { port: number }).port
    const serve = await spawnServe({
      SITEWARD_DATA_DIR: dataDir,
      SITEWARD_INFLUX_URL: `http://127.0.0.1:${influxPort}`,
    })
    try {
      const client = await connectDevice(`mqtt://127.0.0.1:${serve.mqttPort}`, 'TC-01', secret)
      // 2,000 calm readings in four messages (a payload is at most 64 KiB).
      for (let batch = 0; batch < 4; batch++) {
        const calm = Array.from({ length: 500 }, (_, i) => ({
          ts: Date.now() - 60_000 + batch * 500 + i,
          windMps: 2,
        }))
        await client.publishAsync('sites/S1/devices/TC-01/telemetry', JSON.stringify(calm), { qos: 1 })
      }
      await waitFor(() => held.length > 0, 'the shipper waiting on a write')
      await client.publishAsync(
        'sites/S1/devices/TC-01/telemetry',
        JSON.stringify({ ts: Date.now(), windMps: 15 }),
        {
          qos: 1,
        },
      )
      await client.endAsync()
      expect(await windAlert(serve.httpPort, token)).toMatchObject({ deviceId: 'TC-01' })
      // The alert is there while the shipper has confirmed nothing: it did not wait for it.
      const metrics = (await get(serve.httpPort, '/metrics')).text
      expect(metrics).toMatch(/^siteward_telemetry_points_written_total 0$/m)
      const shipperDepth = Number(
        /^siteward_log_depth_bytes\{consumer="shipper"\} (\d+)$/m.exec(metrics)?.[1],
      )
      expect(shipperDepth).toBeGreaterThan(0)
      expect(metrics).toMatch(/^siteward_log_depth_bytes\{consumer="projector"\} 0$/m)
      expect(held.length).toBeGreaterThan(0)
    } finally {
      influx.closeAllConnections() // the held writes fail now, so the stop need not wait them out
      influx.close()
      await stopServe(serve.child)
    }
  }, 40_000)

  it('stops every role and exits 1 when one cannot start: no broker left acknowledging readings', async () => {
    const { dataDir } = await provisioned('siteward-threads-fail-')
    folders.push(dataDir)
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const httpPort = (taken.address() as { port: number }).port
    const mqttPort = await freePort()
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts', 'serve'], {
        env: {
          ...process.env,
          SITEWARD_DATA_DIR: dataDir,
          SITEWARD_MQTT_HOST: '127.0.0.1',
          SITEWARD_MQTT_PORT: String(mqttPort),
          SITEWARD_HTTP_HOST: '127.0.0.1',
          SITEWARD_HTTP_PORT: String(httpPort),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
      })
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
      })
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
      expect(code).toBe(1)
      expect(stderr).toMatch(new RegExp(`HTTP.*${httpPort}`))
      expect(stdout).toContain('MQTT broker listening') // the edge had started, and was stopped
      expect(stdout).not.toContain('Siteward ready')
      expect(await refusedAt(mqttPort)).toBe('ECONNREFUSED')
    } finally {
      taken.close()
    }
  }, 30_000)

  it('runs the roles as three processes on one data folder: readings by MQTT and by hand reach the alerts', async () => {
    const { dataDir, secret, token } = await provisioned('siteward-processes-')
    folders.push(dataDir)
    const env = { SITEWARD_DATA_DIR: dataDir }
    const edge = await spawnServe(env, { args: ['--role', 'edge'] })
    const worker = await spawnServe(env, { args: ['--role', 'worker'] })
    const api = await spawnServe(env, { args: ['--role', 'api'] })
    try {
      expect(edge.httpPort).toBe(0)
      expect(api.mqttPort).toBe(0)
      // The worker role's process: the rules and the shipping, each in a thread.
      expect([...startedThreads(worker.output()).keys()].sort()).toEqual(['shipper', 'worker'])
      await publishGust(edge.mqttPort, secret)
      expect(await windAlert(api.httpPort, token)).toMatchObject({ deviceId: 'TC-01' })

      // A reading typed by an officer: filed by the API process, logged by the edge process.
      const response = await fetch(`http://127.0.0.1:${api.httpPort}/api/sites/S1/readings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify([
          { deviceId: 'TC-01', ts: Date.now(), windMps: 3 },
          { deviceId: 'TC-99', ts: 1 },
        ]),
      })
      expect(response.status).toBe(201)
      expect(await response.json()).toMatchObject({
        accepted: 1,
        duplicates: 0,
        rejected: [{ index: 1, reason: expect.stringMatching(/no device TC-99/) }],
      })
      // Alone in its process, the API reports only its own part.
      const ready = JSON.parse((await get(api.httpPort, '/readyz')).text) as { checks: { name: string }[] }
      expect(ready.checks.map((check) => check.name)).toEqual(['store'])
    } finally {
      await stopServe(api.child)
      await stopServe(edge.child)
      await stopServe(worker.child)
    }
    for (const role of [edge, worker, api]) expect(role.child.exitCode).toBe(0)
  }, 40_000)

  it('answers a role it does not know with the usage and exit code 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts', 'serve', '--role', 'broker'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(2)
    expect(stderr).toContain('expected edge, worker or api (got "broker")')
  })
})

/** The thread each part said it started in, from the JSON log lines of `siteward serve`. */
function startedThreads(output: string): Map<string, number> {
  const threads = new Map<string, number>()
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue
    const entry = JSON.parse(line) as { role?: string; threadId?: number; msg: string }
    if (
      entry.msg.endsWith('started in its own thread') &&
      entry.role !== undefined &&
      entry.threadId !== undefined
    )
      threads.set(entry.role, entry.threadId)
  }
  return threads
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The error code of a TCP connection to the port ('' when something accepted it). */
function refusedAt(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve('')
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
  })
}

import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type ServerResponse } from 'node:http'
import { connect as connectTcp, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Provisioning } from '../../domain/provisioning.js'
import { openDatabase } from '../../storage/sqlite/database.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { connackCode, connectDevice, waitFor } from '../helpers/engine.js'
import { spawnServe, stopServe } from '../helpers/serve.js'

describe('graceful shutdown (CONTRACT §1: SIGTERM → flush → exit 0)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'siteward-shutdown-'))
  const hung: ServerResponse[] = []
  // A "telemetry store" that answers everything (the CREATE DATABASE at start) but never a
  // write: the worst case for a flush, a shipper stuck in a write when SIGTERM comes.
  const blackhole = createServer((request, response) => {
    if (request.url?.startsWith('/write') === true) hung.push(response)
    else
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}')
  })
  afterAll(() => {
    blackhole.closeAllConnections()
    blackhole.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('exits 0 within 10 s even with a telemetry store that hangs, and keeps what it could not ship', async () => {
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve))
    const address = blackhole.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    const db = openDatabase(join(dataDir, 'siteward.db'))
    const provisioning = new Provisioning(new RegistryRepository(db))
    await provisioning.addSite({ id: 'S1', name: 'S1', region: '330106' })
    const secret = (await provisioning.addDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' })).secret
    const token = (await provisioning.createToken({ role: 'admin', name: 'test' })).token
    db.close()

    const first = await spawnServe({
      SITEWARD_DATA_DIR: dataDir,
      SITEWARD_INFLUX_URL: `http://127.0.0.1:${port}`,
    })
    let output = ''
    first.child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const client = await connectDevice(`mqtt://127.0.0.1:${first.mqttPort}`, 'TC-01', secret)
    const base = Date.now() - 60_000
    for (let i = 0; i < 50; i++)
      await client.publishAsync(
        'sites/S1/devices/TC-01/telemetry',
        JSON.stringify({ ts: base + i, loadT: i }),
        {
          qos: 1,
        },
      )
    await waitFor(() => hung.length > 0, 'the shipper stuck in a write')
    client.end(true)

    const started = Date.now()
    const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)))
    first.child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(output).toContain('shutdown deadline reached')

    // Nothing was lost: the next start (embedded store this time) ships all 50 from the log.
    const second = await spawnServe({ SITEWARD_DATA_DIR: dataDir })
    try {
      const from = new Date(base - 1).toISOString()
      const points = await waitFor(async () => {
        const url = `http://127.0.0.1:${second.httpPort}/api/devices/TC-01/telemetry?metric=loadT&from=${from}`
        const body = (await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          series: { points: { value: number }[] }[]
        }
        const found = body.series[0]?.points ?? []
        return found.length >= 50 && found
      }, 'the 50 readings after the restart')
      expect(points.map((p) => p.value)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    } finally {
      await stopServe(second.child)
    }
  }, 40_000)

  it('exits 0 within 10 s while guessers wait for held answers, idle sockets and an alert stream stay open', async () => {
    const own = mkdtempSync(join(tmpdir(), 'siteward-shutdown-hostile-'))
    const db = openDatabase(join(own, 'siteward.db'))
    const provisioning = new Provisioning(new RegistryRepository(db))
    await provisioning.addSite({ id: 'S1', name: 'S1', region: '330106' })
    await provisioning.addDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' })
    const token = (await provisioning.createToken({ role: 'admin', name: 'test' })).token
    db.close()
    const serve = await spawnServe({ SITEWARD_DATA_DIR: own })
    let output = ''
    serve.child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const open: Socket[] = []
    try {
      // Wrong secrets and tokens: after the first five, their answers are held for seconds.
      const guesses = Array.from({ length: 15 }, (_, i) =>
        connackCode(`mqtt://127.0.0.1:${serve.mqttPort}`, {
          clientId: 'TC-01',
          username: 'TC-01',
          password: `no-${i}`,
        }),
      )
      const tokens = Array.from({ length: 15 }, (_, i) =>
        fetch(`http://127.0.0.1:${serve.httpPort}/api/sites`, {
          headers: { authorization: `Bearer guess-${i}` },
        }).catch(() => undefined),
      )
      for (let i = 0; i < 20; i++)
        open.push(connectTcp(serve.mqttPort, '127.0.0.1').on('error', () => undefined))
      const stream = fetch(
        `http://127.0.0.1:${serve.httpPort}/api/alerts/stream?access_token=${token}`,
      ).catch(() => undefined)
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      const started = Date.now()
      await stopServe(serve.child)
      expect(serve.child.exitCode).toBe(0)
      expect(Date.now() - started).toBeLessThan(10_000)
      expect(output).not.toContain('still holding handles')
      void Promise.allSettled([...guesses, ...tokens, stream])
    } finally {
      for (const socket of open) socket.destroy()
      rmSync(own, { recursive: true, force: true })
    }
  }, 30_000)
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Provisioning } from '../../domain/provisioning.js'
import { openDatabase } from '../../storage/sqlite/database.js'
import { RegistryRepository } from '../../storage/sqlite/registry-repository.js'
import { connectDevice, waitFor } from '../helpers/engine.js'
import { spawnServe, stopServe } from '../helpers/serve.js'

const serve = (dataDir: string) => spawnServe({ SITEWARD_DATA_DIR: dataDir })

describe('a PUBACK means durable (CONTRACT §2)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'siteward-crash-'))
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('keeps every acknowledged reading when the engine is killed with SIGKILL right after the PUBACKs', async () => {
    const db = openDatabase(join(dataDir, 'siteward.db'))
    const provisioning = new Provisioning(new RegistryRepository(db))
    provisioning.addSite({ id: 'S1', name: 'S1', region: '330106' })
    const secret = provisioning.addDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' }).secret
    const token = provisioning.createToken({ role: 'admin', name: 'test' }).token
    db.close()

    const first = await serve(dataDir)
    const client = await connectDevice(`mqtt://127.0.0.1:${first.mqttPort}`, 'TC-01', secret)
    const base = Date.now() - 10 * 60_000
    const count = 500
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        client.publishAsync(
          'sites/S1/devices/TC-01/telemetry',
          JSON.stringify({ ts: base + i, seq: i, loadT: i }),
          { qos: 1 },
        ),
      ),
    )
    first.child.kill('SIGKILL') // no flush, no shutdown: only what is on disk survives
    await new Promise((resolve) => first.child.once('exit', resolve))
    client.end(true)

    const second = await serve(dataDir)
    try {
      const points = await waitFor(async () => {
        const url = `http://127.0.0.1:${second.httpPort}/api/devices/TC-01/telemetry?metric=loadT&from=${new Date(base - 1).toISOString()}&limit=10000`
        const body = (await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          series: { points: { value: number }[] }[]
        }
        const found = body.series[0]?.points ?? []
        return found.length >= count && found
      }, 'every acknowledged reading after the restart')
      expect(points.map((p) => p.value)).toEqual(Array.from({ length: count }, (_, i) => i))
      const device = (await (
        await fetch(`http://127.0.0.1:${second.httpPort}/api/devices/TC-01`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json()) as { acceptedCount: number }
      expect(device.acceptedCount).toBe(count)
    } finally {
      await stopServe(second.child)
    }
  })
})

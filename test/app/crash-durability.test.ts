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

/** A site S1 with crane TC-01 and an admin token, in a data folder no engine runs on yet. */
async function provision(dataDir: string): Promise<{ secret: string; token: string }> {
  const db = openDatabase(join(dataDir, 'siteward.db'))
  const provisioning = new Provisioning(new RegistryRepository(db))
  await provisioning.addSite({ id: 'S1', name: 'S1', region: '330106' })
  const secret = (await provisioning.addDevice({ siteId: 'S1', id: 'TC-01', kind: 'crane' })).secret
  const token = (await provisioning.createToken({ role: 'admin', name: 'test' })).token
  db.close()
  return { secret, token }
}

describe('a PUBACK means durable (CONTRACT §2)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'siteward-crash-'))
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('keeps every acknowledged reading when the engine is killed with SIGKILL right after the PUBACKs', async () => {
    const { secret, token } = await provision(dataDir)

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

  it('knows resends after a SIGKILL that came before the delivery memory was saved (it is saved every 10 s)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siteward-crash-resend-'))
    try {
      const { secret, token } = await provision(dir)
      const base = Date.now() - 10 * 60_000
      const count = 200
      const sendAll = async (mqttPort: number) => {
        const client = await connectDevice(`mqtt://127.0.0.1:${mqttPort}`, 'TC-01', secret)
        for (let i = 0; i < count; i++)
          await client.publishAsync(
            'sites/S1/devices/TC-01/telemetry',
            JSON.stringify({ ts: base + i, seq: i, loadT: i }),
            { qos: 1 },
          )
        client.end(true)
      }
      const deviceOf = async (httpPort: number) =>
        (await (
          await fetch(`http://127.0.0.1:${httpPort}/api/devices/TC-01`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).json()) as { acceptedCount: number; duplicateCount: number }

      const first = await serve(dir)
      await sendAll(first.mqttPort)
      // Projected and counted, well inside the 10 s before the memory is first saved.
      await waitFor(async () => (await deviceOf(first.httpPort)).acceptedCount === count, 'all projected')
      first.child.kill('SIGKILL')
      await new Promise((resolve) => first.child.once('exit', resolve))

      const second = await serve(dir)
      try {
        await sendAll(second.mqttPort) // the same 200 objects again: a device replaying its buffer
        const device = await waitFor(async () => {
          const now = await deviceOf(second.httpPort)
          return now.duplicateCount + now.acceptedCount >= 2 * count && now
        }, 'the resends counted')
        expect(device).toMatchObject({ acceptedCount: count, duplicateCount: count })
      } finally {
        await stopServe(second.child)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

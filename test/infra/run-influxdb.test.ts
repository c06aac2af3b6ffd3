import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { InfluxTelemetryStore } from '../../storage/influx/influx-telemetry-store.js'
import { freePort } from '../helpers/influxd.js'
import { memoryLogger } from '../helpers/log-sink.js'

const script = join(import.meta.dirname, '..', '..', 'infra', 'run-influxdb.sh')
const skipReason = inject('influxSkipReason')

describe('infra/run-influxdb.sh: usage', () => {
  it('prints its help with exit 0 and refuses extra arguments or unknown options with exit 2', () => {
    const help = spawnSync(script, ['--help'], { encoding: 'utf8' })
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('usage: infra/run-influxdb.sh [DIR]')
    const extra = spawnSync(script, ['one', 'two'], { encoding: 'utf8' })
    expect(extra.status).toBe(2)
    expect(extra.stderr).toContain('one folder at most')
    const option = spawnSync(script, ['--port'], { encoding: 'utf8' })
    expect(option.status).toBe(2)
    expect(option.stderr).toContain('unknown option --port')
    const port = spawnSync(script, [], { encoding: 'utf8', env: { ...process.env, INFLUX_HTTP_PORT: 'x1' } })
    expect(port.status).toBe(2)
    expect(port.stderr).toContain("port must be a number, got 'x1'")
  })
})

describe.skipIf(skipReason !== '' || process.env.SITEWARD_TEST_INFLUX_URL !== undefined)(
  `infra/run-influxdb.sh: a real influxd${skipReason === '' ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'siteward run influxdb & co-'))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it('runs influxd with its data in the folder given, and Siteward writes to it', async () => {
      const httpPort = await freePort()
      const rpcPort = await freePort()
      const child = spawn(script, [dir], {
        env: { ...process.env, INFLUX_HTTP_PORT: String(httpPort), INFLUX_RPC_PORT: String(rpcPort) },
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
      })
      try {
        const url = `http://127.0.0.1:${httpPort}`
        const deadline = Date.now() + 20_000
        while (
          (await fetch(`${url}/ping`).then(
            (r) => r.status,
            () => 0,
          )) !== 204
        ) {
          if (child.exitCode !== null || Date.now() > deadline)
            throw new Error(`influxd did not start: ${stderr}`)
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
        // The placeholders were filled in, the folder (with a space and an ampersand) kept as given.
        const config = readFileSync(join(dir, 'influxdb.conf'), 'utf8')
        expect(config).not.toMatch(/@[A-Z_]+@/)
        expect(config).toContain(`dir = "${dir}/data"`)
        expect(stderr).toContain(`data in ${dir}`)

        const store = new InfluxTelemetryStore(
          { url, database: 'siteward', credentials: { kind: 'none' } },
          memoryLogger().logger,
        )
        await store.start()
        await store.write([
          {
            measurement: 'crane',
            tags: { site: 'S1', device: 'TC-1' },
            fields: { loadT: 2.5 },
            ts: Date.now(),
          },
        ])
        const answer = (await (
          await fetch(`${url}/query?db=siteward&q=${encodeURIComponent('SELECT loadT FROM crane')}`)
        ).json()) as { results: { series?: { values: unknown[][] }[] }[] }
        expect(answer.results[0]?.series?.[0]?.values[0]?.[1]).toBe(2.5)
        await store.stop()
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      // exec: the script became influxd, so the one PID stopped the server.
      expect(child.signalCode === 'SIGTERM' || child.exitCode === 0).toBe(true)
    })
  },
)

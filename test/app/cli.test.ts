import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connackCode, connectDevice, waitFor } from '../helpers/engine.js'

const exec = promisify(execFile)
const entry = ['--import', 'tsx', 'app/main.ts']

async function siteward(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [...entry, ...args], {
      env: { ...process.env, ...env },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

describe('siteward CLI (CONTRACT §1)', () => {
  let dataDir: string
  let env: Record<string, string>

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'siteward-cli-'))
    env = { SITEWARD_DATA_DIR: dataDir }
  })
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('prints help for the program and each command', async () => {
    const main = await siteward(['--help'])
    expect(main.code).toBe(0)
    for (const command of ['serve', 'site add', 'device add', 'token create'])
      expect(main.stdout).toContain(command)
    for (const [args, text] of [
      [['site', 'add', '--help'], '--pit-grade'],
      [['device', '--help'], '--kind crane|pit'],
      [['token', 'create', '--help'], '--region'],
      [['serve', '--help'], 'SIGTERM'],
    ] as const) {
      const result = await siteward([...args])
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(text)
    }
  })

  it.each([
    [['launch'], /unknown command "launch"/],
    [['device', 'add', '--site', 'S1', '--id', 'D1'], /--kind is required/],
    [
      ['site', 'add', '--id', 'S1', '--name', 'x', '--region', '330106', '--pit-grade', 'deep'],
      /--pit-grade must be a number/,
    ],
    [['site', 'add', '--id', 'S1', '--name', 'x', '--region', '330106', '--pit-grade', '4'], /--pit-grade: /],
    [['site', 'add', '--id', 'S1', '--colour', 'red'], /Unknown option '--colour'/],
    [
      ['token', 'create', '--role', 'officer', '--name', 'x'],
      /--site: officer tokens need at least one site/,
    ],
    [['token', 'create', '--role', 'king', '--name', 'x'], /--role: /],
    [[], /^siteward: error: no command given$/],
    [
      ['site', 'add', '--id', 'S1', '--name', 'x', '--region', 'abc'],
      /--region: expected a 6-digit administrative division code/,
    ],
    [
      ['site', 'add', '--id', 'S1', '--name', 'x', '--region', '330106', '--pit-depth-m=-3'],
      /--pit-depth-m: /,
    ],
    [['simulate', '--bogus'], /Unknown option '--bogus'/],
    [
      ['simulate', '--cranes=-3', '--api-url', 'http://127.0.0.1:9', '--admin-token', 'x'],
      /--cranes: expected a whole number/,
    ],
    [['simulate', '--duration', '5y', '--devices-file', 'x.json'], /--duration: expected a duration/],
    [['simulate', '--api-url', 'nope', '--admin-token', 'x'], /--api-url: expected a URL/],
  ])('fails with one clear line and a non-zero exit for %j', async (args, message) => {
    const result = await siteward([...args], env)
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')[0]).toMatch(message)
    expect(result.stderr).toMatch(/^siteward: error: /)
    expect(result.stdout).toBe('')
  })

  it('sets a site model and device settings, and lists the rules in force with what they still need', async () => {
    const own = { SITEWARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'siteward-cli-rules-')) }
    try {
      const site = await siteward(
        ['site', 'add', '--id', 'K1', '--name', '基坑', '--region', '330106', '--pit-grade', '2'],
        own,
      )
      expect(site.code).toBe(0)
      const updated = await siteward(
        [
          ...['site', 'add', '--id', 'K1', '--name', '基坑', '--region', '330106'],
          ...['--support-type', 'soil_nailing', '--base-slab-cast', 'true', '--rock-socketed', 'false'],
        ],
        own,
      )
      expect(JSON.parse(updated.stdout)).toMatchObject({
        pitGrade: 2, // kept when not given
        supportType: 'soil_nailing',
        baseSlabCast: true,
        rockSocketed: false,
      })
      expect(
        (await siteward(['device', 'add', '--site', 'K1', '--id', 'TC-9', '--kind', 'crane'], own)).code,
      ).toBe(0)
      const set = await siteward(
        [
          'device',
          'set',
          '--id',
          'TC-9',
          '--hook-height-max-m',
          '60',
          '--forbidden-slew',
          '30-60',
          '--expected-interval',
          '1m',
        ],
        own,
      )
      expect(JSON.parse(set.stdout)).toMatchObject({
        settings: {
          hookHeightMaxM: 60,
          forbiddenSlewSectors: [{ fromDeg: 30, toDeg: 60 }],
          expectedIntervalMs: 60_000,
        },
      })
      const list = await siteward(['rule', 'list', '--device', 'TC-9'], own)
      expect(list.code).toBe(0)
      const line = (rule: string) => list.stdout.split('\n').find((l) => l.startsWith(`${rule} `)) ?? ''
      expect(line('crane.hook_height')).toMatch(/warning 58 · alarm 60 m\s+crane setting hookHeightMaxM: 60/)
      expect(line('crane.radius_max')).toContain("NEEDS the crane's radiusMaxM (device set --radius-max-m)")
      expect(line('crane.tilt')).toContain('UNCONFIRMED')
      expect(list.stdout).not.toContain('pit.')
      // The site's soil-nailing row and the base slab: 3 mm/d × 0.7 at grade 2 → 4 × 0.7 = 2.8.
      const json = await siteward(['rule', 'list', '--site', 'K1', '--json'], own)
      const rows = JSON.parse(json.stdout) as { ruleId: string; levels: { alarm?: number }; origin: string }[]
      expect(rows.find((r) => r.ruleId === 'pit.wall_top_horizontal.rate')).toMatchObject({
        levels: { alarm: 2.8 },
        origin: 'grade 2 (soil_nailing): 4 per day × 0.7 after the base slab = 2.8',
      })
      // A site override reads as one, not as the site's over itself.
      await siteward(['rule', 'set', '--site', 'K1', '--rule', 'crane.moment', '--warning', '85'], own)
      const listed = JSON.parse(
        (await siteward(['rule', 'list', '--site', 'K1', '--json'], own)).stdout,
      ) as typeof rows
      expect(listed.find((r) => r.ruleId === 'crane.moment')).toMatchObject({
        levels: { warning: 85, alarm: 100 },
        origin: expect.stringMatching(
          /^site override by cli, \d{4}-\d\d-\d\d \d\d:\d\d UTC \(over rule default\)$/,
        ),
      })
      const bad = await siteward(['device', 'set', '--id', 'TC-9', '--radius-min-m=-3'], own)
      expect(bad.code).toBe(2)
      expect(bad.stderr).toMatch(/^siteward: error: --radius-min-m: /)
    } finally {
      rmSync(own.SITEWARD_DATA_DIR, { recursive: true, force: true })
    }
  })

  it('names the API and the cause when simulate cannot reach it, and exits 1', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve)) // nothing listens there now
    const url = `http://127.0.0.1:${port}`
    const result = await siteward(['simulate', '--api-url', url, '--admin-token', 'x'], env)
    expect(result.code).toBe(1)
    expect(result.stderr.trim()).toBe(`siteward: error: cannot reach the API at ${url}: ECONNREFUSED`)
  })

  it.each([
    ['HTTP', 'SITEWARD_HTTP_PORT'],
    ['MQTT', 'SITEWARD_MQTT_PORT'],
  ])(
    'stops with exit 1 and one line when the %s port is taken, instead of running half',
    async (listener, variable) => {
      const holder = createServer()
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
      const port = (holder.address() as AddressInfo).port
      const own = mkdtempSync(join(tmpdir(), 'siteward-port-'))
      try {
        const started = Date.now()
        const result = await siteward(['serve'], {
          SITEWARD_DATA_DIR: own,
          SITEWARD_MQTT_HOST: '127.0.0.1',
          SITEWARD_HTTP_HOST: '127.0.0.1',
          SITEWARD_MQTT_PORT: '0',
          SITEWARD_HTTP_PORT: '0',
          [variable]: String(port),
        })
        expect(result.code).toBe(1)
        expect(result.stderr.trim()).toBe(
          `siteward: error: cannot listen for ${listener} on 127.0.0.1:${port}: the port is in use (another Siteward, or another program); set ${variable} to a free port`,
        )
        expect(Date.now() - started).toBeLessThan(10_000)
      } finally {
        holder.close()
        rmSync(own, { recursive: true, force: true })
      }
    },
  )

  it('stops start-up on invalid configuration, listing every problem as path: message', async () => {
    const result = await siteward(['serve'], {
      SITEWARD_MQTT_PORT: '99999',
      SITEWARD_LOG_LEVEL: 'loud',
      SITEWARD_INFLUX_USERNAME: 'u',
    })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('SITEWARD_MQTT_PORT: ')
    expect(result.stderr).toContain('SITEWARD_LOG_LEVEL: ')
    expect(result.stderr).toContain(
      'SITEWARD_INFLUX_PASSWORD: SITEWARD_INFLUX_USERNAME and SITEWARD_INFLUX_PASSWORD go together',
    )
  })

  describe('while serve runs', () => {
    let server: ChildProcess
    let output = ''
    let ports = { mqtt: 0, http: 0 }

    beforeAll(async () => {
      server = spawn(process.execPath, [...entry, 'serve'], {
        env: {
          ...process.env,
          ...env,
          SITEWARD_MQTT_HOST: '127.0.0.1',
          SITEWARD_MQTT_PORT: '0',
          SITEWARD_HTTP_HOST: '127.0.0.1',
          SITEWARD_HTTP_PORT: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      server.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
      })
      const ready = await waitFor(
        () => output.split('\n').find((line) => line.includes('Siteward ready')),
        'serve to be ready',
        20_000,
      )
      const parsed = JSON.parse(ready) as { mqttPort: number; httpPort: number }
      ports = { mqtt: parsed.mqttPort, http: parsed.httpPort }
    })
    afterAll(() => {
      if (server.exitCode === null) server.kill('SIGKILL')
    })

    it('provisions a site, a device and a token that the running engine honours at once', async () => {
      const site = await siteward(
        [
          'site',
          'add',
          '--id',
          'S1',
          '--name',
          '西湖工地',
          '--region',
          '330106',
          '--pit-grade',
          '1',
          '--pit-depth-m',
          '15',
        ],
        env,
      )
      expect(site.code).toBe(0)
      expect(JSON.parse(site.stdout)).toMatchObject({
        id: 'S1',
        name: '西湖工地',
        region: '330106',
        pitGrade: 1,
        pitDepthM: 15,
      })

      const device = await siteward(
        ['device', 'add', '--site', 'S1', '--id', 'TC-01', '--kind', 'crane', '--name', 'North crane'],
        env,
      )
      expect(device.code).toBe(0)
      const created = JSON.parse(device.stdout) as {
        siteId: string
        deviceId: string
        kind: string
        secret: string
      }
      expect(created).toEqual({
        siteId: 'S1',
        deviceId: 'TC-01',
        kind: 'crane',
        secret: expect.stringMatching(/^\S{20,}$/),
      })
      const client = await connectDevice(`mqtt://127.0.0.1:${ports.mqtt}`, 'TC-01', created.secret)
      await client.publishAsync(
        'sites/S1/devices/TC-01/telemetry',
        JSON.stringify({ ts: Date.now(), loadT: 1 }),
        { qos: 1 },
      )
      await client.endAsync()

      const token = await siteward(
        ['token', 'create', '--role', 'officer', '--name', 'Officer Li', '--site', 'S1'],
        env,
      )
      expect(token.code).toBe(0)
      const issued = JSON.parse(token.stdout) as { token: string; role: string; sites: string[] }
      expect(issued).toMatchObject({ role: 'officer', sites: ['S1'] })
      const seen = await waitFor(async () => {
        const response = await fetch(`http://127.0.0.1:${ports.http}/api/devices/TC-01`, {
          headers: { authorization: `Bearer ${issued.token}` },
        })
        const body = (await response.json()) as { acceptedCount?: number }
        return response.status === 200 && body.acceptedCount === 1 && body
      }, 'the device as the officer sees it')
      expect(seen).toMatchObject({ id: 'TC-01', name: 'North crane' })
    })

    it('lists and revokes tokens, disables a device and gives it a new secret, honoured by the running engine', async () => {
      const issued = JSON.parse(
        (await siteward(['token', 'create', '--role', 'regulator', '--name', 'City'], env)).stdout,
      ) as { id: string; token: string }
      const listed = await siteward(['token', 'list'], env)
      expect(listed.code).toBe(0)
      expect(listed.stdout).toMatch(
        new RegExp(`${issued.id}\\s+regulator\\s+City\\s+\\(region everywhere\\).* active`),
      )
      expect(listed.stdout).not.toContain(issued.token)
      const revoked = await siteward(['token', 'revoke', '--id', issued.id], env)
      expect(JSON.parse(revoked.stdout)).toMatchObject({ id: issued.id, revokedAt: expect.any(String) })
      const refused = await fetch(`http://127.0.0.1:${ports.http}/api/sites`, {
        headers: { authorization: `Bearer ${issued.token}` },
      })
      expect(refused.status).toBe(401)

      const disabled = await siteward(['device', 'disable', '--id', 'TC-01'], env)
      expect(JSON.parse(disabled.stdout)).toMatchObject({ id: 'TC-01', disabledAt: expect.any(String) })
      const rotated = JSON.parse(
        (await siteward(['device', 'rotate-secret', '--id', 'TC-01'], env)).stdout,
      ) as {
        secret: string
      }
      const url = `mqtt://127.0.0.1:${ports.mqtt}`
      const login = { clientId: 'TC-01', username: 'TC-01', password: rotated.secret }
      expect(await connackCode(url, login)).toBe(5) // still disabled
      expect((await siteward(['device', 'enable', '--id', 'TC-01'], env)).code).toBe(0)
      expect(await connackCode(url, login)).toBe(0)
      const missing = await siteward(['token', 'revoke', '--id', 'nope'], env)
      expect(missing.code).toBe(1)
      expect(missing.stderr).toMatch(/no token nope/)
    })

    it('stops cleanly on SIGTERM and exits 0', async () => {
      const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)))
      server.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(output).toContain('"msg":"engine stopped"')
    })
  })
})

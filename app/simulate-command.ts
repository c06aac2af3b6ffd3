import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { scenarioNamed, scenarios } from '../simulators/scenarios.js'
import { type SimulatedDevice, simulate } from '../simulators/simulator.js'
import { UsageError } from './cli-args.js'

export const simulateHelp = `Usage: siteward simulate [--scenario NAME] [--duration 60s] [--cranes 2] [--pits 1]
                         (--devices-file FILE | --api-url URL --admin-token TOKEN [--site S] [--sites 1])
                         [--mqtt-url mqtt://127.0.0.1:1883] [--rate N | --crane-interval 1s --pit-interval 5m]
                         [--time-scale 1] [--seed 1]
       siteward simulate --list

Simulated cranes and pit monitors publish to the broker over MQTT, like real devices. Devices
come from a JSON file ([{"id","siteId","kind","secret"}]) or are provisioned through the admin
API (site S, default SIM, created when missing; --sites N makes S, S-2 … S-N, each with
--cranes cranes and --pits pits). A progress line shows messages sent, acked,
the rate and errors; a summary is printed as JSON at the end.
  --scenario        ${scenarios.map((s) => s.name).join(', ')}
  --rate            telemetry messages per second from all devices together (each device sends
                    every devices/N seconds); instead of the per-kind intervals
  --time-scale      run the scenario's timings (outage, silence, reconnects) this many times faster
  --list            describe every scenario`

const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }
function duration(text: string, name: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text)
  if (match === null)
    throw new UsageError(`--${name}: expected a duration such as 500ms, 30s, 5m or 1h, got "${text}"`)
  return Number(match[1]) * (units[match[2] as string] as number)
}

function positive(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined
  const value = Number(text)
  if (!(value > 0)) throw new UsageError(`--${name}: expected a number above 0, got "${text}"`)
  return value
}

function count(text: string, name: string): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < 0 || value > 100_000)
    throw new UsageError(`--${name}: expected a whole number from 0 to 100000, got "${text}"`)
  return value
}

/** parseArgs' own errors (an unknown option, a missing value) are usage errors: exit 2. */
function parseOptions(args: readonly string[]) {
  try {
    return parseArgs({ args: [...args], strict: true, options: simulateOptions }).values
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (try: siteward simulate --help)`)
  }
}

function readDevicesFile(path: string): SimulatedDevice[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(
      `--devices-file: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    )
  }
  try {
    const devices = JSON.parse(text) as unknown
    if (!Array.isArray(devices)) throw new Error('expected an array of {"id","siteId","kind","secret"}')
    return devices as SimulatedDevice[]
  } catch (error) {
    throw new UsageError(`--devices-file: ${path} is not a device list: ${(error as Error).message}`)
  }
}

const simulateOptions = {
  help: { type: 'boolean', short: 'h' },
  list: { type: 'boolean' },
  scenario: { type: 'string', default: 'normal' },
  duration: { type: 'string', default: '60s' },
  cranes: { type: 'string', default: '2' },
  pits: { type: 'string', default: '1' },
  'devices-file': { type: 'string' },
  'api-url': { type: 'string' },
  'admin-token': { type: 'string' },
  site: { type: 'string', default: 'SIM' },
  sites: { type: 'string', default: '1' },
  'mqtt-url': { type: 'string', default: `mqtt://127.0.0.1:${process.env.SITEWARD_MQTT_PORT ?? 1883}` },
  'crane-interval': { type: 'string', default: '1s' },
  'pit-interval': { type: 'string', default: '5m' },
  rate: { type: 'string' },
  'time-scale': { type: 'string', default: '1' },
  seed: { type: 'string', default: '1' },
} as const

/** `siteward simulate`: returns the exit code. */
export async function runSimulate(args: readonly string[], out: (line: string) => void): Promise<number> {
  const values = parseOptions(args)
  if (values.help === true) {
    out(simulateHelp)
    return 0
  }
  if (values.list === true) {
    for (const scenario of scenarios) out(`${scenario.name.padEnd(22)} ${scenario.description}`)
    return 0
  }
  const scenario = scenarioNamed(values.scenario)
  if (scenario === undefined)
    throw new UsageError(
      `--scenario: no scenario "${values.scenario}" (${scenarios.map((s) => s.name).join(', ')})`,
    )
  const rate = positive(values.rate, 'rate')
  const timeScale = positive(values['time-scale'], 'time-scale') ?? 1
  const durationMs = duration(values.duration, 'duration')
  const intervals = {
    crane: duration(values['crane-interval'], 'crane-interval'),
    pit: duration(values['pit-interval'], 'pit-interval'),
  }
  const seed = count(values.seed, 'seed')
  const devices =
    values['devices-file'] !== undefined
      ? readDevicesFile(values['devices-file'])
      : await provision({
          apiUrl: values['api-url'],
          token: values['admin-token'],
          siteId: values.site,
          sites: positive(values.sites, 'sites') ?? 1,
          cranes: count(values.cranes, 'cranes'),
          pits: count(values.pits, 'pits'),
        })
  // --rate N: every device sends every devices/N seconds, so together they send N a second.
  const perDeviceMs =
    rate === undefined ? undefined : Math.max(1, Math.round((devices.length / rate) * 1_000))
  const say = (text: string) => process.stderr.write(text)
  say(
    `[simulate] ${scenario.name}: ${scenario.description}; ${devices.length} devices for ${values.duration}\n`,
  )
  let last = 0
  const summary = await simulate({
    mqttUrl: values['mqtt-url'],
    devices,
    scenario,
    durationMs,
    craneIntervalMs: perDeviceMs ?? intervals.crane,
    pitIntervalMs: perDeviceMs ?? intervals.pit,
    seed,
    timeScale,
    onProgress: (p) => {
      const rate = (p.sent - last) / 1
      last = p.sent
      say(
        `\r[simulate] ${Math.round(p.elapsedMs / 1000)} s · sent ${p.sent} · acked ${p.acked} · ${rate.toFixed(0)} msg/s · errors ${p.errors} · buffered ${p.buffered}   `,
      )
    },
  })
  say('\n')
  out(JSON.stringify({ scenario: scenario.name, devices: devices.map((d) => d.id), ...summary }))
  const unacknowledged = summary.sent - summary.acked - summary.errors
  if (unacknowledged > 0)
    say(`[simulate] ${unacknowledged} messages were still waiting for a PUBACK after 10 s\n`)
  return summary.errors === 0 && unacknowledged === 0 ? 0 : 1
}

/** Creates the site (when missing) and fresh devices through the admin API; returns their secrets. */
async function provision(options: {
  apiUrl: string | undefined
  token: string | undefined
  siteId: string
  sites: number
  cranes: number
  pits: number
}): Promise<SimulatedDevice[]> {
  const { apiUrl, token } = options
  if (apiUrl === undefined || token === undefined)
    throw new UsageError('give --devices-file, or --api-url and --admin-token to provision simulated devices')
  let base: URL
  try {
    base = new URL(apiUrl)
  } catch {
    throw new UsageError(`--api-url: expected a URL such as http://127.0.0.1:8080, got "${apiUrl}"`)
  }
  const call = async (method: string, path: string, body?: unknown) => {
    let response: Response
    try {
      response = await fetch(new URL(path, base), {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch (error) {
      // fetch says only "fetch failed"; the cause (ECONNREFUSED, ENOTFOUND) is what helps.
      const cause = (error as { cause?: { code?: string; message?: string } }).cause
      throw new Error(
        `cannot reach the API at ${base.origin}: ${cause?.code ?? cause?.message ?? String(error)}`,
      )
    }
    if (response.status === 401) throw new Error(`the API at ${base.origin} refused --admin-token (401)`)
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }
  // --sites N: S, S-2 … S-N, each with the same cranes and pits.
  const siteIds = Array.from({ length: options.sites }, (_, i) =>
    i === 0 ? options.siteId : `${options.siteId}-${i + 1}`,
  )
  // Fresh ids each run: a device's secret is shown only once, at creation.
  const run = randomBytes(3).toString('hex')
  const devices: SimulatedDevice[] = []
  for (const siteId of siteIds) {
    const site = await call('GET', `/api/sites/${siteId}`)
    if (site.status === 404) {
      const created = await call('POST', '/api/sites', {
        id: siteId,
        name: `Simulated site ${siteId}`,
        region: '330106',
        pitGrade: 1,
        pitDepthM: 15,
      })
      if (created.status >= 300) throw new Error(`creating site ${siteId}: ${JSON.stringify(created.body)}`)
    } else if (site.status !== 200) throw new Error(`reading site ${siteId}: ${JSON.stringify(site.body)}`)
    const plan = [
      ...Array.from({ length: options.cranes }, (_, i) => ({
        kind: 'crane' as const,
        id: `${siteId}-TC${i + 1}-${run}`,
      })),
      ...Array.from({ length: options.pits }, (_, i) => ({
        kind: 'pit' as const,
        id: `${siteId}-PIT${i + 1}-${run}`,
      })),
    ]
    for (const { kind, id } of plan) {
      const created = await call('POST', '/api/devices', { siteId, id, kind })
      if (created.status >= 300) throw new Error(`creating device ${id}: ${JSON.stringify(created.body)}`)
      devices.push({ id, siteId, kind, secret: created.body.secret as string })
    }
  }
  return devices
}

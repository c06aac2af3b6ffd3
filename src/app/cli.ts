import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ZodError } from 'zod'
import { isSitewardError } from '../domain/errors.js'
import { formatIssues } from '../domain/issues.js'
import { Provisioning } from '../domain/provisioning.js'
import type { Principal } from '../domain/registry.js'
import { openDatabase, type SqliteDatabase } from '../storage/sqlite/database.js'
import { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import { SettingsRepository } from '../storage/sqlite/settings-repository.js'
import { loadRuleCatalogue } from './rule-catalogue.js'
import { SettingsService } from './settings-service.js'

/** Whoever runs the CLI has the data directory, so an admin's rights. */
const cliPrincipal: Principal = { tokenId: 'cli', name: 'cli', role: 'admin', sites: [], region: null }

import { type Config, ConfigError, loadConfig } from './config.js'
import { registryDatabasePath } from './engine.js'
import { serve } from './serve.js'
import { runSimulate } from './simulate-command.js'

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

const help = {
  main: `Usage: siteward <command> [options]

Commands:
  serve                 run the broker, rule engine and HTTP API in the foreground
  site add              create or update a site
  device add            create a device and print its secret (shown once)
  token create          create an API token (shown once)
  rule set              override a rule's thresholds for a site or one device
  point set             configure a pit point (baseline, design value, alarm values)
  simulate              simulated cranes and pit monitors publishing over MQTT (scenarios)

Run "siteward <command> --help" for a command's options. Configuration comes from
SITEWARD_* environment variables (see the README); provisioning commands work on
SITEWARD_DATA_DIR while "serve" runs.`,
  serve: `Usage: siteward serve

Runs the MQTT broker, rule engine and HTTP API until SIGINT or SIGTERM, then
flushes and exits 0. Configured by SITEWARD_* environment variables.`,
  site: `Usage: siteward site add --id S --name N --region R [--pit-grade 1|2|3] [--pit-depth-m H]

Creates the site, or updates it when the id exists. Prints the site as JSON.
  --id           site id (letters, digits, "_", "-", ".")
  --name         display name
  --region       region code, e.g. the 6-digit administrative division code 330106
  --pit-grade    foundation pit safety grade (GB 50497-2019): 1, 2 or 3
  --pit-depth-m  design excavation depth H in metres`,
  device: `Usage: siteward device add --site S --id D --kind crane|pit [--name N]

Creates a device and prints {"siteId","deviceId","kind","secret"}. The secret is
shown once and stored only as a hash: give it to the device as its MQTT password.`,
  token: `Usage: siteward token create --role officer|supervisor|regulator|admin --name N [--site S]... [--region R]

Prints {"token","role",...}. The token is shown once and stored only as a hash.
  --site     a site the officer or supervisor works on (repeatable, required for them)
  --region   the region a regulator supervises (omit for everywhere)`,
  rule: `Usage: siteward rule set --site S --rule R [--device D] [--warning N|none] [--alarm N|none] [--critical N|none]
                        [--hysteresis N] [--min-samples N] [--enabled true|false]

Overrides a rule of the catalogue (SITEWARD_RULES_DIR) for a site, or for one of its devices.
"none" removes a level. The running engine picks the change up within seconds.`,
  point: `Usage: siteward point set --site S --point P --item I [--baseline N] [--design-value N]
                         [--cumulative-alarm N] [--rate-alarm N]

Configures a pit point: its baseline (initial value), its design value (strut capacity f2 or
anchor prestress fy) and the designer's alarm values, which replace the table defaults
(GB 50497-2019 §8.0.1).`,
} as const

type Out = (line: string) => void

/** Runs one command line; returns the exit code. `serve` resolves only when the engine stops. */
export async function runCli(
  argv: readonly string[],
  out: Out = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  const [command, sub, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out(help.main)
    return 0
  }
  if (command === '--version') {
    out(version())
    return 0
  }
  switch (command) {
    case 'simulate':
      return runSimulate(argv.slice(1), out)
    case 'serve':
      if (sub === '--help' || sub === '-h') return printed(out, help.serve)
      if (sub !== undefined) throw new UsageError(`serve takes no arguments (got "${sub}")`)
      return serve(loadConfig())
    case 'site':
      return storeCommand(sub, 'add', rest, help.site, out, (store, values) =>
        provisioningOf(store).addSite({
          id: required(values, 'id'),
          name: required(values, 'name'),
          region: required(values, 'region'),
          pitGrade: optionalNumber(values, 'pit-grade') as 1 | 2 | 3 | undefined,
          pitDepthM: optionalNumber(values, 'pit-depth-m'),
        }),
      )
    case 'device':
      return storeCommand(sub, 'add', rest, help.device, out, (store, values) => {
        const p = provisioningOf(store)
        const kind = required(values, 'kind')
        const { device, secret } = p.addDevice({
          siteId: required(values, 'site'),
          id: required(values, 'id'),
          kind: kind as 'crane',
          name: optionalString(values, 'name'),
        })
        return { siteId: device.siteId, deviceId: device.id, kind: device.kind, secret }
      })
    case 'token':
      return storeCommand(sub, 'create', rest, help.token, out, (store, values) =>
        provisioningOf(store).createToken({
          role: required(values, 'role') as 'admin',
          name: required(values, 'name'),
          sites: (values.site as string[] | undefined) ?? [],
          region: optionalString(values, 'region') ?? null,
        }),
      )
    case 'rule':
      return storeCommand(sub, 'set', rest, help.rule, out, (store, values) => {
        const settings = settingsOf(store)
        const levels = Object.fromEntries(
          (['warning', 'alarm', 'critical'] as const).flatMap((level) => {
            const text = optionalString(values, level)
            return text === undefined ? [] : [[level, text === 'none' ? null : optionalNumber(values, level)]]
          }),
        )
        const enabled = optionalString(values, 'enabled')
        const input = {
          ...(optionalString(values, 'device') === undefined
            ? {}
            : { deviceId: optionalString(values, 'device') }),
          ...(Object.keys(levels).length > 0 ? { levels } : {}),
          ...(optionalNumber(values, 'hysteresis') === undefined
            ? {}
            : { hysteresis: optionalNumber(values, 'hysteresis') }),
          ...(optionalNumber(values, 'min-samples') === undefined
            ? {}
            : { minSamples: optionalNumber(values, 'min-samples') }),
          ...(enabled === undefined ? {} : { enabled: parseBoolean(enabled, 'enabled') }),
        }
        return settings.putRuleOverride(
          required(values, 'site'),
          required(values, 'rule'),
          input,
          cliPrincipal,
        )
      })
    case 'point':
      return storeCommand(sub, 'set', rest, help.point, out, (store, values) => {
        const settings = settingsOf(store)
        const input = {
          item: required(values, 'item') as 'wall_top_horizontal',
          baseline: optionalNumber(values, 'baseline'),
          designValue: optionalNumber(values, 'design-value'),
          cumulativeAlarm: optionalNumber(values, 'cumulative-alarm'),
          rateAlarm: optionalNumber(values, 'rate-alarm'),
        }
        // The running engine applies the baseline at its next start and the rest within seconds.
        return settings.putPoint(
          required(values, 'site'),
          required(values, 'point'),
          input,
          cliPrincipal,
          null,
        )
      })
    default:
      throw new UsageError(`unknown command "${command}" (try: siteward --help)`)
  }
}

const optionsSpec = {
  id: { type: 'string' },
  name: { type: 'string' },
  region: { type: 'string' },
  'pit-grade': { type: 'string' },
  'pit-depth-m': { type: 'string' },
  site: { type: 'string', multiple: true },
  kind: { type: 'string' },
  role: { type: 'string' },
  rule: { type: 'string' },
  device: { type: 'string' },
  warning: { type: 'string' },
  alarm: { type: 'string' },
  critical: { type: 'string' },
  hysteresis: { type: 'string' },
  'min-samples': { type: 'string' },
  enabled: { type: 'string' },
  point: { type: 'string' },
  item: { type: 'string' },
  baseline: { type: 'string' },
  'design-value': { type: 'string' },
  'cumulative-alarm': { type: 'string' },
  'rate-alarm': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

type Values = Record<string, string | string[] | boolean | undefined>

interface Store {
  readonly db: SqliteDatabase
  readonly config: Config
}

/** A command that works on the data directory's store: parse, open, act, print JSON, close. */
function storeCommand(
  sub: string | undefined,
  expected: string,
  args: readonly string[],
  usage: string,
  out: Out,
  action: (store: Store, values: Values) => unknown,
): number {
  if (sub === '--help' || sub === '-h') return printed(out, usage)
  if (sub !== expected)
    throw new UsageError(`expected "${expected}"${sub === undefined ? '' : `, got "${sub}"`}\n${usage}`)
  let values: Values
  try {
    values = parseArgs({ args: [...args], options: optionsSpec, strict: true, allowPositionals: false })
      .values as Values
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  if (values.help === true) return printed(out, usage)
  const config = loadConfig()
  const db = openDatabase(registryDatabasePath(config.dataDir))
  try {
    out(JSON.stringify(action({ db, config }, values)))
    return 0
  } finally {
    db.close()
  }
}

const provisioningOf = (store: Store) => new Provisioning(new RegistryRepository(store.db))
const settingsOf = (store: Store) =>
  new SettingsService(
    new SettingsRepository(store.db),
    new RegistryRepository(store.db),
    loadRuleCatalogue(store.config.rulesDir),
  )

function parseBoolean(text: string, name: string): boolean {
  if (text === 'true' || text === 'false') return text === 'true'
  throw new UsageError(`--${name} must be true or false, got "${text}"`)
}

function required(values: Values, name: string): string {
  let value = values[name]
  if (Array.isArray(value)) {
    if (value.length > 1) throw new UsageError(`--${name} may be given only once here`)
    value = value[0]
  }
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`)
  return value
}

function optionalString(values: Values, name: string): string | undefined {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

function optionalNumber(values: Values, name: string): number | undefined {
  const value = optionalString(values, name)
  if (value === undefined) return undefined
  const number = Number(value)
  if (value.trim() === '' || !Number.isFinite(number))
    throw new UsageError(`--${name} must be a number, got "${value}"`)
  return number
}

function printed(out: Out, text: string): number {
  out(text)
  return 0
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

const flagOfField: Record<string, string> = {
  siteId: '--site',
  sites: '--site',
  pitGrade: '--pit-grade',
  pitDepthM: '--pit-depth-m',
}

/** "pitGrade: …" reads "--pit-grade: …" on the command line. */
function asFlag(problem: string): string {
  const [field = '', ...rest] = problem.split(':')
  const name = field.replace(/\[\d+\]$/, '')
  return `${flagOfField[name] ?? `--${name}`}:${rest.join(':')}`
}

/** One line on stderr for every failure a user can cause (CONTRACT §1). */
export function describeFailure(error: unknown): { message: string; code: number } {
  if (error instanceof UsageError) return { message: error.message, code: 2 }
  if (error instanceof ConfigError) return { message: error.message, code: 2 }
  if (error instanceof ZodError) return { message: formatIssues(error).map(asFlag).join('; '), code: 2 }
  if (isSitewardError(error)) return { message: error.message, code: 1 }
  return { message: error instanceof Error ? error.message : String(error), code: 1 }
}

import { Provisioning } from '../domain/provisioning.js'
import type { Principal, TokenSummary } from '../domain/registry.js'
import type { EffectiveRule } from '../domain/rule-views.js'
import { describeLevels } from '../rules/effective-rules.js'
import type { SqliteDatabase } from '../storage/sqlite/database.js'
import { ProjectionRepository } from '../storage/sqlite/projection-repository.js'
import { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import { SettingsRepository } from '../storage/sqlite/settings-repository.js'
import {
  durationOrNone,
  numberOrNone,
  optionalBoolean,
  optionalNumber,
  optionalString,
  required,
  slewSectors,
  UsageError,
  type Values,
} from './cli-args.js'
import type { Config } from './config.js'
import { loadRuleCatalogue } from './rule-catalogue.js'
import { RuleViews } from './rule-views.js'
import { SettingsService } from './settings-service.js'

/** Whoever runs the CLI has the data directory, so an admin's rights. */
const cliPrincipal: Principal = { tokenId: 'cli', name: 'cli', role: 'admin', sites: [], region: null }

export interface Store {
  readonly db: SqliteDatabase
  readonly config: Config
}

/** What a store command prints: JSON (one line), or text for people. */
export type Printed = { readonly json: unknown } | { readonly text: string }

export type StoreAction = (store: Store, values: Values) => Promise<Printed>

const json = async (value: unknown): Promise<Printed> => ({ json: await value })
const provisioningOf = (store: Store) => new Provisioning(new RegistryRepository(store.db))
const settingsOf = async (store: Store) => {
  const settings = new SettingsService(
    new SettingsRepository(store.db),
    new RegistryRepository(store.db),
    loadRuleCatalogue(store.config.rulesDir),
  )
  await settings.load()
  return settings
}

/** Drops the keys whose value is undefined, so "absent" stays absent. */
const defined = <T extends Record<string, unknown>>(object: T) =>
  Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>

/** The commands that work on the data directory's store, by command and subcommand. */
export const storeCommands: Record<string, Record<string, StoreAction>> = {
  site: {
    add: (store, values) => {
      const grade = optionalString(values, 'pit-grade')
      const support = optionalString(values, 'support-type')
      return json(
        provisioningOf(store).addSite({
          id: required(values, 'id'),
          name: required(values, 'name'),
          region: required(values, 'region'),
          ...defined({
            pitGrade:
              grade === 'none' ? null : (optionalNumber(values, 'pit-grade') as 1 | 2 | 3 | undefined),
            pitDepthM: numberOrNone(values, 'pit-depth-m'),
            supportType: support === 'none' ? null : (support as 'pile_wall' | undefined),
            rockSocketed: optionalBoolean(values, 'rock-socketed'),
            baseSlabCast: optionalBoolean(values, 'base-slab-cast'),
          }),
        }),
      )
    },
  },
  device: {
    add: async (store, values) => {
      const { device, secret } = await provisioningOf(store).addDevice({
        siteId: required(values, 'site'),
        id: required(values, 'id'),
        kind: required(values, 'kind') as 'crane',
        name: optionalString(values, 'name'),
      })
      return json({ siteId: device.siteId, deviceId: device.id, kind: device.kind, secret })
    },
    set: async (store, values) => {
      const input = defined({
        expectedIntervalMs: durationOrNone(values, 'expected-interval'),
        ratedCapacityT: numberOrNone(values, 'rated-capacity-t'),
        hookHeightMaxM: numberOrNone(values, 'hook-height-max-m'),
        radiusMinM: numberOrNone(values, 'radius-min-m'),
        radiusMaxM: numberOrNone(values, 'radius-max-m'),
        forbiddenSlewSectors: slewSectors(values, 'forbidden-slew'),
      })
      if (Object.keys(input).length === 0)
        throw new UsageError('device set needs at least one setting (see siteward device --help)')
      return json((await settingsOf(store)).putDeviceSettings(required(values, 'id'), input, cliPrincipal))
    },
    disable: (store, values) => json(provisioningOf(store).setDeviceEnabled(required(values, 'id'), false)),
    enable: (store, values) => json(provisioningOf(store).setDeviceEnabled(required(values, 'id'), true)),
    'rotate-secret': async (store, values) => {
      const { device, secret } = await provisioningOf(store).rotateSecret(required(values, 'id'))
      return json({ siteId: device.siteId, deviceId: device.id, kind: device.kind, secret })
    },
  },
  token: {
    create: (store, values) =>
      json(
        provisioningOf(store).createToken({
          role: required(values, 'role') as 'admin',
          name: required(values, 'name'),
          sites: (values.site as string[] | undefined) ?? [],
          region: optionalString(values, 'region') ?? null,
        }),
      ),
    list: async (store, values) => {
      const tokens = await provisioningOf(store).listTokens()
      return values.json === true ? json(tokens) : { text: tokenTable(tokens) }
    },
    revoke: (store, values) => json(provisioningOf(store).revokeToken(required(values, 'id'))),
  },
  rule: {
    set: async (store, values) => {
      const levels = Object.fromEntries(
        (['warning', 'alarm', 'critical'] as const).flatMap((level) => {
          const given = numberOrNone(values, level)
          return given === undefined ? [] : [[level, given]]
        }),
      )
      const enabled = optionalBoolean(values, 'enabled')
      const input = defined({
        deviceId: optionalString(values, 'device'),
        levels: Object.keys(levels).length > 0 ? levels : undefined,
        hysteresis: optionalNumber(values, 'hysteresis'),
        minSamples: optionalNumber(values, 'min-samples'),
        enabled,
      })
      return json(
        (await settingsOf(store)).putRuleOverride(
          required(values, 'site'),
          required(values, 'rule'),
          input,
          cliPrincipal,
        ),
      )
    },
    list: async (store, values) => {
      const registry = new RegistryRepository(store.db)
      const views = new RuleViews({
        rules: loadRuleCatalogue(store.config.rulesDir),
        registry,
        settings: await settingsOf(store),
        projection: new ProjectionRepository(store.db),
      })
      const site = optionalString(values, 'site')
      const rows = await views.effective(
        cliPrincipal,
        defined({ siteId: site, deviceId: optionalString(values, 'device') }),
      )
      return values.json === true ? json(rows) : { text: ruleTable(rows) }
    },
  },
  point: {
    set: async (store, values) => {
      const input = {
        item: required(values, 'item') as 'wall_top_horizontal',
        baseline: optionalNumber(values, 'baseline'),
        designValue: optionalNumber(values, 'design-value'),
        capacity: optionalNumber(values, 'capacity'),
        prestress: optionalNumber(values, 'prestress'),
        designLoad: optionalNumber(values, 'design-load'),
        cumulativeAlarm: optionalNumber(values, 'cumulative-alarm'),
        rateAlarm: optionalNumber(values, 'rate-alarm'),
        pairPointCode: optionalString(values, 'pair'),
        differentialAlarm: optionalNumber(values, 'differential-alarm'),
        expectedIntervalMs: durationOrNone(values, 'expected-interval') ?? undefined,
        resolution: optionalNumber(values, 'resolution'),
      }
      // The running engine sees it within seconds (SQLite's data_version), the baseline too.
      return json(
        (await settingsOf(store)).putPoint(
          required(values, 'site'),
          required(values, 'point'),
          input,
          cliPrincipal,
        ),
      )
    },
  },
}

/** The rule list for a terminal: one line per rule (and pit point), aligned. */
export function ruleTable(rows: readonly EffectiveRule[]): string {
  const lines = rows.map((row) => {
    const subject = row.pointCode === null ? row.subject : `${row.subject} ${row.pointCode}`
    const levels =
      row.codes !== null
        ? Object.entries(row.codes)
            .map(([code, severity]) => `${code} ${severity}`)
            .join(', ')
        : row.levels === null
          ? '—'
          : `${describeLevels(row.levels)}${row.unit === null ? '' : ` ${row.unit}`}`
    const state =
      row.status === 'needs-configuration'
        ? `NEEDS ${row.needs}`
        : row.status === 'disabled'
          ? `DISABLED (${row.origin})`
          : `${row.origin}${row.sustained === null ? '' : `; ${row.sustained}`}`
    return [`${row.ruleId} ${row.title.zh}`, subject, levels, state, row.unconfirmed ? 'UNCONFIRMED' : '']
  })
  const head = ['RULE', 'SUBJECT', 'LEVELS', 'ORIGIN', 'MARK']
  const all = [head, ...lines]
  const widths = head.map((_, i) => Math.min(48, Math.max(...all.map((cols) => displayWidth(cols[i] ?? '')))))
  return all
    .map((cols) =>
      cols
        .map((col, i) =>
          i === cols.length - 1
            ? col
            : col + ' '.repeat(Math.max(1, (widths[i] ?? 0) - displayWidth(col) + 2)),
        )
        .join('')
        .trimEnd(),
    )
    .join('\n')
}

/** Chinese characters take two columns in a terminal. */
function displayWidth(text: string): number {
  let width = 0
  for (const char of text) width += /[\u3000-\u9fff\uff00-\uffef]/.test(char) ? 2 : 1
  return width
}

/** Tokens for people: one line each, revoked ones marked. */
function tokenTable(tokens: readonly TokenSummary[]): string {
  if (tokens.length === 0) return 'no tokens'
  return tokens
    .map((token) => {
      const scope =
        token.sites.length > 0 ? `sites ${token.sites.join(',')}` : `region ${token.region ?? 'everywhere'}`
      const state = token.revokedAt === null ? 'active' : `revoked ${token.revokedAt}`
      return `${token.id}  ${token.role.padEnd(10)} ${token.name}  (${scope})  created ${token.createdAt}  ${state}`
    })
    .join('\n')
}

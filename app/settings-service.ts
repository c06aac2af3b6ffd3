import { SitewardError } from '../domain/errors.js'
import { type LoadChart, loadChartSchema } from '../domain/load-chart.js'
import { judgeOverride } from '../domain/override-policy.js'
import type { Registry, SettingsStore } from '../domain/ports.js'
import type { Principal, Site } from '../domain/registry.js'
import { type Rule, severities } from '../domain/rules.js'
import { canSeeSite, requireRole } from '../domain/scope.js'
import {
  type DeviceSettings,
  type DeviceSettingsInput,
  type DeviceSettingsValues,
  deviceSettingsInputSchema,
  type OverrideView,
  type PointSettings,
  type PointSettingsInput,
  pointSettingsInputSchema,
  type RuleOverride,
  type RuleOverrideInput,
  type RuleOverrideSettings,
  ruleOverrideInputSchema,
  type SettingsChange,
} from '../domain/settings.js'
import type { IngestState } from '../ingest/ingest-state.js'
import { effectiveRules } from '../rules/effective-rules.js'
import type { PitContext } from '../rules/pit-limits.js'

/**
 * Threshold overrides and pit point settings as the running engine uses them: held in memory
 * for the rule pipeline, reloaded after the API changes them and whenever another connection
 * (the CLI) has committed, which SQLite's data_version tells cheaply.
 */
export class SettingsService {
  private readonly repository: SettingsStore
  private readonly registry: Registry
  private readonly rules: ReadonlyMap<string, Rule>
  private overrides = new Map<string, { settings: RuleOverrideSettings; origin: string }>()
  private points = new Map<string, PointSettings>()
  private charts = new Map<string, LoadChart>()
  private devices = new Map<string, DeviceSettings>()
  /** Sites as of the last reload (a site's change moves the settings counter too). */
  private sites = new Map<string, Site>()
  private seenVersion = -1
  /** Baselines already handed to ingest state, so a reload re-applies only what changed. */
  private readonly appliedBaselines = new Map<string, number>()
  private readonly reloaded = new Set<() => void>()

  constructor(repository: SettingsStore, registry: Registry, rules: readonly Rule[]) {
    this.repository = repository
    this.registry = registry
    this.rules = new Map(rules.map((rule) => [rule.id, rule]))
  }

  /** Reads the settings; call before anything else asks. */
  load(): Promise<void> {
    return this.reload()
  }

  /**
   * Configured baselines into ingest state: all at start-up (after the log replay), then the
   * ones that changed, whoever changed them (the API, the CLI on another connection).
   */
  applyBaselines(state: IngestState, now: number): void {
    for (const [key, point] of this.points) {
      if (point.baseline === null || this.appliedBaselines.get(key) === point.baseline) continue
      state.pitPoints.configure(point.siteId, point.pointCode, point.item, point.baseline, now)
      this.appliedBaselines.set(key, point.baseline)
    }
  }

  /** Called after every reload: the settings changed (here or on another connection). */
  onReload(listener: () => void): () => void {
    this.reloaded.add(listener)
    return () => this.reloaded.delete(listener)
  }

  async refreshIfChanged(): Promise<boolean> {
    if ((await this.repository.dataVersion()) === this.seenVersion) return false
    await this.reload()
    return true
  }

  /** Layers: the rule's defaults, then the site's override, then the device's. */
  ruleOverride(
    siteId: string,
    deviceId: string,
    ruleId: string,
  ): { settings: RuleOverrideSettings; origin: string } | undefined {
    const site = this.overrides.get(`${siteId}||${ruleId}`)
    // deviceId '' asks for the site alone (the rule list of a site): its key is the site's own.
    const device = deviceId === '' ? undefined : this.overrides.get(`${siteId}|${deviceId}|${ruleId}`)
    if (site === undefined || device === undefined) return device ?? site
    const merged: RuleOverrideSettings = {
      ...site.settings,
      ...device.settings,
      levels: { ...site.settings.levels, ...device.settings.levels },
    }
    return { settings: merged, origin: `${device.origin} (over the ${site.origin})` }
  }

  loadChart(deviceId: string): LoadChart | undefined {
    return this.charts.get(deviceId)
  }

  async putLoadChart(deviceId: string, raw: LoadChart, principal: Principal) {
    const device = await this.registry.getDevice(deviceId)
    const site = device === undefined ? undefined : await this.registry.getSite(device.siteId)
    if (device === undefined || site === undefined || !canSeeSite(principal, site)) {
      throw new SitewardError('DEVICE_NOT_FOUND', `no device ${deviceId} in your scope`)
    }
    requireRole(principal, ['admin', 'supervisor'], 'change a load chart')
    if (device.kind !== 'crane')
      throw new SitewardError('VALIDATION_FAILED', `device ${deviceId} is a ${device.kind}, not a crane`)
    const chart = loadChartSchema.parse(raw)
    const saved = await this.repository.putLoadChart(deviceId, site.id, chart, principal.name)
    await this.reload()
    return saved
  }

  pitContext(siteId: string, pointCode: string): PitContext {
    const site = this.sites.get(siteId)
    const point = this.points.get(`${siteId}|${pointCode}`)
    return {
      pitGrade: site?.pitGrade ?? null,
      pitDepthM: site?.pitDepthM ?? null,
      baseSlabCast: site?.baseSlabCast ?? false,
      supportType: site?.supportType ?? null,
      designValue: point?.designValue ?? null,
      capacity: point?.capacity ?? null,
      prestress: point?.prestress ?? null,
      designLoad: point?.designLoad ?? null,
      cumulativeAlarm: point?.cumulativeAlarm ?? null,
      rateAlarm: point?.rateAlarm ?? null,
      differentialAlarm: point?.differentialAlarm ?? null,
      pairPointCode: point?.pairPointCode ?? null,
      expectedIntervalMs: point?.expectedIntervalMs ?? null,
      resolution: point?.resolution ?? null,
    }
  }

  /** Every configured pit point (for the rule list and the site's configuration problems). */
  pointSettings(siteId?: string): PointSettings[] {
    return [...this.points.values()].filter((point) => siteId === undefined || point.siteId === siteId)
  }

  pointInterval(siteId: string, pointCode: string): number | null {
    return this.points.get(`${siteId}|${pointCode}`)?.expectedIntervalMs ?? null
  }

  deviceSettings(deviceId: string): DeviceSettingsValues | undefined {
    return this.devices.get(deviceId)?.settings
  }

  deviceSettingsRecord(deviceId: string): DeviceSettings | undefined {
    return this.devices.get(deviceId)
  }

  /**
   * A device's settings (`PUT /api/devices/{deviceId}/settings`, `siteward device set`): the fields
   * given replace the stored ones, null removes one; crane limits only for cranes.
   */
  async putDeviceSettings(
    deviceId: string,
    raw: DeviceSettingsInput,
    principal: Principal,
  ): Promise<DeviceSettings> {
    const device = await this.registry.getDevice(deviceId)
    const site = device === undefined ? undefined : await this.registry.getSite(device.siteId)
    if (device === undefined || site === undefined || !canSeeSite(principal, site))
      throw new SitewardError('DEVICE_NOT_FOUND', `no device ${deviceId} in your scope`)
    requireRole(principal, ['admin', 'supervisor'], 'change device settings')
    const input = deviceSettingsInputSchema.parse(raw)
    const craneOnly = [
      'ratedCapacityT',
      'hookHeightMaxM',
      'radiusMinM',
      'radiusMaxM',
      'forbiddenSlewSectors',
    ] as const
    if (device.kind !== 'crane') {
      const given = craneOnly.find((name) => input[name] !== undefined)
      if (given !== undefined)
        throw new SitewardError(
          'VALIDATION_FAILED',
          `body.${given}: device ${deviceId} is a ${device.kind}, not a crane`,
        )
    }
    const merged: Record<string, unknown> = { ...(this.devices.get(deviceId)?.settings ?? {}) }
    for (const [name, value] of Object.entries(input)) {
      if (value === null) delete merged[name]
      else if (value !== undefined) merged[name] = value
    }
    const { radiusMinM, radiusMaxM } = merged as DeviceSettingsValues
    if (radiusMinM !== undefined && radiusMaxM !== undefined && radiusMinM >= radiusMaxM)
      throw new SitewardError(
        'VALIDATION_FAILED',
        `body.radiusMinM: must be below radiusMaxM (${radiusMaxM})`,
      )
    const saved = await this.repository.putDeviceSettings(
      deviceId,
      site.id,
      merged as DeviceSettingsValues,
      input,
      principal.name,
    )
    await this.reload()
    return saved
  }

  async putRuleOverride(
    siteId: string,
    ruleId: string,
    raw: RuleOverrideInput,
    principal: Principal,
  ): Promise<RuleOverride> {
    await this.authorize(siteId, principal)
    await this.refreshIfChanged() // judged against the limits as they are now, whoever set them
    const input = ruleOverrideInputSchema.parse(raw)
    const rule = this.rules.get(ruleId)
    if (rule === undefined) throw new SitewardError('RULE_NOT_FOUND', `no rule ${ruleId}`)
    if (input.deviceId !== undefined) {
      const device = await this.registry.getDevice(input.deviceId)
      if (device === undefined || device.siteId !== siteId)
        throw new SitewardError('DEVICE_NOT_FOUND', `no device ${input.deviceId} on site ${siteId}`)
    }
    const { deviceId, ...settings } = input
    const hasLimits =
      settings.levels !== undefined || settings.hysteresis !== undefined || settings.minSamples !== undefined
    const noLevels = ['event', 'data_gap', 'unknown_code'].includes(rule.condition.kind)
    if (hasLimits && noLevels) {
      throw new SitewardError(
        'VALIDATION_FAILED',
        `body: rule ${ruleId} has no levels to override; only "enabled" applies`,
      )
    }
    if (rule.condition.kind === 'threshold' && settings.levels !== undefined)
      checkOrder(rule.condition.direction, { ...rule.condition.levels }, settings.levels)
    const judged = judgeOverride(rule, await this.defaultsOf(siteId, rule, deviceId), settings)
    if (judged.beyondBounds.length > 0)
      throw new SitewardError(
        'VALIDATION_FAILED',
        `body: beyond what the catalogue allows for ${ruleId}: ${judged.beyondBounds.join('; ')}`,
        { laxer: judged.laxer },
      )
    if (judged.laxer.length > 0 && principal.role !== 'admin')
      throw new SitewardError(
        'FORBIDDEN',
        `only an admin may loosen ${ruleId} (${judged.laxer.join('; ')}); a stricter limit needs no admin`,
      )
    const saved = await this.repository.putRuleOverride(
      siteId,
      ruleId,
      deviceId ?? null,
      settings,
      principal.name,
      judged.laxer,
    )
    await this.reload()
    return saved
  }

  /**
   * Every override in force on these sites, each with how it loosens its rule, and the latest
   * settings changes (who, when, what): what a regulator reads (issue 13).
   */
  async overridesOf(
    siteIds: readonly string[],
  ): Promise<{ overrides: OverrideView[]; changes: SettingsChange[] }> {
    await this.refreshIfChanged() // the defaults come from the cached sites and points
    const wanted = new Set(siteIds)
    const overrides: OverrideView[] = []
    for (const override of await this.repository.ruleOverrides()) {
      const rule = this.rules.get(override.ruleId)
      if (!wanted.has(override.siteId) || rule === undefined) continue
      const defaults = await this.defaultsOf(override.siteId, rule, override.deviceId ?? undefined)
      overrides.push({
        ...override,
        title: rule.title,
        defaults: defaults.map((row) => ({ pointCode: row.pointCode, levels: row.levels })),
        laxer: judgeOverride(rule, defaults, override.settings).laxer,
      })
    }
    overrides.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
    return { overrides, changes: await this.repository.changes(siteIds, 200) }
  }

  /**
   * The rule's limits as they would be without any override, everywhere the override reaches: the
   * site's own (the table's row for its grade), each configured pit point, and each device it
   * covers (a crane's own height or radius limit), so a site-wide override cannot loosen a limit
   * that only a device's settings define.
   */
  private async defaultsOf(siteId: string, rule: Rule, deviceId: string | undefined) {
    const pitContext = (pointCode: string) => this.pitContext(siteId, pointCode)
    const points = [...this.points.values()]
      .filter((point) => point.siteId === siteId)
      .map((point) => ({ pointCode: point.pointCode, item: point.item }))
    const devices =
      deviceId === undefined
        ? await this.registry.listDevices(siteId)
        : [await this.registry.getDevice(deviceId)].filter((device) => device !== undefined)
    return [
      ...effectiveRules([rule], { pitContext }),
      ...(points.length === 0 ? [] : effectiveRules([rule], { pitContext, points })),
      ...devices.flatMap((device) =>
        effectiveRules([rule], {
          deviceKind: device.kind,
          deviceSettings: this.deviceSettings(device.id),
          pitContext,
        }),
      ),
    ]
  }

  async putPoint(
    siteId: string,
    pointCode: string,
    raw: PointSettingsInput,
    principal: Principal,
  ): Promise<PointSettings> {
    await this.authorize(siteId, principal)
    const input = pointSettingsInputSchema.parse(raw)
    if (input.pairPointCode === pointCode)
      throw new SitewardError('VALIDATION_FAILED', 'body.pairPointCode: a point cannot be paired with itself')
    if ((input.pairPointCode ?? null) !== null && (input.differentialAlarm ?? null) === null)
      throw new SitewardError(
        'VALIDATION_FAILED',
        'body.differentialAlarm: a paired point needs the designer’s differential alarm value',
      )
    const saved = await this.repository.putPoint(siteId, pointCode, input, principal.name)
    await this.reload() // a new baseline reaches ingest state through onReload (applyBaselines)
    return saved
  }

  private async authorize(siteId: string, principal: Principal): Promise<void> {
    const site = await this.registry.getSite(siteId)
    if (site === undefined || !canSeeSite(principal, site))
      throw new SitewardError('SITE_NOT_FOUND', `no site ${siteId} in your scope`)
    requireRole(principal, ['admin', 'supervisor'], 'change thresholds')
  }

  /** Everything read first, then swapped in at once: the rules never see half a reload. */
  private async reload(): Promise<void> {
    const version = await this.repository.dataVersion()
    const [overrides, points, charts, devices, sites] = [
      await this.repository.ruleOverrides(),
      await this.repository.points(),
      await this.repository.loadCharts(),
      await this.repository.deviceSettings(),
      await this.registry.listSites({}),
    ]
    this.seenVersion = version
    this.overrides = new Map(
      overrides.map((override) => [
        `${override.siteId}|${override.deviceId ?? ''}|${override.ruleId}`,
        {
          settings: override.settings,
          origin: `${override.deviceId === null ? 'site' : 'device'} override by ${override.updatedBy}, ${override.updatedAt.slice(0, 16).replace('T', ' ')} UTC`,
        },
      ]),
    )
    this.points = new Map(points.map((point) => [`${point.siteId}|${point.pointCode}`, point]))
    this.charts = charts
    this.devices = devices
    this.sites = new Map(sites.map((site) => [site.id, site]))
    for (const listener of this.reloaded) listener()
  }
}

/** The levels after the override must still rise (or fall) from warning to critical. */
function checkOrder(
  direction: 'above' | 'below',
  levels: Partial<Record<(typeof severities)[number], number>>,
  changes: RuleOverrideSettings['levels'],
): void {
  for (const severity of severities) {
    const change = changes?.[severity]
    if (change === null) delete levels[severity]
    else if (change !== undefined) levels[severity] = change
  }
  const present = severities.map((s) => levels[s]).filter((v): v is number => v !== undefined)
  if (present.length === 0)
    throw new SitewardError('VALIDATION_FAILED', 'body.levels: at least one level must remain')
  const ordered = present.every(
    (v, i) =>
      i === 0 || (direction === 'above' ? v > (present[i - 1] as number) : v < (present[i - 1] as number)),
  )
  if (!ordered)
    throw new SitewardError(
      'VALIDATION_FAILED',
      `body.levels: must ${direction === 'above' ? 'rise' : 'fall'} from warning to critical`,
    )
}

import { SitewardError } from '../domain/errors.js'
import type { Principal } from '../domain/registry.js'
import type { ConfigurationIssue, EffectiveRule } from '../domain/rule-views.js'
import type { Rule } from '../domain/rules.js'
import { canSeeSite } from '../domain/scope.js'
import { effectiveRules } from '../rules/effective-rules.js'
import { configurationIssues } from '../rules/site-issues.js'
import type { ProjectionRepository } from '../storage/sqlite/projection-repository.js'
import type { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import type { SettingsService } from './settings-service.js'

/**
 * The rules as they stand for a site, a device or the catalogue (`siteward rule list`,
 * `GET /api/rules`), and what a site's configuration leaves the rules unable to judge.
 */
export class RuleViews {
  private readonly rules: readonly Rule[]
  private readonly registry: RegistryRepository
  private readonly settings: SettingsService
  private readonly projection: Pick<ProjectionRepository, 'pitPointsOf'>

  constructor(parts: {
    rules: readonly Rule[]
    registry: RegistryRepository
    settings: SettingsService
    projection: Pick<ProjectionRepository, 'pitPointsOf'>
  }) {
    this.rules = parts.rules
    this.registry = parts.registry
    this.settings = parts.settings
    this.projection = parts.projection
  }

  async effective(
    principal: Principal,
    scope: { siteId?: string; deviceId?: string },
  ): Promise<EffectiveRule[]> {
    // What another role or the CLI changed shows at once (one counter read when nothing did).
    await this.settings.refreshIfChanged()
    const device = scope.deviceId === undefined ? undefined : await this.registry.getDevice(scope.deviceId)
    if (scope.deviceId !== undefined && device === undefined)
      throw new SitewardError('DEVICE_NOT_FOUND', `no device ${scope.deviceId} in your scope`)
    const siteId = device?.siteId ?? scope.siteId
    if (device !== undefined && scope.siteId !== undefined && device.siteId !== scope.siteId)
      throw new SitewardError('DEVICE_NOT_FOUND', `no device ${scope.deviceId} on site ${scope.siteId}`)
    if (siteId === undefined) return effectiveRules(this.rules)
    const site = await this.registry.getSite(siteId)
    if (site === undefined || !canSeeSite(principal, site))
      throw new SitewardError(
        device === undefined ? 'SITE_NOT_FOUND' : 'DEVICE_NOT_FOUND',
        `no ${device === undefined ? `site ${siteId}` : `device ${scope.deviceId}`} in your scope`,
      )
    const points = await this.pointsOf(siteId, device?.id)
    return effectiveRules(this.rules, {
      deviceKind: device?.kind,
      override: (ruleId) => this.settings.ruleOverride(siteId, device?.id ?? '', ruleId),
      deviceSettings: device === undefined ? undefined : this.settings.deviceSettings(device.id),
      pitContext: (pointCode) => this.settings.pitContext(siteId, pointCode),
      points: device === undefined || device.kind === 'pit' ? points : [],
    })
  }

  async siteIssues(siteId: string): Promise<ConfigurationIssue[]> {
    await this.settings.refreshIfChanged()
    const site = await this.registry.getSite(siteId)
    if (site === undefined) return []
    const devices = await this.registry.listDevices(siteId)
    return configurationIssues({
      site,
      rules: this.rules,
      pitDevices: devices.filter((device) => device.kind === 'pit').length,
      points: await this.pointsOf(siteId, undefined),
      pitContext: (pointCode) => this.settings.pitContext(siteId, pointCode),
      cranesWithoutCapacity: devices
        .filter(
          (device) =>
            device.kind === 'crane' &&
            this.settings.deviceSettings(device.id)?.ratedCapacityT === undefined &&
            this.settings.loadChart(device.id) === undefined,
        )
        .map((device) => device.id),
    })
  }

  /** Points reported by the site's devices (or one device), and points configured but not yet heard. */
  private async pointsOf(siteId: string, deviceId: string | undefined) {
    const heard = await this.projection.pitPointsOf(siteId)
    const seen = new Map<string, { pointCode: string; item: (typeof heard)[number]['item'] }>()
    for (const point of heard)
      if (deviceId === undefined || point.deviceId === deviceId)
        seen.set(point.pointCode, { pointCode: point.pointCode, item: point.item })
    if (deviceId === undefined)
      for (const point of this.settings.pointSettings(siteId))
        if (!seen.has(point.pointCode))
          seen.set(point.pointCode, { pointCode: point.pointCode, item: point.item })
    return [...seen.values()].sort((a, b) => a.pointCode.localeCompare(b.pointCode))
  }
}

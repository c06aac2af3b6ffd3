import type { AlertService } from '../alerts/alert-service.js'
import type { ApiServices } from '../api/services.js'
import type { EscalationPolicy } from '../domain/escalation.js'
import type { TelemetryStore } from '../domain/ports.js'
import { Provisioning } from '../domain/provisioning.js'
import type { Principal } from '../domain/registry.js'
import type { ProjectionRepository } from '../storage/sqlite/projection-repository.js'
import type { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import type { ManualReadingsResult } from './manual-readings.js'
import type { RuleViews } from './rule-views.js'
import type { SettingsService } from './settings-service.js'

/** The parts the HTTP API is built from. */
export interface ApiParts {
  readonly registry: RegistryRepository
  readonly alerts: AlertService
  /** Every committed alert change, read from the store (the SSE stream). */
  readonly alertChanges: ApiServices['alertChanges']
  readonly settings: SettingsService
  readonly rules: RuleViews
  readonly telemetry: TelemetryStore
  readonly escalation: EscalationPolicy
  readonly projection: ProjectionRepository
  /** Each kind's reporting interval, from its data-gap rule; a device's setting comes first. */
  readonly expectedIntervalMs: Readonly<Record<'crane' | 'pit', number>>
  readonly readiness: ApiServices['readiness']
  readonly metrics: ApiServices['metrics']
  /** Files manual readings for the edge, which logs them, and waits for its answer. */
  readonly submitReadings: (
    siteId: string,
    principal: Principal,
    body: unknown,
  ) => Promise<ManualReadingsResult>
  /** A device was disabled or re-keyed: close the connections it made before. */
  readonly credentialsChanged: () => void
}

/** What the engine hands the HTTP API: its parts, adapted to the services the routes call. */
export function apiServicesOf(parts: ApiParts): ApiServices {
  const { registry, settings } = parts
  const provisioning = new Provisioning(registry)
  return {
    registry,
    provisioning,
    access: {
      listTokens: () => provisioning.listTokens(),
      revokeToken: (id) => provisioning.revokeToken(id),
      setDeviceEnabled: async (deviceId, enabled) => {
        const device = await provisioning.setDeviceEnabled(deviceId, enabled)
        parts.credentialsChanged()
        return device
      },
      rotateSecret: async (deviceId) => {
        const rotated = await provisioning.rotateSecret(deviceId)
        parts.credentialsChanged()
        return rotated
      },
    },
    alerts: parts.alerts,
    alertChanges: parts.alertChanges,
    readings: { submit: parts.submitReadings },
    settings: {
      putRuleOverride: settings.putRuleOverride.bind(settings),
      putLoadChart: settings.putLoadChart.bind(settings),
      putDeviceSettings: settings.putDeviceSettings.bind(settings),
      overridesOf: (siteIds) => settings.overridesOf(siteIds),
      putPoint: (siteId, pointCode, input, principal) =>
        settings.putPoint(siteId, pointCode, input, principal),
    },
    rules: {
      effective: (principal, scope) => parts.rules.effective(principal, scope),
      siteIssues: (siteId) => parts.rules.siteIssues(siteId),
    },
    telemetry: parts.telemetry,
    escalation: parts.escalation,
    monitoring: {
      readingsPerDevice: (from, to) => parts.projection.readingsPerDevice(from, to),
      firstReadingAt: () => parts.projection.firstReadingAt(),
      expectedIntervalMs: (device) =>
        settings.deviceSettings(device.id)?.expectedIntervalMs ?? parts.expectedIntervalMs[device.kind],
    },
    deadLetters: { list: (filter) => parts.projection.listDeadLetters(filter) },
    readiness: parts.readiness,
    metrics: parts.metrics,
  }
}

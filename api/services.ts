import type { Observable } from 'rxjs'
import type { Alert, AlertChange, AlertEvent, AlertFilter, Transition } from '../domain/alert.js'
import type { EscalationPolicy } from '../domain/escalation.js'
import type { LoadChart } from '../domain/load-chart.js'
import type { DeadLetter, Registry, TelemetryStore } from '../domain/ports.js'
import type { Provisioning } from '../domain/provisioning.js'
import type { Device, Principal, TokenSummary } from '../domain/registry.js'
import type { Grouping, GroupTally } from '../domain/report.js'
import type { ConfigurationIssue, EffectiveRule } from '../domain/rule-views.js'
import type {
  DeviceSettings,
  DeviceSettingsInput,
  OverrideView,
  PointSettings,
  PointSettingsInput,
  RuleOverride,
  RuleOverrideInput,
  SettingsChange,
} from '../domain/settings.js'

export interface ReadinessCheck {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

/** The alert service as the API sees it (the composition root passes the real one). */
export interface AlertsApi {
  list(
    principal: Principal,
    filter: AlertFilter,
    limit: number,
    cursor?: string,
  ): Promise<{ items: Alert[]; nextCursor: string | null }>
  get(id: string, principal: Principal): Promise<Alert>
  events(id: string, principal: Principal): Promise<AlertEvent[]>
  verify(
    id: string,
    principal: Principal,
  ): Promise<{ valid: boolean; events: number; brokenAtSeq: number | null }>
  transition(
    id: string,
    transition: Transition,
    principal: Principal,
    expectedVersion: number | undefined,
  ): Promise<{ alert: Alert; changed: boolean }>
  comment(id: string, principal: Principal, text: string): Promise<AlertChange>
  changesAfter(seq: number, principal: Principal): Promise<AlertChange[]>
  visible(principal: Principal, siteId: string): Promise<boolean>
  /** The summary report's figures per group, within the caller's scope. */
  reportTallies(
    principal: Principal,
    filter: AlertFilter,
    options: { groupBy: Grouping; utcOffsetMinutes: number; now: number; policy: EscalationPolicy },
  ): Promise<GroupTally[]>
}

/** What the HTTP API needs from the engine; the composition root provides it. */
export interface ApiServices {
  readonly registry: Registry
  readonly provisioning: Provisioning
  /** Revoking tokens, disabling and re-keying devices: effective at once on open connections. */
  readonly access: {
    listTokens(): Promise<TokenSummary[]>
    revokeToken(id: string): Promise<TokenSummary>
    setDeviceEnabled(deviceId: string, enabled: boolean): Promise<Device>
    rotateSecret(deviceId: string): Promise<{ device: Device; secret: string }>
  }
  readonly alerts: AlertsApi
  /** Every committed alert change in timeline order, read from the store: the SSE stream sends these. */
  readonly alertChanges: Observable<AlertChange>
  readonly readings: {
    submit(
      siteId: string,
      principal: Principal,
      body: unknown,
    ): Promise<{
      accepted: number
      duplicates: number
      rejected: readonly { index: number; reason: string }[]
    }>
  }
  readonly settings: {
    putRuleOverride(
      siteId: string,
      ruleId: string,
      input: RuleOverrideInput,
      principal: Principal,
    ): Promise<RuleOverride>
    putPoint(
      siteId: string,
      pointCode: string,
      input: PointSettingsInput,
      principal: Principal,
    ): Promise<PointSettings>
    putLoadChart(
      deviceId: string,
      chart: LoadChart,
      principal: Principal,
    ): Promise<{ deviceId: string; chart: LoadChart; updatedAt: string; updatedBy: string }>
    putDeviceSettings(
      deviceId: string,
      input: DeviceSettingsInput,
      principal: Principal,
    ): Promise<DeviceSettings>
    /** The overrides in force on these sites and their latest settings changes. */
    overridesOf(siteIds: readonly string[]): Promise<{ overrides: OverrideView[]; changes: SettingsChange[] }>
  }
  readonly rules: {
    effective(principal: Principal, scope: { siteId?: string; deviceId?: string }): Promise<EffectiveRule[]>
    /** What the site's configuration leaves the rules unable to judge. */
    siteIssues(siteId: string): Promise<ConfigurationIssue[]>
  }
  readonly telemetry: TelemetryStore
  /** The deadlines behind "overdue" (SITEWARD_ACK_DEADLINES, SITEWARD_RESOLVE_DEADLINES). */
  readonly escalation: EscalationPolicy
  /** What the summary report's data completeness is measured with. */
  readonly monitoring: {
    readingsPerDevice(from: number, to: number): Promise<ReadonlyMap<string, number>>
    /** When each device's first reading was (hour start): its backfill from before it was registered. */
    firstReadingAt(): Promise<ReadonlyMap<string, number>>
    /** Each kind's reporting interval, from its data-gap rule. */
    expectedIntervalMs(device: { readonly id: string; readonly kind: 'crane' | 'pit' }): number
  }
  /** Refused messages kept per device (the dead letters). */
  readonly deadLetters: {
    list(filter: {
      deviceId: string
      limit: number
      before?: number
    }): Promise<readonly (DeadLetter & { id: number })[]>
  }
  readonly readiness: () => Promise<readonly ReadinessCheck[]>
  readonly metrics: { readonly contentType: string; render(): Promise<string> }
}

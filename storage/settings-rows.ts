import type {
  DeviceSettings,
  DeviceSettingsValues,
  RuleOverride,
  RuleOverrideSettings,
  SettingsChange,
} from '../domain/settings.js'

/** Threshold rows as both stores return them, and their mapping to the domain's shapes. */

export interface RuleOverrideRow {
  site_id: string
  rule_id: string
  device_id: string
  settings: string
  updated_at: string
  updated_by: string
}

export function toRuleOverride(row: RuleOverrideRow): RuleOverride {
  return {
    siteId: row.site_id,
    ruleId: row.rule_id,
    deviceId: row.device_id === '' ? null : row.device_id,
    settings: JSON.parse(row.settings) as RuleOverrideSettings,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  }
}

export interface DeviceSettingsRow {
  device_id: string
  settings: string
  updated_at: string
  updated_by: string
}

export function deviceSettingsOf(rows: readonly DeviceSettingsRow[]): Map<string, DeviceSettings> {
  return new Map(
    rows.map((row) => [
      row.device_id,
      {
        deviceId: row.device_id,
        settings: JSON.parse(row.settings) as DeviceSettingsValues,
        updatedAt: row.updated_at,
        updatedBy: row.updated_by,
      },
    ]),
  )
}

export interface SettingsChangeRow {
  id: number
  at: string
  by: string
  site_id: string
  device_id: string | null
  subject: string
  change: string
  laxer: string
}

export function toSettingsChange(row: SettingsChangeRow): SettingsChange {
  return {
    id: row.id,
    at: row.at,
    by: row.by,
    siteId: row.site_id,
    deviceId: row.device_id,
    subject: row.subject,
    change: JSON.parse(row.change) as unknown,
    laxer: JSON.parse(row.laxer) as string[],
  }
}

import type pg from 'pg'
import type { LoadChart } from '../../domain/load-chart.js'
import type { SettingsStore } from '../../domain/ports.js'
import type {
  DeviceSettings,
  DeviceSettingsValues,
  PointSettings,
  PointSettingsInput,
  RuleOverride,
  RuleOverrideSettings,
  SettingsChange,
} from '../../domain/settings.js'
import {
  type DeviceSettingsRow,
  deviceSettingsOf,
  type RuleOverrideRow,
  type SettingsChangeRow,
  toRuleOverride,
  toSettingsChange,
} from '../settings-rows.js'
import { inTransaction } from './database.js'

type Queryable = Pick<pg.PoolClient, 'query'>

/**
 * Threshold settings in PostgreSQL, the same contract as SQLite's (test/storage/
 * settings.contract.ts). Each put and the record of its change are one transaction; triggers
 * move the settings counter every role polls.
 */
export class PostgresSettingsRepository implements SettingsStore {
  constructor(private readonly pool: pg.Pool) {}

  async dataVersion(): Promise<number> {
    const { rows } = await this.pool.query<{ value: number }>(
      "SELECT value FROM change_counters WHERE name = 'settings'",
    )
    return rows[0]?.value ?? 0
  }

  async putRuleOverride(
    siteId: string,
    ruleId: string,
    deviceId: string | null,
    settings: RuleOverrideSettings,
    by: string,
    laxer: readonly string[] = [],
  ): Promise<RuleOverride> {
    const updatedAt = new Date().toISOString()
    await inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO rule_overrides (site_id, rule_id, device_id, settings, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (site_id, rule_id, device_id) DO UPDATE SET settings = excluded.settings,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [siteId, ruleId, deviceId ?? '', JSON.stringify(settings), updatedAt, by],
      )
      await recordChange(client, {
        at: updatedAt,
        by,
        siteId,
        deviceId,
        subject: `rule:${ruleId}`,
        change: settings,
        laxer,
      })
    })
    return { siteId, ruleId, deviceId, settings, updatedAt, updatedBy: by }
  }

  async putPoint(
    siteId: string,
    pointCode: string,
    input: PointSettingsInput,
    by: string,
  ): Promise<PointSettings> {
    const updatedAt = new Date().toISOString()
    await inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO point_settings (site_id, point_code, item, baseline, design_value, capacity, prestress, design_load,
           cumulative_alarm, rate_alarm, pair_point_code, differential_alarm, expected_interval_ms, resolution,
           updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (site_id, point_code) DO UPDATE SET item = excluded.item, baseline = excluded.baseline,
           design_value = excluded.design_value, capacity = excluded.capacity, prestress = excluded.prestress,
           design_load = excluded.design_load, cumulative_alarm = excluded.cumulative_alarm,
           rate_alarm = excluded.rate_alarm, pair_point_code = excluded.pair_point_code,
           differential_alarm = excluded.differential_alarm, expected_interval_ms = excluded.expected_interval_ms,
           resolution = excluded.resolution, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [
          siteId,
          pointCode,
          input.item,
          input.baseline ?? null,
          input.designValue ?? null,
          input.capacity ?? null,
          input.prestress ?? null,
          input.designLoad ?? null,
          input.cumulativeAlarm ?? null,
          input.rateAlarm ?? null,
          input.pairPointCode ?? null,
          input.differentialAlarm ?? null,
          input.expectedIntervalMs ?? null,
          input.resolution ?? null,
          updatedAt,
          by,
        ],
      )
      await recordChange(client, {
        at: updatedAt,
        by,
        siteId,
        deviceId: null,
        subject: `point:${pointCode}`,
        change: input,
        laxer: [],
      })
    })
    const point = (await this.points()).find((p) => p.siteId === siteId && p.pointCode === pointCode)
    if (point === undefined) throw new Error(`point ${siteId}/${pointCode} vanished after upsert`)
    return point
  }

  async putLoadChart(
    deviceId: string,
    siteId: string,
    chart: LoadChart,
    by: string,
  ): Promise<{ deviceId: string; chart: LoadChart; updatedAt: string; updatedBy: string }> {
    const updatedAt = await this.putPerDevice(
      'crane_load_charts',
      'chart',
      { deviceId, siteId },
      chart,
      chart,
      by,
    )
    return { deviceId, chart, updatedAt, updatedBy: by }
  }

  async putDeviceSettings(
    deviceId: string,
    siteId: string,
    settings: DeviceSettingsValues,
    change: unknown,
    by: string,
  ): Promise<DeviceSettings> {
    const updatedAt = await this.putPerDevice(
      'device_settings',
      'settings',
      { deviceId, siteId },
      settings,
      change,
      by,
    )
    return { deviceId, settings, updatedAt, updatedBy: by }
  }

  async ruleOverrides(): Promise<RuleOverride[]> {
    const { rows } = await this.pool.query<RuleOverrideRow>('SELECT * FROM rule_overrides')
    return rows.map(toRuleOverride)
  }

  async points(): Promise<PointSettings[]> {
    const { rows } = await this.pool.query<PointSettings>(
      `SELECT site_id AS "siteId", point_code AS "pointCode", item, baseline, design_value AS "designValue", capacity,
              prestress, design_load AS "designLoad", cumulative_alarm AS "cumulativeAlarm", rate_alarm AS "rateAlarm",
              pair_point_code AS "pairPointCode", differential_alarm AS "differentialAlarm",
              expected_interval_ms AS "expectedIntervalMs", resolution, updated_at AS "updatedAt", updated_by AS "updatedBy"
         FROM point_settings`,
    )
    return rows
  }

  async loadCharts(): Promise<Map<string, LoadChart>> {
    const { rows } = await this.pool.query<{ device_id: string; chart: string }>(
      'SELECT device_id, chart FROM crane_load_charts',
    )
    return new Map(rows.map((row) => [row.device_id, JSON.parse(row.chart) as LoadChart]))
  }

  async deviceSettings(): Promise<Map<string, DeviceSettings>> {
    const { rows } = await this.pool.query<DeviceSettingsRow>('SELECT * FROM device_settings')
    return deviceSettingsOf(rows)
  }

  async changes(siteIds: readonly string[], limit: number): Promise<SettingsChange[]> {
    if (siteIds.length === 0) return []
    const { rows } = await this.pool.query<SettingsChangeRow>(
      'SELECT * FROM settings_changes WHERE site_id = ANY($1) ORDER BY id DESC LIMIT $2',
      [[...siteIds], limit],
    )
    return rows.map(toSettingsChange)
  }

  private async putPerDevice(
    table: 'crane_load_charts' | 'device_settings',
    column: 'chart' | 'settings',
    device: { readonly deviceId: string; readonly siteId: string },
    value: unknown,
    change: unknown,
    by: string,
  ): Promise<string> {
    const updatedAt = new Date().toISOString()
    await inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO ${table} (device_id, ${column}, updated_at, updated_by) VALUES ($1, $2, $3, $4)
         ON CONFLICT (device_id) DO UPDATE SET ${column} = excluded.${column}, updated_at = excluded.updated_at,
           updated_by = excluded.updated_by`,
        [device.deviceId, JSON.stringify(value), updatedAt, by],
      )
      await recordChange(client, {
        at: updatedAt,
        by,
        siteId: device.siteId,
        deviceId: device.deviceId,
        subject: table === 'crane_load_charts' ? 'load-chart' : 'device-settings',
        change,
        laxer: [],
      })
    })
    return updatedAt
  }
}

async function recordChange(client: Queryable, change: Omit<SettingsChange, 'id'>): Promise<void> {
  await client.query(
    'INSERT INTO settings_changes (at, by, site_id, device_id, subject, change, laxer) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [
      change.at,
      change.by,
      change.siteId,
      change.deviceId,
      change.subject,
      JSON.stringify(change.change),
      JSON.stringify(change.laxer),
    ],
  )
}

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
import { ChangeCounters } from './change-counters.js'
import type { SqliteDatabase } from './database.js'

interface PointRow {
  site_id: string
  point_code: string
  item: PointSettings['item']
  baseline: number | null
  design_value: number | null
  cumulative_alarm: number | null
  rate_alarm: number | null
  capacity: number | null
  prestress: number | null
  design_load: number | null
  differential_alarm: number | null
  pair_point_code: string | null
  expected_interval_ms: number | null
  resolution: number | null
  updated_at: string
  updated_by: string
}

/** Threshold overrides and pit point settings, written by the API and the CLI. */
export class SettingsRepository implements SettingsStore {
  private readonly db: SqliteDatabase

  private readonly counters: ChangeCounters

  constructor(db: SqliteDatabase) {
    this.db = db
    this.counters = new ChangeCounters(db)
  }

  /** Moves with every change to a threshold, on any connection (a trigger counts): cheap to poll. */
  async dataVersion(): Promise<number> {
    return this.counters.valueNow('settings')
  }

  /** Sets the override and records the change, with each way it loosens the rule. */
  async putRuleOverride(
    siteId: string,
    ruleId: string,
    deviceId: string | null,
    settings: RuleOverrideSettings,
    by: string,
    laxer: readonly string[] = [],
  ): Promise<RuleOverride> {
    const updatedAt = new Date().toISOString()
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO rule_overrides (site_id, rule_id, device_id, settings, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (site_id, rule_id, device_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        )
        .run(siteId, ruleId, deviceId ?? '', JSON.stringify(settings), updatedAt, by)
      this.recordChange({
        at: updatedAt,
        by,
        siteId,
        deviceId,
        subject: `rule:${ruleId}`,
        change: settings,
        laxer,
      })
    })()
    return { siteId, ruleId, deviceId, settings, updatedAt, updatedBy: by }
  }

  private recordChange(change: Omit<SettingsChange, 'id'>): void {
    this.db
      .prepare(
        'INSERT INTO settings_changes (at, by, site_id, device_id, subject, change, laxer) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        change.at,
        change.by,
        change.siteId,
        change.deviceId,
        change.subject,
        JSON.stringify(change.change),
        JSON.stringify(change.laxer),
      )
  }

  /** Settings changes of these sites, newest first. */
  async changes(siteIds: readonly string[], limit: number): Promise<SettingsChange[]> {
    if (siteIds.length === 0) return []
    const rows = this.db
      .prepare(
        `SELECT * FROM settings_changes WHERE site_id IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT ?`,
      )
      .all(JSON.stringify(siteIds), limit) as SettingsChangeRow[]
    return rows.map(toSettingsChange)
  }

  /** Replaces the point's settings (a field left out is no longer set) and records the change. */
  async putPoint(
    siteId: string,
    pointCode: string,
    input: PointSettingsInput,
    by: string,
  ): Promise<PointSettings> {
    const updatedAt = new Date().toISOString()
    const statement = this.db.prepare(
      `INSERT INTO point_settings (site_id, point_code, item, baseline, design_value, capacity, prestress, design_load,
           cumulative_alarm, rate_alarm, pair_point_code, differential_alarm, expected_interval_ms, resolution,
           updated_at, updated_by)
         VALUES (@siteId, @pointCode, @item, @baseline, @designValue, @capacity, @prestress, @designLoad,
           @cumulativeAlarm, @rateAlarm, @pairPointCode, @differentialAlarm, @expectedIntervalMs, @resolution,
           @updatedAt, @by)
         ON CONFLICT (site_id, point_code) DO UPDATE SET item = excluded.item, baseline = excluded.baseline,
           design_value = excluded.design_value, capacity = excluded.capacity, prestress = excluded.prestress,
           design_load = excluded.design_load, cumulative_alarm = excluded.cumulative_alarm,
           rate_alarm = excluded.rate_alarm, pair_point_code = excluded.pair_point_code,
           differential_alarm = excluded.differential_alarm, expected_interval_ms = excluded.expected_interval_ms,
           resolution = excluded.resolution, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
    )
    const put = () =>
      statement.run({
        siteId,
        pointCode,
        item: input.item,
        baseline: input.baseline ?? null,
        designValue: input.designValue ?? null,
        capacity: input.capacity ?? null,
        prestress: input.prestress ?? null,
        designLoad: input.designLoad ?? null,
        cumulativeAlarm: input.cumulativeAlarm ?? null,
        rateAlarm: input.rateAlarm ?? null,
        pairPointCode: input.pairPointCode ?? null,
        differentialAlarm: input.differentialAlarm ?? null,
        expectedIntervalMs: input.expectedIntervalMs ?? null,
        resolution: input.resolution ?? null,
        updatedAt,
        by,
      })
    this.db.transaction(() => {
      put()
      this.recordChange({
        at: updatedAt,
        by,
        siteId,
        deviceId: null,
        subject: `point:${pointCode}`,
        change: input,
        laxer: [],
      })
    })()
    const point = (await this.points()).find((p) => p.siteId === siteId && p.pointCode === pointCode)
    if (point === undefined) throw new Error(`point ${siteId}/${pointCode} vanished after upsert`)
    return point
  }

  /** Sets the crane's load chart and records the change on its site. */
  async putLoadChart(
    deviceId: string,
    siteId: string,
    chart: LoadChart,
    by: string,
  ): Promise<{ deviceId: string; chart: LoadChart; updatedAt: string; updatedBy: string }> {
    const updatedAt = this.putPerDevice('crane_load_charts', 'chart', { deviceId, siteId }, chart, chart, by)
    return { deviceId, chart, updatedAt, updatedBy: by }
  }

  async loadCharts(): Promise<Map<string, LoadChart>> {
    const rows = this.db.prepare('SELECT device_id, chart FROM crane_load_charts').all() as {
      device_id: string
      chart: string
    }[]
    return new Map(rows.map((row) => [row.device_id, JSON.parse(row.chart) as LoadChart]))
  }

  async ruleOverrides(): Promise<RuleOverride[]> {
    return (this.db.prepare('SELECT * FROM rule_overrides').all() as RuleOverrideRow[]).map(toRuleOverride)
  }

  async points(): Promise<PointSettings[]> {
    const rows = this.db.prepare('SELECT * FROM point_settings').all() as PointRow[]
    return rows.map((row) => ({
      siteId: row.site_id,
      pointCode: row.point_code,
      item: row.item,
      baseline: row.baseline,
      designValue: row.design_value,
      capacity: row.capacity,
      prestress: row.prestress,
      designLoad: row.design_load,
      cumulativeAlarm: row.cumulative_alarm,
      rateAlarm: row.rate_alarm,
      pairPointCode: row.pair_point_code,
      differentialAlarm: row.differential_alarm,
      expectedIntervalMs: row.expected_interval_ms,
      resolution: row.resolution,
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    }))
  }

  /** Stores a device's settings (already merged by the caller) and records the change as given. */
  async putDeviceSettings(
    deviceId: string,
    siteId: string,
    settings: DeviceSettingsValues,
    change: unknown,
    by: string,
  ): Promise<DeviceSettings> {
    const updatedAt = this.putPerDevice(
      'device_settings',
      'settings',
      { deviceId, siteId },
      settings,
      change,
      by,
    )
    return { deviceId, settings, updatedAt, updatedBy: by }
  }

  /** One JSON document per device (a load chart, settings), with who changed it and when. */
  private putPerDevice(
    table: 'crane_load_charts' | 'device_settings',
    column: 'chart' | 'settings',
    device: { readonly deviceId: string; readonly siteId: string },
    value: unknown,
    change: unknown,
    by: string,
  ): string {
    const updatedAt = new Date().toISOString()
    const subject = table === 'crane_load_charts' ? 'load-chart' : 'device-settings'
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO ${table} (device_id, ${column}, updated_at, updated_by) VALUES (?, ?, ?, ?)
           ON CONFLICT (device_id) DO UPDATE SET ${column} = excluded.${column}, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        )
        .run(device.deviceId, JSON.stringify(value), updatedAt, by)
      this.recordChange({
        at: updatedAt,
        by,
        siteId: device.siteId,
        deviceId: device.deviceId,
        subject,
        change,
        laxer: [],
      })
    })()
    return updatedAt
  }

  async deviceSettings(): Promise<Map<string, DeviceSettings>> {
    return deviceSettingsOf(this.db.prepare('SELECT * FROM device_settings').all() as DeviceSettingsRow[])
  }
}

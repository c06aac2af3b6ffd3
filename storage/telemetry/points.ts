import type { LogRecord, MessageRecord } from '../../domain/log-record.js'
import { craneMetricNames } from '../../domain/payloads.js'
import type { TelemetryPoint } from '../../domain/ports.js'
import { alertEventPoint } from './alert-event-shipper.js'

type Fields = Record<string, number | string | boolean>

/**
 * The InfluxDB schema of CONTRACT §3, derived from log records. Every point is timed by the
 * device's `ts` in milliseconds, so replaying the log rewrites the same points. Numbers are
 * always written as floats, so a device that sends `5` and later `5.5` never hits a field type
 * conflict.
 */
export function pointsOf(record: LogRecord): TelemetryPoint[] {
  const tags = { site: record.siteId, device: record.deviceId }
  if (record.type === 'presence') {
    return [{ measurement: 'device_status', tags, fields: { online: record.online }, ts: record.receivedAt }]
  }
  if (record.type === 'alert_event') {
    // Written by engines before the shipper read the timelines from the store: still in old logs.
    return [alertEventPoint({ ...record, at: record.receivedAt })]
  }
  if (record.source !== 'manual') return messagePoints(record, tags)
  // Manual readings: a source=manual tag, and who entered them (issue 5).
  return messagePoints(record, { ...tags, source: 'manual' }).map((point) => ({
    ...point,
    fields: { ...point.fields, entered_by: record.enteredBy ?? 'unknown' },
  }))
}

function messagePoints(record: MessageRecord, tags: Readonly<Record<string, string>>): TelemetryPoint[] {
  switch (record.channel) {
    case 'telemetry':
      if (record.kind === 'crane') {
        return record.items
          .map((item) => {
            const fields: Fields = {}
            for (const name of craneMetricNames) {
              const value = item[name]
              if (value !== undefined) fields[name] = value
            }
            if (item.mode !== undefined) fields.mode = item.mode
            if (item.operatorId !== undefined) fields.operator = item.operatorId
            return { measurement: 'crane', tags, fields, ts: item.ts }
          })
          .filter((point) => Object.keys(point.fields).length > 0)
      }
      return record.items.flatMap((item) =>
        item.points.map((point) => {
          const fields: Fields = { value: point.value, cumulative: point.cumulative }
          if (point.ratePerDay !== null) fields.rate_per_day = point.ratePerDay
          // Each inclinometer depth is a series of its own (a tag), or depths would overwrite each other.
          const pitTags: Record<string, string> = { ...tags, point: point.pointCode, item: point.item }
          if (point.depthM !== undefined) pitTags.depth = String(point.depthM)
          return {
            measurement: 'pit',
            tags: pitTags,
            fields,
            ts: item.ts,
          }
        }),
      )
    case 'cycle':
      return record.items.map((item) => {
        const fields: Fields = {
          startTs: item.startTs,
          cycleNo: item.cycleNo,
          operator: item.operatorId,
          maxLoadT: item.maxLoadT,
          maxMomentPct: item.maxMomentPct,
          maxWindMps: item.maxWindMps,
        }
        if (item.violations !== undefined) fields.violations = item.violations.join(',')
        return { measurement: 'crane_cycle', tags, fields, ts: item.ts }
      })
    case 'status':
      return record.items.map((item) => {
        const fields: Fields = {}
        if (item.online !== undefined) fields.online = item.online
        if (item.fw !== undefined) fields.fw = item.fw
        if (item.signalCsq !== undefined) fields.signalCsq = item.signalCsq
        if (item.powerV !== undefined) fields.powerV = item.powerV
        if (Object.keys(fields).length === 0) fields.online = true // a bare heartbeat still says "alive"
        return { measurement: 'device_status', tags, fields, ts: item.ts }
      })
    case 'event':
      return [] // device events feed the rules and alerts; CONTRACT §3 gives them no measurement
  }
}

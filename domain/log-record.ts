import type { MessageBody, ReadingSource } from './reading.js'

/** Why an object was refused, as a short code (the metrics label); `reason` says it in full. */
export type RejectCode =
  | 'too_large'
  | 'too_deep'
  | 'invalid_json'
  | 'not_object'
  | 'empty'
  | 'schema'
  | 'ts_future'
  | 'ts_too_old'
  | 'channel_not_used'

/** An object of a message that was refused, with the reason the device integrator will see. */
export interface RejectedItem {
  readonly code: RejectCode
  /** Index in the payload array (0 for a single object); -1 when the whole payload was unusable. */
  readonly index: number
  readonly reason: string
}

/**
 * One accepted MQTT message (or manual submission) as written to the write-ahead log before its
 * PUBACK. Everything downstream (device state, dead letters, telemetry, rules) is derived from
 * these records, so replaying the log reproduces it.
 */
export type MessageRecord = {
  readonly type: 'message'
  readonly receivedAt: number
  readonly siteId: string
  readonly deviceId: string
  readonly topic: string
  readonly source: ReadingSource
  /** Objects dropped because their `seq` was already seen for this device. */
  readonly duplicates: number
  readonly rejects: readonly RejectedItem[]
  /** Who entered a manual reading (CONTRACT §5.1 readings route); absent for MQTT. */
  readonly enteredBy?: string | undefined
  /** A manual submission's inbox row and the object's index in it: a restart of the edge finds
   * what it already logged of a submission it had not answered. */
  readonly inbox?: { readonly id: number; readonly index: number } | undefined
  /** The raw payload, kept only when something was rejected (for the dead-letter entry). */
  readonly raw?: string | undefined
} & MessageBody

/**
 * A device went away: it disconnected, or its connection was lost (its Last Will fired); or the
 * engine started again and the device has not reconnected yet (`engine_restart`).
 */
export interface PresenceRecord {
  readonly type: 'presence'
  readonly receivedAt: number
  readonly siteId: string
  readonly deviceId: string
  readonly online: boolean
  readonly cause: 'disconnect' | 'connection_lost' | 'engine_restart'
}

/** An alert's timeline event, logged so the shipper writes it to InfluxDB (CONTRACT §3 alert_event). */
export interface AlertEventRecord {
  readonly type: 'alert_event'
  /** When the event happened (engine time). */
  readonly receivedAt: number
  readonly siteId: string
  readonly deviceId: string
  readonly ruleId: string
  readonly severity: string
  readonly alertId: string
  readonly eventType: string
  readonly state: string
  readonly value: number | null
}

export type LogRecord = MessageRecord | PresenceRecord | AlertEventRecord

/** A record with its position in the log (byte offset of its frame). */
export interface PositionedRecord {
  readonly position: number
  readonly record: LogRecord
}

/**
 * A device's message record as JSON, its items given as JSON text already (the payload's own,
 * see `admitVerbatim`): the same record `JSON.stringify` writes, without encoding the items
 * again. Only for what admission produces for MQTT (no rejects, no repeats, no manual fields);
 * test/domain/log-record-json.test.ts holds the two encodings to the same record.
 */
export function messageRecordJson(record: MessageRecord, itemsJson: string): string {
  return `{"type":"message","receivedAt":${record.receivedAt},"siteId":${JSON.stringify(record.siteId)},"deviceId":${JSON.stringify(record.deviceId)},"topic":${JSON.stringify(record.topic)},"source":"${record.source}","kind":"${record.kind}","channel":"${record.channel}","items":${itemsJson},"duplicates":${record.duplicates},"rejects":[]}`
}

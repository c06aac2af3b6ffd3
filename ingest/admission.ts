import { fastCraneTelemetry } from '../domain/fast-validation.js'
import { formatIssues } from '../domain/issues.js'
import type { MessageRecord, RejectedItem } from '../domain/log-record.js'
import {
  type Channel,
  nestsDeeperThan,
  type PitTelemetry,
  payloadLimits,
  payloadSchemas,
} from '../domain/payloads.js'
import { eventTime, type ReadingSource } from '../domain/reading.js'
import type { DeviceKind } from '../domain/registry.js'
import type { IngestState } from './ingest-state.js'

export interface Submission {
  readonly siteId: string
  readonly deviceId: string
  readonly kind: DeviceKind
  readonly channel: Channel
  readonly topic: string
  readonly payload: Buffer
  readonly receivedAt: number
  readonly source: ReadingSource
}

/** Cut-off beyond which an old `ts` is probably epoch seconds sent as milliseconds. */
const epochSecondsHintBelowMs = 10_000_000_000

/**
 * Turns one message into the record the write-ahead log keeps: each object validated against
 * its kind's and channel's schema (CONTRACT §2.1), `ts` inside its limits, resent objects (same
 * `seq` and `ts`) dropped, pit readings given their cumulative change and rate. Never throws on bad input: every
 * refused object gets a reason naming the field, what was expected and what came.
 */
export function admit(submission: Submission, state: IngestState): MessageRecord {
  return admitVerbatim(submission, state).record
}

/**
 * What the log encodes for an admitted message: its record, and the payload's own text when the
 * record's items are exactly the payload (every object passed the compiled check with no field
 * it would drop, none refused, none a repeat, nothing derived). The log then writes that text
 * as the items instead of encoding them again: JSON encoding was 13 % of the edge thread at
 * province load (BENCHMARKS.md, issue 14). `null` otherwise.
 */
export interface AdmittedMessage {
  readonly record: MessageRecord
  /** The items as JSON: the payload's text, an array as sent or one object in brackets. */
  readonly itemsJson: string | null
}

export function admitVerbatim(submission: Submission, state: IngestState): AdmittedMessage {
  const { kind, channel, payload, receivedAt } = submission
  const rejects: RejectedItem[] = []
  const items: unknown[] = []
  let duplicates = 0
  let verbatim = true

  const schema = (
    payloadSchemas[kind] as Partial<Record<Channel, (typeof payloadSchemas)['crane'][Channel]>>
  )[channel]
  const text = schema === undefined ? undefined : payloadText(payload, rejects)
  const parsed = text === undefined ? undefined : parsePayload(text, rejects)
  if (schema === undefined) {
    rejects.push({
      index: -1,
      code: 'channel_not_used',
      reason: `channel "${channel}" is not used by ${kind} devices`,
    })
  } else if (parsed !== undefined) {
    const objects = Array.isArray(parsed) ? parsed : [parsed]
    if (objects.length === 0)
      rejects.push({ index: -1, code: 'empty', reason: '(root): empty array, expected at least one object' })
    const fast = kind === 'crane' && channel === 'telemetry' ? fastCraneTelemetry : undefined
    objects.forEach((object, index) => {
      let item = fast?.(object)
      // The compiled check keeps known fields only: the same number of keys means none dropped.
      if (item === undefined || Object.keys(item).length !== Object.keys(object as object).length)
        verbatim = false
      if (item === undefined) {
        const result = schema.safeParse(object)
        if (!result.success) {
          rejects.push({ index, code: 'schema', reason: formatIssues(result.error, object).join('; ') })
          return
        }
        item = result.data
      }
      const tsProblem = checkTimestamp(item.ts, receivedAt)
      if (tsProblem !== null) {
        rejects.push({ index, ...tsProblem })
        return
      }
      if (item.seq !== undefined) {
        if (state.isDuplicate(submission.deviceId, submission.source, item.seq, item.ts)) {
          duplicates += 1
          return
        }
        state.addDelivery(submission.deviceId, submission.source, item.seq, item.ts)
      }
      items.push(
        kind === 'pit' && channel === 'telemetry' ? derivePit(submission, item as PitTelemetry, state) : item,
      )
    })
  }

  const record = {
    type: 'message',
    receivedAt,
    siteId: submission.siteId,
    deviceId: submission.deviceId,
    topic: submission.topic,
    source: submission.source,
    kind,
    channel,
    items,
    duplicates,
    rejects,
    raw: rejects.length > 0 ? (text ?? payload.toString('utf8')) : undefined,
  } as MessageRecord
  const whole = verbatim && text !== undefined && rejects.length === 0 && duplicates === 0
  return {
    record,
    itemsJson: whole && items.length > 0 ? (Array.isArray(parsed) ? text : `[${text}]`) : null,
  }
}

function payloadText(payload: Buffer, rejects: RejectedItem[]): string | undefined {
  if (payload.length > payloadLimits.maxPayloadBytes) {
    rejects.push({
      index: -1,
      code: 'too_large',
      reason: `payload is ${payload.length} bytes; the limit is ${payloadLimits.maxPayloadBytes}`,
    })
    return undefined
  }
  return payload.toString('utf8')
}

function parsePayload(text: string, rejects: RejectedItem[]): unknown {
  try {
    const value: unknown = JSON.parse(text)
    if (nestsDeeperThan(value, payloadLimits.maxNesting)) {
      rejects.push({
        index: -1,
        code: 'too_deep',
        reason: `payload nests arrays or objects deeper than ${payloadLimits.maxNesting} levels`,
      })
      return undefined
    }
    if (value === null || typeof value !== 'object') {
      rejects.push({
        index: -1,
        code: 'not_object',
        reason: `(root): expected an object or an array of objects, got ${value === null ? 'null' : typeof value}`,
      })
      return undefined
    }
    return value
  } catch (error) {
    rejects.push({
      index: -1,
      code: 'invalid_json',
      reason: `payload is not valid JSON: ${(error as Error).message}`,
    })
    return undefined
  }
}

function checkTimestamp(ts: number, receivedAt: number): Pick<RejectedItem, 'code' | 'reason'> | null {
  if (!Number.isFinite(ts)) return { code: 'schema', reason: 'ts: not a valid date' }
  if (ts > receivedAt + payloadLimits.maxFutureSkewMs) {
    const reason = `ts: ${new Date(ts).toISOString()} is more than 5 minutes in the future (engine time ${new Date(receivedAt).toISOString()})`
    return { code: 'ts_future', reason }
  }
  if (ts < receivedAt - payloadLimits.maxAgeMs) {
    const hint = ts < epochSecondsHintBelowMs ? '; epoch timestamps must be in milliseconds' : ''
    return { code: 'ts_too_old', reason: `ts: ${new Date(ts).toISOString()} is older than 30 days${hint}` }
  }
  return null
}

/** The point's history is kept in the rules' event time, so a fast clock cannot reorder it. */
function derivePit(submission: Submission, item: PitTelemetry, state: IngestState) {
  const at = eventTime(item.ts, submission.receivedAt)
  return {
    ts: item.ts,
    seq: item.seq,
    points: item.points.map((point) =>
      state.pitPoints.derive(submission.siteId, submission.deviceId, point, at),
    ),
  }
}

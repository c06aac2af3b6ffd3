import type { Logger } from 'pino'
import type { MessageRecord } from '../domain/log-record.js'
import type { ThrottledLog } from './throttled-log.js'

/** What ingest counts, for /metrics (the composition root provides the Prometheus side). */
export interface IngestMetrics {
  accepted(objects: number): void
  rejected(code: string, objects: number): void
  duplicates(objects: number): void
  refused(
    reason:
      | 'auth'
      | 'acl'
      | 'subscribe'
      | 'packet_too_large'
      | 'unauthenticated_cap'
      | 'log_failure'
      | 'log_full'
      | 'login_lockout',
  ): void
  /** A PUBACK held back because the log is filling up. */
  delayed(ms: number): void
}

/**
 * Counts one admitted message: objects accepted, duplicates, refusals by reason; a device whose
 * payloads are refused is named in the log at most once per throttle interval.
 */
export function countRecord(
  record: MessageRecord,
  metrics: IngestMetrics,
  throttle: ThrottledLog,
  logger: Logger,
): void {
  if (record.items.length > 0) metrics.accepted(record.items.length)
  if (record.duplicates > 0) metrics.duplicates(record.duplicates)
  for (const reject of record.rejects) metrics.rejected(reject.code, 1)
  const first = record.rejects[0]
  if (first === undefined) return
  throttle.maybe(`reject:${record.deviceId}`, record.receivedAt, (suppressed) =>
    logger.warn(
      {
        deviceId: record.deviceId,
        topic: record.topic,
        reason: first.reason,
        refusedObjects: record.rejects.length,
        suppressed,
      },
      'payload refused and dead-lettered',
    ),
  )
}

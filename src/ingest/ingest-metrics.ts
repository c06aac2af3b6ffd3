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

import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import type { IngestMetrics } from '../ingest/broker.js'
import type { ShipperMetrics } from '../storage/telemetry/telemetry-shipper.js'

/**
 * The Prometheus metrics behind GET /metrics, one registry per role (issue 14): each role counts
 * what it does, and the API gathers the roles' texts into one page. No two roles register the
 * same name, so the texts concatenate into valid exposition.
 */
export interface RoleMetrics {
  readonly registry: Registry
  render(): Promise<string>
}

const roleMetrics = (registry: Registry) => ({ registry, render: () => registry.metrics() })

/** The API's: the process (CPU, memory, event loop) as prom-client measures it. */
export function apiMetrics(): RoleMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'siteward_' })
  return roleMetrics(registry)
}

/** The edge's: what devices sent and what was refused, the log's size, the connections. */
export function edgeMetrics(sources: {
  logDiskBytes(): number
  logFullness(): number
  connectedClients(): number
  /** Appends waiting for their group commit: PUBACKs held until the disk has them. */
  logUnacknowledged(): number
  logCommits(): { commits: number; records: number; seconds: number; slowestSeconds: number }
}) {
  const registry = new Registry()
  const accepted = new Counter({
    name: 'siteward_messages_accepted_total',
    help: 'Payload objects accepted into the write-ahead log',
    registers: [registry],
  })
  const rejected = new Counter({
    name: 'siteward_messages_rejected_total',
    help: 'Payload objects refused and dead-lettered, by reason',
    labelNames: ['reason'],
    registers: [registry],
  })
  const duplicates = new Counter({
    name: 'siteward_messages_duplicate_total',
    help: 'Payload objects dropped as repeats of a seen seq',
    registers: [registry],
  })
  const refused = new Counter({
    name: 'siteward_mqtt_refused_total',
    help: 'Connections, logins, publishes and subscriptions refused, by reason',
    labelNames: ['reason'],
    registers: [registry],
  })
  const delayed = new Counter({
    name: 'siteward_mqtt_delayed_acks_total',
    help: 'PUBACKs held back because the write-ahead log is near SITEWARD_WAL_MAX_MB',
    registers: [registry],
  })
  new Gauge({
    name: 'siteward_log_disk_bytes',
    help: 'Write-ahead log size on disk',
    registers: [registry],
    collect() {
      this.set(sources.logDiskBytes())
    },
  })
  new Gauge({
    name: 'siteward_log_fullness_ratio',
    help: 'Write-ahead log size as a fraction of SITEWARD_WAL_MAX_MB (backpressure from 0.8, refusal at 1)',
    registers: [registry],
    collect() {
      this.set(sources.logFullness())
    },
  })
  new Gauge({
    name: 'siteward_log_unacknowledged_appends',
    help: 'Messages taken in but not yet on disk: their PUBACKs wait for the group commit',
    registers: [registry],
    collect() {
      this.set(sources.logUnacknowledged())
    },
  })
  logCommitMetrics(registry, sources.logCommits)
  new Gauge({
    name: 'siteward_mqtt_connected_clients',
    help: 'Authenticated MQTT connections',
    registers: [registry],
    collect() {
      this.set(sources.connectedClients())
    },
  })
  const ingest: IngestMetrics = {
    delayed: () => delayed.inc(),
    accepted: (objects) => accepted.inc(objects),
    rejected: (reason, objects) => rejected.inc({ reason }, objects),
    duplicates: (objects) => duplicates.inc(objects),
    refused: (reason) => refused.inc({ reason }),
  }
  return { ...roleMetrics(registry), ingest }
}

/**
 * The log's group commits: how many, the records they held, the time writev + fdatasync took
 * (the mean is the rate of one over the other) and the slowest since the last scrape. A PUBACK
 * waits for its commit, so a slow disk shows here before devices time out.
 */
function logCommitMetrics(
  registry: Registry,
  take: () => { commits: number; records: number; seconds: number; slowestSeconds: number },
): void {
  let latest = { commits: 0, records: 0, seconds: 0, slowestSeconds: 0 }
  const cumulative = (name: string, help: string, value: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset()
        this.inc(value())
      },
    })
  new Gauge({
    name: 'siteward_log_commit_slowest_seconds',
    help: 'The slowest write-ahead log group commit (writev + fdatasync) since the last scrape',
    registers: [registry],
    collect() {
      latest = take() // collected first: the counters below read the same numbers
      this.set(latest.slowestSeconds)
    },
  })
  cumulative('siteward_log_commits_total', 'Write-ahead log group commits', () => latest.commits)
  cumulative(
    'siteward_log_committed_records_total',
    'Records made durable by group commits',
    () => latest.records,
  )
  cumulative(
    'siteward_log_commit_seconds_total',
    'Time spent in write-ahead log group commits (writev + fdatasync)',
    () => latest.seconds,
  )
}

/** The worker's rules thread: how far each consumer is behind, unknown codes, dead letters. */
export function workerMetrics(sources: { logDepthBytes(): Record<string, number> }) {
  const registry = new Registry()
  new Gauge({
    name: 'siteward_log_depth_bytes',
    help: 'Write-ahead log bytes not yet consumed, per consumer',
    labelNames: ['consumer'],
    registers: [registry],
    collect() {
      for (const [consumer, bytes] of Object.entries(sources.logDepthBytes())) this.set({ consumer }, bytes)
    },
  })
  // A code no rule maps still raises an alert (DOMAIN.md §4); this counts them where IT can see.
  const unknownDeviceCodes = new Counter({
    name: 'siteward_unknown_device_codes_total',
    help: 'Device alarm or event codes that no rule of the catalogue maps, raised as warnings',
    labelNames: ['rule'],
    registers: [registry],
  })
  const deadLetters = new Counter({
    name: 'siteward_dead_letters_total',
    help: 'Refused messages: stored as dead letters, or over the device budget and only counted',
    labelNames: ['outcome'],
    registers: [registry],
  })
  const deadLettersPruned = new Counter({
    name: 'siteward_dead_letters_pruned_total',
    help: 'Dead letters removed for age (30 days) or beyond the newest 1,000 of a device',
    registers: [registry],
  })
  return {
    ...roleMetrics(registry),
    unknownDeviceCodes,
    deadLetters: (stored: number, notStored: number) => {
      if (stored > 0) deadLetters.inc({ outcome: 'stored' }, stored)
      if (notStored > 0) deadLetters.inc({ outcome: 'not_stored' }, notStored)
    },
    deadLettersPruned: (count: number) => deadLettersPruned.inc(count),
  }
}

/** The worker's shipping thread: what the telemetry store confirmed, refused, and how far behind. */
export function shipperMetrics(sources: { lagSeconds(): number }) {
  const registry = new Registry()
  const written = new Counter({
    name: 'siteward_telemetry_points_written_total',
    help: 'Points the telemetry store confirmed',
    registers: [registry],
  })
  const writeErrors = new Counter({
    name: 'siteward_telemetry_write_errors_total',
    help: 'Failed telemetry writes (each retried)',
    registers: [registry],
  })
  const pointsRejected = new Counter({
    name: 'siteward_telemetry_points_rejected_total',
    help: 'Points the telemetry store refused as bad data (dead-lettered)',
    registers: [registry],
  })
  new Gauge({
    name: 'siteward_shipper_lag_seconds',
    help: 'Age of the oldest telemetry not yet confirmed by the telemetry store',
    registers: [registry],
    collect() {
      this.set(sources.lagSeconds())
    },
  })
  const shipper: ShipperMetrics = {
    written: (points) => written.inc(points),
    writeFailed: () => writeErrors.inc(),
    rejected: (points) => pointsRejected.inc(points),
  }
  return { ...roleMetrics(registry), shipper }
}

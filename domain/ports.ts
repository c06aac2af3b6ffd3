import type {
  Alert,
  AlertChange,
  AlertEvent,
  AlertEventType,
  AlertFilter,
  AlertState,
  Transition,
} from './alert.js'
import type { EscalationCandidate, EscalationPolicy } from './escalation.js'
import type { LoadChart } from './load-chart.js'
import type { LogRecord, PositionedRecord } from './log-record.js'
import type { PitSeriesState } from './pit-series.js'
import type {
  Device,
  DeviceCredentials,
  DeviceInput,
  IssuedToken,
  Principal,
  Site,
  SiteInput,
  TokenInput,
  TokenSummary,
} from './registry.js'
import type { Grouping, GroupTally } from './report.js'
import type { KeyedSignal, Severity } from './rules.js'
import type {
  DeviceSettings,
  DeviceSettingsValues,
  PointSettings,
  PointSettingsInput,
  RuleOverride,
  RuleOverrideSettings,
  SettingsChange,
} from './settings.js'

/** What a consumer of the write-ahead log reads: durable records only, in order. */
export interface ReadableLog {
  /** Records after `position`, at most `maxRecords`; `next` is where to continue. */
  readFrom(position: number, maxRecords: number): { records: PositionedRecord[]; next: number }
  /** Position just past the last durable record. */
  readonly endPosition: number
  onCommit(listener: () => void): () => void
}

/** The durable write-ahead log: appends resolve once the record is on disk (fsync). */
export interface WriteAheadLog extends ReadableLog {
  append(record: LogRecord): Promise<number>
  /**
   * The same, with a callback: the MQTT hot path appends once per message, and a promise with
   * its two reactions was three more objects per reading there (issue 14).
   */
  appendThen(record: LogRecord, done: (error: Error | null) => void): void
  /** The same for a record already encoded as JSON (the hot path encodes a message itself). */
  appendJsonThen(json: string, done: (error: Error | null) => void): void
}

/** Where each log consumer has got to; consumers commit it together with their effects. */
export interface LogCursors {
  get(consumer: string): Promise<number>
  set(consumer: string, position: number): Promise<void>
  all(): Promise<ReadonlyMap<string, number>>
}

/** A device heard from, with its presence (the projector's), for the data-gap watch at start. */
export interface HeardDevice {
  readonly siteId: string
  readonly deviceId: string
  readonly kind: 'crane' | 'pit'
  readonly online: boolean
  readonly lastSeenAt: number | null
}

/** The registry's ports are asynchronous: SQLite in the process or PostgreSQL (issue 15). */
export interface SiteRepository {
  upsertSite(input: SiteInput): Promise<Site>
  getSite(id: string): Promise<Site | undefined>
  listSites(filter: {
    ids?: readonly string[] | undefined
    region?: string | null | undefined
  }): Promise<Site[]>
}

export interface DeviceRepository {
  createDevice(input: DeviceInput, secretHash: string): Promise<Device>
  getDevice(id: string): Promise<Device | undefined>
  listDevices(siteId: string): Promise<Device[]>
  heardDevices(): Promise<HeardDevice[]>
  getCredentials(id: string): Promise<DeviceCredentials | undefined>
  updateDeviceAccess(id: string, change: { disabled?: boolean; secretHash?: string }): Promise<boolean>
}

export interface TokenRepository {
  issueToken(input: TokenInput): Promise<IssuedToken>
  findPrincipal(token: string): Promise<Principal | undefined>
  listTokens(): Promise<TokenSummary[]>
  revokeToken(id: string): Promise<boolean>
  isTokenActive(id: string): Promise<boolean>
}

export type Registry = SiteRepository & DeviceRepository & TokenRepository

/** A point in the telemetry store, in the shape of CONTRACT §3. */
export interface TelemetryPoint {
  readonly measurement: string
  readonly tags: Readonly<Record<string, string>>
  readonly fields: Readonly<Record<string, number | string | boolean>>
  /** Device timestamp, epoch milliseconds: the point's identity together with its tags. */
  readonly ts: number
}

export interface TelemetryQuery {
  readonly measurement: string
  readonly field: string
  /** Tags every returned point must carry (site, device…). */
  readonly where: Readonly<Record<string, string>>
  /** Tags that split the result into series (e.g. `point` for pit devices). */
  readonly groupBy: readonly string[]
  readonly from: number
  readonly to: number
  /** One value per window of this many ms (the mean, or `aggregate`); raw points when absent. */
  readonly everyMs?: number | undefined
  /** How a window is summed up: a safety review wants the worst value, not the average. */
  readonly aggregate?: 'mean' | 'max' | 'min' | undefined
  /** Per series, at most this many points: the oldest first, or the newest with `newestFirst`. */
  readonly limit: number
  readonly newestFirst?: boolean | undefined
}

export interface TelemetrySeries {
  readonly tags: Readonly<Record<string, string>>
  readonly points: readonly { readonly ts: number; readonly value: number | string | boolean | null }[]
}

/** A batch the store refused for good (bad data, not an outage): dead-letter it, move on. */
export interface RejectedPoint {
  readonly point: TelemetryPoint
  readonly reason: string
}

/**
 * Telemetry storage: InfluxDB (v1 HTTP API) or the embedded SQLite store. Writes are idempotent
 * by (measurement, tags, ts). `write` throws on outages (the shipper retries) and returns the
 * points refused as bad data.
 */
export interface TelemetryStore {
  readonly name: string
  start(): Promise<void>
  stop(): Promise<void>
  write(points: readonly TelemetryPoint[]): Promise<RejectedPoint[]>
  query(query: TelemetryQuery): Promise<TelemetrySeries[]>
  ping(): Promise<boolean>
}

export interface DeadLetter {
  readonly receivedAt: number
  readonly siteId: string | null
  readonly deviceId: string | null
  readonly topic: string
  readonly stage: 'ingest' | 'telemetry'
  readonly reason: string
  readonly payload: string
}

export interface DeadLetterSink {
  add(letters: readonly DeadLetter[]): Promise<void>
}

/** What the engine remembers of a pit series (a device's point, at a depth) between readings. */
export type PitPointState = PitSeriesState

/** What one projected batch of log records changes in a device's state. */
export interface DeviceStateChange {
  readonly deviceId: string
  readonly accepted: number
  readonly rejected: number
  readonly duplicates: number
  /** Set when the batch decided presence: true on accepted traffic, false on Will or disconnect. */
  readonly online: boolean | null
  readonly lastSeenAt: number | null
  /** The newest telemetry `ts` in the batch (event time), or null. */
  readonly latestTs: number | null
  readonly lastRejectReason: string | null
  readonly lastRejectAt: number | null
  /** A crane's mode as last reported in event order within the batch, and that reading's ts. */
  readonly mode?: string | null
  readonly modeTs?: number | null
}

/**
 * The projector's durable state. `commit` applies one batch atomically together with the
 * projector's log cursor, so a crash replays exactly the records whose effects were not stored.
 */
export interface ProjectionStore {
  loadDeliveries(): Promise<Map<string, unknown>>
  loadPitPoints(): Promise<PitPointState[]>
  commit(batch: {
    readonly consumer: string
    readonly position: number
    readonly devices: readonly DeviceStateChange[]
    readonly deadLetters: readonly DeadLetter[]
    readonly pitPoints: readonly PitPointState[]
    /** Telemetry readings per device and hour of event time, to add to the counts. */
    readonly readingHours?: readonly ReadingHour[]
    /**
     * What admission remembers of these devices' recent deliveries (see RecentDeliveries), taken
     * every few seconds, not every batch; `position` is where replaying the log must start to
     * rebuild what came after it.
     */
    readonly deliveries?: {
      readonly consumer: string
      readonly position: number
      readonly devices: readonly { readonly deviceId: string; readonly deliveries: unknown }[]
    }
  }): Promise<void>
}

export interface ReadingHour {
  readonly deviceId: string
  /** Event time ÷ 3,600,000. */
  readonly hour: number
  readonly readings: number
}

/** One alert timeline event as the telemetry store keeps it (CONTRACT §3, alert_event). */
export interface AlertEventPoint {
  readonly seq: number
  /** Engine time of the event, epoch milliseconds. */
  readonly at: number
  readonly alertId: string
  readonly siteId: string
  readonly deviceId: string
  readonly ruleId: string
  readonly eventType: AlertEventType
  readonly state: AlertState
  readonly severity: Severity
  readonly value: number | null
}

/** The alert timelines in event order, for the shipper. */
export interface AlertEventPointSource {
  lastSeq(): Promise<number>
  after(seq: number, limit: number): Promise<readonly AlertEventPoint[]>
}

/** An alert that is not closed, still breaching live (seeds rule state after a restart). */
export interface ActiveBreach {
  readonly siteId: string
  readonly deviceId: string
  readonly ruleId: string
  readonly subject: string
  readonly severity: Severity
  readonly peakValue: number | null
}

/**
 * Alerts and their timelines (CONTRACT §5.2); every change is one transaction. Asynchronous, so
 * SQLite in the process and PostgreSQL over the network keep one contract (issue 15).
 */
export interface AlertStore {
  applySignal(signal: KeyedSignal, now: number): Promise<AlertChange | null>
  transition(
    id: string,
    transition: Transition,
    principal: Principal,
    expectedVersion: number | undefined,
    now: number,
  ): Promise<AlertChange & { changed: boolean }>
  comment(id: string, principal: Principal, text: string, now: number): Promise<AlertChange>
  get(id: string): Promise<Alert | undefined>
  list(
    filter: AlertFilter,
    limit: number,
    cursor?: string,
  ): Promise<{ items: Alert[]; nextCursor: string | null }>
  reportTallies(
    filter: AlertFilter,
    options: { groupBy: Grouping; utcOffsetMinutes: number; now: number; policy: EscalationPolicy },
  ): Promise<GroupTally[]>
  events(id: string): Promise<AlertEvent[]>
  verify(id: string): Promise<{ valid: boolean; events: number; brokenAtSeq: number | null }>
  eventsAfter(seq: number, limit: number): Promise<AlertChange[]>
  /** The newest timeline event's seq, 0 when there is none. */
  lastEventSeq(): Promise<number>
  notClosed(): Promise<Alert[]>
  activeBreaches(): Promise<ActiveBreach[]>
  escalationCandidates(): Promise<EscalationCandidate[]>
  escalate(id: string, fromLevel: number, reason: string, now: number): Promise<AlertChange | null>
}

/** One projected batch as the projector hands it to the store (see ProjectionStore). */
export type ProjectionCommit = Parameters<ProjectionStore['commit']>[0]

/**
 * The worker's batch: the projection with its cursor, the alerts of the signals the batch's
 * readings gave (in order) and the rule state they leave, in one transaction, so a crash keeps
 * all of it or none and the batch is replayed exactly once. Returns the alert changes in signal
 * order, for announcing after the commit, and the signals a store could not apply one by one
 * (the rest of the batch is kept; a store that cannot isolate one fails the whole batch).
 */
export interface BatchStore {
  commitBatch(batch: {
    readonly projection: ProjectionCommit
    readonly signals: readonly KeyedSignal[]
    readonly ruleStates: ReadonlyMap<string, object | null>
    readonly now: number
  }): Promise<BatchOutcome>
}

export interface BatchOutcome {
  readonly changes: readonly AlertChange[]
  readonly failed: readonly { readonly signal: KeyedSignal; readonly error: unknown }[]
}

/** Threshold overrides, pit point settings, load charts and device settings; each put records its change. */
export interface SettingsStore {
  /** Moves with every change to a threshold (or a site), on any connection: cheap to poll. */
  dataVersion(): Promise<number>
  putRuleOverride(
    siteId: string,
    ruleId: string,
    deviceId: string | null,
    settings: RuleOverrideSettings,
    by: string,
    laxer?: readonly string[],
  ): Promise<RuleOverride>
  putPoint(siteId: string, pointCode: string, input: PointSettingsInput, by: string): Promise<PointSettings>
  putLoadChart(
    deviceId: string,
    siteId: string,
    chart: LoadChart,
    by: string,
  ): Promise<{ deviceId: string; chart: LoadChart; updatedAt: string; updatedBy: string }>
  putDeviceSettings(
    deviceId: string,
    siteId: string,
    settings: DeviceSettingsValues,
    change: unknown,
    by: string,
  ): Promise<DeviceSettings>
  ruleOverrides(): Promise<RuleOverride[]>
  points(): Promise<PointSettings[]>
  loadCharts(): Promise<Map<string, LoadChart>>
  deviceSettings(): Promise<Map<string, DeviceSettings>>
  /** Settings changes of these sites, newest first. */
  changes(siteIds: readonly string[], limit: number): Promise<SettingsChange[]>
}

/** What a role polls to learn that another connection (or node) changed something it caches. */
export type ChangeCounter = 'settings' | 'credentials'

export interface ChangeCounters {
  value(counter: ChangeCounter): Promise<number>
}

/** A manual submission on its way from the API to the edge. */
export interface InboxSubmission {
  readonly id: number
  readonly siteId: string
  readonly enteredBy: string
  readonly body: unknown
  readonly filedAt: number
  /** The log's end when the edge took it; null while it waits. */
  readonly claimedAt: number | null
}

/** Manual readings between the API, which files them, and the edge, which logs and answers them. */
export interface ManualInboxStore {
  file(siteId: string, enteredBy: string, body: unknown, now: number): Promise<number>
  /** Oldest first: those a previous run of the edge claimed and did not answer, then new ones. */
  pending(limit: number): Promise<InboxSubmission[]>
  claim(id: number, logEnd: number): Promise<void>
  answer(id: number, result: unknown, now: number): Promise<void>
  /** The answer, or undefined while the edge has not written one (null: no such submission). */
  resultOf(id: number): Promise<unknown>
  /** Takes a submission back if the edge has not claimed it yet; false when it has. */
  withdraw(id: number): Promise<boolean>
  /** Where the log must be kept from for the submissions claimed and not answered. */
  oldestClaim(): Promise<number | null>
  /** Removes answers older than a day; returns how many. */
  prune(now: number): Promise<number>
}

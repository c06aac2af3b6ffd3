import type { Logger } from 'pino'
import { type Observable, Subject } from 'rxjs'
import type { MessageRecord, PositionedRecord } from '../domain/log-record.js'
import type {
  DeadLetter,
  DeviceStateChange,
  LogCursors,
  ProjectionCommit,
  ProjectionStore,
  ReadableLog,
  ReadingHour,
} from '../domain/ports.js'
import { eventTime, type Reading } from '../domain/reading.js'
import { DeadLetterBudget, storedPayload } from './dead-letter-budget.js'
import type { IngestState } from './ingest-state.js'

export const projectorConsumer = 'projector'
/** The cursor of the delivery memory's snapshot: replaying the log from it rebuilds the rest. */
export const deliveriesConsumer = 'projector.deliveries'
/**
 * How often the delivery memory is saved. Each device's is 256 (seq, ts) pairs, about 1.8 KB of
 * JSON: saved with every batch it cost 15 µs a device-reading at city load (BENCHMARKS.md, issue
 * 14). A restart replays at most this much of the log into it.
 */
const deliverySnapshotMs = 10_000
const recordsPerBatch = 2_000
/** After a failed batch (unreadable log, store error) try again this much later, doubling. */
const retryInitialMs = 500
const retryMaxMs = 30_000
const maxDeadLetterReasonChars = 4_000

export interface ProjectorOptions {
  readonly log: ReadableLog
  readonly cursors: LogCursors
  readonly store: ProjectionStore
  /** The projector's own copy, recovered up to its cursor; it replays every record it projects. */
  readonly state: IngestState
  readonly logger: Logger
  /**
   * Runs one batch: `evaluate` emits its readings (the rules run); `commit` is the projection and
   * cursor to write. The composition root evaluates first, outside any transaction, then writes
   * that with what the subscribers decided (alerts, rule state) in one transaction, so a crash
   * leaves either all of a batch's effects or none and the batch is projected again, while the
   * store's write lock is held only for the writing (other roles write to the same store). When
   * the write fails after the evaluation, the same batch is written again later with `evaluated`
   * true: its readings never go through the rules twice (a second pass would find them older
   * than the device's newest and judge them as late data). One batch at a time: the next is read
   * once this one's promise settles. Without it: `store.commit`, then evaluate.
   */
  readonly batch?: (evaluate: () => void, commit: ProjectionCommit, evaluated: boolean) => Promise<void>
  /** Refused messages kept as dead letters, and those over the device's budget (counted only). */
  readonly onDeadLetters?: (stored: number, notStored: number) => void
}

/**
 * Reads the write-ahead log in order and projects it: device counters, presence and last-seen,
 * dead letters and ingest state go to the store with the projector's cursor, and the batch's
 * readings are emitted, all inside one `batch` call. After a crash the records past the cursor
 * are projected again, so every counter is counted, and every reading evaluated, exactly once.
 */
export class Projector {
  private readonly options: ProjectorOptions
  private readonly readingsSubject = new Subject<Reading>()
  private position = 0
  private drainScheduled = false
  /** The batch being written: drains never overlap. */
  private draining: Promise<number> | null = null
  private drainAgain = false
  private retryMs = retryInitialMs
  private unsubscribe: (() => void) | null = null
  private readonly deadLetterBudget = new DeadLetterBudget()
  /** Devices whose delivery memory changed since the last snapshot. */
  private readonly unsavedDeliveries = new Set<string>()
  private snapshotPosition = 0
  private snapshotAt = 0
  private snapshotTimer: NodeJS.Timeout | null = null
  /** Evaluated by the rules, not yet written: the next drain writes it, and reads nothing new. */
  private unwritten: ProjectedBatch | null = null

  /** Every validated reading, in log order (event time is `ts`). */
  readonly readings$: Observable<Reading> = this.readingsSubject.asObservable()

  constructor(options: ProjectorOptions) {
    this.options = options
  }

  get cursor(): number {
    return this.position
  }

  /** Where a restart begins replaying the log (the log must keep what follows). */
  get replayFrom(): number {
    return this.snapshotPosition
  }

  async start(): Promise<void> {
    this.position = await this.options.cursors.get(projectorConsumer)
    this.snapshotPosition = await deliveriesReplayStart(this.options.cursors)
    // A store from before the snapshot cursor saved the memory with every batch: it is current.
    if (!(await this.options.cursors.all()).has(deliveriesConsumer))
      await this.options.cursors.set(deliveriesConsumer, this.snapshotPosition)
    this.snapshotAt = Date.now()
    this.unsubscribe = this.options.log.onCommit(() => this.scheduleDrain())
    // Saved when due even with no new records: the log is trimmed only up to the snapshot.
    this.snapshotTimer = setInterval(() => this.scheduleDrain(), deliverySnapshotMs)
    this.snapshotTimer.unref()
    this.scheduleDrain()
  }

  /** Projects what the log still holds (its effects are stored when it resolves). */
  async stop(): Promise<void> {
    const started = this.unsubscribe !== null
    this.unsubscribe?.()
    this.unsubscribe = null
    if (this.snapshotTimer !== null) clearInterval(this.snapshotTimer)
    // Never started (a start that failed before it): its position is not the stored cursor, and
    // draining from there would count the log again.
    if (started) {
      await this.draining?.catch(() => 0)
      await this.drainBatch(Number.POSITIVE_INFINITY, true)
    }
    this.readingsSubject.complete()
  }

  private scheduleDrain(): void {
    if (this.draining !== null) {
      this.drainAgain = true // a commit while a batch is written: drain once more after it
      return
    }
    if (this.drainScheduled) return
    this.drainScheduled = true
    setImmediate(() => {
      this.drainScheduled = false
      if (this.unsubscribe === null) return // stopping: stop() drains the rest itself
      this.drainAgain = false
      const draining = this.drainBatch(recordsPerBatch)
      this.draining = draining
      draining.then(
        (read) => {
          this.draining = null
          this.retryMs = retryInitialMs
          // One batch per turn of the event loop, so a long catch-up never starves the broker.
          if (read >= recordsPerBatch || this.drainAgain) this.scheduleDrain()
        },
        (error: unknown) => {
          this.draining = null
          this.retryLater(error)
        },
      )
    })
  }

  private retryLater(error: unknown): void {
    // The broker keeps accepting (the log holds everything); projection resumes when the cause
    // (a full disk, a locked store, a store that is restarting) is gone. The growing log depth
    // shows it in /metrics.
    this.options.logger.error(
      { err: error, position: this.position, retryInMs: this.retryMs },
      'projecting the log failed; will retry',
    )
    const timer = setTimeout(() => this.scheduleDrain(), this.retryMs)
    timer.unref()
    this.retryMs = Math.min(this.retryMs * 2, retryMaxMs)
  }

  /** Projects up to `maxRecords` records; resolves to how many it read, once they are stored. */
  private async drainBatch(maxRecords: number, stopping = false): Promise<number> {
    const unwritten = this.unwritten
    if (unwritten !== null) {
      await this.options.batch?.(() => {}, unwritten.commit, true)
      this.unwritten = null
      this.batchWritten(unwritten)
      // Then on to what came after it, as a drain that had not failed would have.
      return unwritten.records + (await this.drainBatch(maxRecords, stopping))
    }
    const { records, next } = this.options.log.readFrom(this.position, maxRecords)
    const snapshotDue = stopping || Date.now() - this.snapshotAt >= deliverySnapshotMs
    // A record may move the cursor without touching a device (an alert event in a log from an
    // older engine): the snapshot still follows the cursor, so the log can be trimmed.
    const snapshotLags = this.unsavedDeliveries.size > 0 || this.snapshotPosition < this.position
    if (records.length === 0 && !(snapshotDue && snapshotLags)) return 0
    // Readings are built only while someone (the rules) listens.
    const projection = project(
      records,
      this.options.state,
      this.deadLetterBudget,
      this.readingsSubject.observed,
    )
    for (const change of projection.changes.devices) this.unsavedDeliveries.add(change.deviceId)
    const deliveries = snapshotDue ? this.deliverySnapshot(next) : undefined
    const evaluate = () => {
      for (const reading of projection.readings) {
        try {
          this.readingsSubject.next(reading)
        } catch (error) {
          this.options.logger.error({ err: error, deviceId: reading.deviceId }, 'a readings subscriber threw')
        }
      }
    }
    const commit: ProjectionCommit = {
      consumer: projectorConsumer,
      position: next,
      ...projection.changes,
      ...(deliveries === undefined ? {} : { deliveries }),
    }
    const batch: ProjectedBatch = {
      commit,
      next,
      snapshot: deliveries !== undefined,
      records: records.length,
      deadLetters: projection.deadLetters,
      deadLettersNotStored: projection.deadLettersNotStored,
    }
    if (this.options.batch === undefined) {
      await this.options.store.commit(commit)
      evaluate()
    } else {
      let evaluated = false
      try {
        await this.options.batch(
          () => {
            evaluate()
            evaluated = true
          },
          commit,
          false,
        )
      } catch (error) {
        if (evaluated) this.unwritten = batch
        throw error
      }
    }
    this.batchWritten(batch)
    return records.length
  }

  private batchWritten(batch: ProjectedBatch): void {
    this.position = batch.next
    if (batch.snapshot) {
      this.unsavedDeliveries.clear()
      this.snapshotPosition = batch.next
      this.snapshotAt = Date.now()
    }
    if (batch.deadLetters + batch.deadLettersNotStored > 0)
      this.options.onDeadLetters?.(batch.deadLetters, batch.deadLettersNotStored)
  }

  private deliverySnapshot(position: number) {
    const devices = [...this.unsavedDeliveries].map((deviceId) => ({
      deviceId,
      deliveries: this.options.state.deliveriesOf(deviceId),
    }))
    return { consumer: deliveriesConsumer, position, devices }
  }
}

/** Where replaying the log into the delivery memory begins (a store from before the snapshot cursor: the projector's). */
export async function deliveriesReplayStart(cursors: LogCursors): Promise<number> {
  return (await cursors.all()).get(deliveriesConsumer) ?? cursors.get(projectorConsumer)
}

/** One batch as the projector hands it to the store: what its write needs, and what follows it. */
interface ProjectedBatch {
  readonly commit: ProjectionCommit
  readonly next: number
  /** It carries the delivery memory's snapshot. */
  readonly snapshot: boolean
  readonly records: number
  readonly deadLetters: number
  readonly deadLettersNotStored: number
}

type MutableChange = { -readonly [K in keyof DeviceStateChange]: DeviceStateChange[K] }

function project(
  records: readonly PositionedRecord[],
  state: IngestState,
  budget: DeadLetterBudget,
  withReadings: boolean,
) {
  const devices = new Map<string, MutableChange>()
  const deadLetters: DeadLetter[] = []
  let deadLettersNotStored = 0
  const readings: Reading[] = []
  const hours = new Map<string, { -readonly [K in keyof ReadingHour]: ReadingHour[K] }>()
  const changeOf = (deviceId: string): MutableChange => {
    let change = devices.get(deviceId)
    if (change === undefined) {
      change = {
        deviceId,
        accepted: 0,
        rejected: 0,
        duplicates: 0,
        online: null,
        lastSeenAt: null,
        latestTs: null,
        lastRejectReason: null,
        lastRejectAt: null,
        mode: null,
        modeTs: null,
      }
      devices.set(deviceId, change)
    }
    return change
  }
  for (const { record } of records) {
    // The projector's copy of ingest state follows the log record by record (admission's copy
    // runs ahead of it, at the edge), so the snapshot it saves is exactly at its cursor.
    state.replay(record)
    if (record.type === 'alert_event') continue // the engine's own: nothing a device did
    const change = changeOf(record.deviceId)
    if (record.type === 'presence') {
      change.online = record.online
      continue
    }
    change.accepted += record.items.length
    change.rejected += record.rejects.length
    change.duplicates += record.duplicates
    change.lastSeenAt = record.receivedAt
    if (record.channel === 'telemetry') {
      for (const item of record.items as readonly { ts: number; mode?: string }[]) {
        const ts = eventTime(item.ts, record.receivedAt)
        if (item.mode !== undefined && (change.modeTs == null || ts >= change.modeTs)) {
          change.mode = item.mode
          change.modeTs = ts
        }
        if (change.latestTs === null || ts > change.latestTs) change.latestTs = ts
        const hour = Math.floor(item.ts / 3_600_000)
        const key = `${record.deviceId}|${hour}`
        const counted = hours.get(key)
        if (counted === undefined) hours.set(key, { deviceId: record.deviceId, hour, readings: 1 })
        else counted.readings += 1
      }
    }
    change.online = !reportsOffline(record)
    if (record.rejects.length > 0) {
      const letter = deadLetterOf(record)
      if (budget.take(record.deviceId, record.receivedAt)) deadLetters.push(letter)
      else deadLettersNotStored += 1
      change.lastRejectReason = letter.reason
      change.lastRejectAt = record.receivedAt
    }
    if (withReadings) readings.push(...readingsOf(record))
  }
  return {
    changes: {
      devices: [...devices.values()],
      deadLetters,
      pitPoints: state.pitPoints.takeTouched(),
      readingHours: [...hours.values()],
    },
    readings,
    deadLetters: deadLetters.length,
    deadLettersNotStored,
  }
}

function reportsOffline(record: MessageRecord): boolean {
  return record.channel === 'status' && record.items.some((item) => item.online === false)
}

function deadLetterOf(record: MessageRecord): DeadLetter {
  let reason = record.rejects
    .map((reject) => (reject.index >= 0 ? `[${reject.index}] ${reject.reason}` : reject.reason))
    .join(' | ')
  if (reason.length > maxDeadLetterReasonChars)
    reason = `${reason.slice(0, maxDeadLetterReasonChars)}… (${record.rejects.length} objects refused)`
  return {
    receivedAt: record.receivedAt,
    siteId: record.siteId,
    deviceId: record.deviceId,
    topic: record.topic,
    stage: 'ingest',
    reason,
    payload: storedPayload(record.raw ?? ''),
  }
}

function readingsOf(record: MessageRecord): Reading[] {
  // One literal per reading, every reading the same shape: a spread of a shared base was a sixth
  // of the worker's time at province load (V8 clones such an object property by property).
  const readings = (record.items as readonly { ts: number }[]).map(
    (item) =>
      ({
        siteId: record.siteId,
        deviceId: record.deviceId,
        receivedAt: record.receivedAt,
        source: record.source,
        kind: record.kind,
        channel: record.channel,
        ts: eventTime(item.ts, record.receivedAt),
        data: item,
      }) as Reading,
  )
  // A backfilled array is evaluated in event time, whatever order the device packed it in.
  for (let i = 1; i < readings.length; i++) {
    if ((readings[i] as Reading).ts < (readings[i - 1] as Reading).ts)
      return readings.sort((a, b) => a.ts - b.ts)
  }
  return readings
}

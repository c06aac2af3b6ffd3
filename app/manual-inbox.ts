import type { Logger } from 'pino'
import { type ErrorCode, errorCatalog, isSitewardError, SitewardError } from '../domain/errors.js'
import type { MessageRecord } from '../domain/log-record.js'
import type { InboxSubmission, ManualInboxStore } from '../domain/ports.js'
import type { Principal } from '../domain/registry.js'
import type { SegmentLog } from '../storage/log/segment-log.js'
import type { RegistryRepository } from '../storage/sqlite/registry-repository.js'
import {
  type admitManualReadings,
  checkManualSubmission,
  type ManualReadingsResult,
} from './manual-readings.js'
import type { Doorbell } from './roles/doorbell.js'

/** The edge looks at the inbox this often when no ring comes (an API in another process). */
const inboxPollMs = 250
/** The API waits this long for the edge to take a submission before taking it back. */
const takeTimeoutMs = 10_000
/** Once taken, the edge is logging it: wait on for the answer, this long at most. */
const answerTimeoutMs = 30_000
const answerPollMs = 50

type Answer =
  | { readonly ok: ManualReadingsResult }
  | { readonly error: { code: string; message: string; details?: unknown } }

/**
 * The API's side of manual readings: checks who may submit, files the submission in the store's
 * inbox, rings the edge and waits for its answer. The edge is the log's only writer (issue 14),
 * so the API never appends itself.
 */
export async function fileManualReadings(
  parts: {
    readonly registry: Pick<RegistryRepository, 'getSite'>
    readonly inbox: ManualInboxStore
    readonly filed: Doorbell
    readonly answered: Doorbell
    /** How long the edge has to take it (10 s). */
    readonly takeTimeoutMs?: number
  },
  siteId: string,
  principal: Principal,
  body: unknown,
): Promise<ManualReadingsResult> {
  const filed = await checkManualSubmission(parts.registry, siteId, principal, body)
  const id = await parts.inbox.file(siteId, principal.name, filed, Date.now())
  parts.filed.ring()
  const answer = await waitForAnswer(parts, id)
  if ('ok' in answer) return answer.ok
  const { code, message, details } = answer.error
  throw new SitewardError(code in errorCatalog ? (code as ErrorCode) : 'INTERNAL_ERROR', message, details)
}

function waitForAnswer(
  parts: { readonly inbox: ManualInboxStore; readonly answered: Doorbell; readonly takeTimeoutMs?: number },
  id: number,
): Promise<Answer> {
  const takeWithinMs = parts.takeTimeoutMs ?? takeTimeoutMs
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const finish = (outcome: () => void) => {
      done = true
      clearInterval(timer)
      stopListening()
      outcome()
    }
    let looking = false
    let lookAgain = false
    let done = false
    const look = async (): Promise<void> => {
      if (done) return
      if (looking) {
        lookAgain = true // a ring during a look: look once more after it
        return
      }
      looking = true
      try {
        const result = await parts.inbox.resultOf(id)
        if (result !== undefined && result !== null) return finish(() => resolve(result as Answer))
        const waited = Date.now() - started
        if (waited >= takeWithinMs && (await parts.inbox.withdraw(id)))
          return finish(() => reject(new SitewardError('INGEST_UNAVAILABLE')))
        if (waited >= answerTimeoutMs)
          finish(() =>
            reject(
              new SitewardError(
                'INGEST_UNAVAILABLE',
                'The edge took the readings but has not answered in 30 s; check them in the history before sending again',
              ),
            ),
          )
      } catch (error) {
        finish(() => reject(error))
      } finally {
        looking = false
      }
      if (lookAgain) {
        lookAgain = false
        await look()
      }
    }
    const timer = setInterval(() => void look(), answerPollMs)
    const stopListening = parts.answered.onRing(() => void look())
  })
}

/**
 * The edge's side: takes filed submissions in order, logs their readings (admission, the same
 * as MQTT) and writes the answer into the row. A submission a previous run claimed and did not
 * answer is finished from where it stopped: what is in the log of it since the claim counts,
 * and only the rest is logged.
 */
export class ManualInboxDesk {
  private readonly parts: {
    readonly inbox: ManualInboxStore
    readonly log: SegmentLog
    readonly admit: (
      submission: InboxSubmission,
      logged: ReadonlyMap<number, MessageRecord>,
    ) => ReturnType<typeof admitManualReadings>
    readonly filed: Doorbell
    readonly answered: Doorbell
    readonly logger: Logger
  }
  private timer: NodeJS.Timeout | null = null
  private stopRinging: (() => void) | null = null
  private running: Promise<void> | null = null
  private again = false

  constructor(parts: ManualInboxDesk['parts']) {
    this.parts = parts
  }

  start(): void {
    this.stopRinging = this.parts.filed.onRing(() => this.take())
    this.timer = setInterval(() => this.take(), inboxPollMs)
    this.timer.unref()
    this.take()
  }

  /** Finishes the submission in hand; the rest wait in the store for the next start. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.stopRinging?.()
    this.again = false
    await this.running
  }

  /** Where the log must be kept from for submissions claimed and not answered (null: none). */
  holdsLogFrom(): Promise<number | null> {
    return this.parts.inbox.oldestClaim()
  }

  private take(): void {
    if (this.running !== null) {
      this.again = true
      return
    }
    this.running = this.takeAll()
      .catch((error: unknown) =>
        this.parts.logger.error({ err: error }, 'taking manual readings failed; will retry'),
      )
      .finally(() => {
        this.running = null
        if (this.again) {
          this.again = false
          this.take()
        }
      })
  }

  private async takeAll(): Promise<void> {
    for (;;) {
      const pending = await this.parts.inbox.pending(20)
      if (pending.length === 0) return
      for (const submission of pending) await this.takeOne(submission)
    }
  }

  private async takeOne(submission: InboxSubmission): Promise<void> {
    const { inbox, log } = this.parts
    const logged = submission.claimedAt === null ? new Map() : this.loggedSince(submission)
    if (submission.claimedAt === null) await inbox.claim(submission.id, log.endPosition)
    let answer: Answer
    try {
      answer = { ok: await this.parts.admit(submission, logged) }
    } catch (error) {
      if (!isSitewardError(error)) throw error // the log failed: the claim stays, retried later
      answer = { error: { code: error.code, message: error.message, details: error.details } }
    }
    await inbox.answer(submission.id, answer, Date.now())
    this.parts.answered.ring()
  }

  private loggedSince(submission: InboxSubmission): Map<number, MessageRecord> {
    const found = new Map<number, MessageRecord>()
    for (let position = submission.claimedAt ?? 0; ; ) {
      const { records, next } = this.parts.log.readFrom(position, 10_000)
      if (records.length === 0) return found
      for (const { record } of records)
        if (record.type === 'message' && record.inbox?.id === submission.id)
          found.set(record.inbox.index, record)
      position = next
    }
  }
}

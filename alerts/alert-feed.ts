import type { Logger } from 'pino'
import { type Observable, Subject } from 'rxjs'
import type { AlertChange } from '../domain/alert.js'
import type { AlertStore } from '../domain/ports.js'

/** Without a ring, the store is read this often: what another process committed shows this late. */
const pollMs = 250
const pageEvents = 1_000

export interface AlertFeedOptions {
  readonly store: Pick<AlertStore, 'eventsAfter' | 'lastEventSeq'>
  readonly logger: Logger
  readonly pollMs?: number
}

/**
 * Every committed alert timeline event, in seq order, read from the store: what the SSE stream
 * and the MQTT alert topics send. Whoever commits a change may `ring()` to have it read at once
 * (the alert service does, in the same process); otherwise the store is polled. So the roles
 * that show alerts learn of them through the store, not from the object that made them.
 */
export class AlertFeed {
  private readonly options: AlertFeedOptions
  private readonly changes = new Subject<AlertChange>()
  private lastSeq = 0
  private timer: NodeJS.Timeout | null = null
  private readScheduled = false
  /** The read in progress: reads never overlap, and a ring during one reads again after it. */
  private reading: Promise<void> | null = null
  private readAgain = false
  readonly changes$: Observable<AlertChange> = this.changes.asObservable()

  constructor(options: AlertFeedOptions) {
    this.options = options
  }

  /** Starts after what is in the store now (earlier events are history: `changesAfter`). */
  async start(): Promise<void> {
    this.lastSeq = await this.options.store.lastEventSeq()
    this.timer = setInterval(() => void this.read(), this.options.pollMs ?? pollMs)
    this.timer.unref()
  }

  /** Something was committed: read the store on the next turn of the event loop. */
  ring(): void {
    if (this.readScheduled || this.timer === null) return
    this.readScheduled = true
    setImmediate(() => {
      this.readScheduled = false
      void this.read()
    })
  }

  /** Reads what was committed before it was called, then completes the stream. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.read()
    if (this.reading !== null) await this.reading
    this.changes.complete()
  }

  private read(): Promise<void> {
    if (this.reading !== null) {
      this.readAgain = true
      return this.reading
    }
    const reading = (async () => {
      do {
        this.readAgain = false
        await this.readPages()
      } while (this.readAgain)
    })()
    this.reading = reading.finally(() => {
      this.reading = null
    })
    return this.reading
  }

  private async readPages(): Promise<void> {
    try {
      for (;;) {
        const page = await this.options.store.eventsAfter(this.lastSeq, pageEvents)
        for (const change of consecutiveByAlert(page)) {
          for (const event of change.events) this.lastSeq = Math.max(this.lastSeq, event.seq)
          this.changes.next(change)
        }
        if (page.length < pageEvents) return
      }
    } catch (error) {
      this.options.logger.error(
        { err: error, afterSeq: this.lastSeq },
        'reading alert changes failed; will retry',
      )
    }
  }
}

/**
 * One change per alert for events that follow each other (one transaction's re-activation and
 * severity rise): the MQTT topic gets the alert once, the SSE stream still every event.
 */
function consecutiveByAlert(page: readonly AlertChange[]): AlertChange[] {
  const merged: AlertChange[] = []
  for (const change of page) {
    const last = merged.at(-1)
    if (last !== undefined && last.alert.id === change.alert.id)
      merged[merged.length - 1] = { alert: change.alert, events: [...last.events, ...change.events] }
    else merged.push(change)
  }
  return merged
}

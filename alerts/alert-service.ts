import type { Logger } from 'pino'
import { type Observable, Subject } from 'rxjs'
import type { Alert, AlertChange, AlertEvent, AlertFilter, Transition } from '../domain/alert.js'
import { SitewardError } from '../domain/errors.js'
import { type EscalationPolicy, escalationTarget } from '../domain/escalation.js'
import type { AlertStore } from '../domain/ports.js'
import type { Principal, Site } from '../domain/registry.js'
import type { GroupTally } from '../domain/report.js'
import type { KeyedSignal } from '../domain/rules.js'
import { canSeeSite, siteFilter } from '../domain/scope.js'

export interface AlertServiceOptions {
  readonly store: AlertStore
  readonly site: (siteId: string) => Promise<Pick<Site, 'id' | 'region'> | undefined>
  readonly logger: Logger
  readonly now?: () => number
}

/**
 * Signals become alerts and people move them through the loop, each change one transaction in
 * the store. The timeline in the store is the record: the SSE stream and the MQTT alert topics
 * follow it (AlertFeed, AlertPublication), the shipper turns it into `alert_event` points.
 * `changes$` tells this process's feed to read at once, after the commit.
 */
export class AlertService {
  private readonly options: AlertServiceOptions
  private readonly now: () => number
  private readonly changes = new Subject<AlertChange>()
  readonly changes$: Observable<AlertChange> = this.changes.asObservable()

  constructor(options: AlertServiceOptions) {
    this.options = options
    this.now = options.now ?? Date.now
  }

  /** A rule signal for one key, outside any batch (a data gap's timer). */
  async handle(signal: KeyedSignal): Promise<AlertChange | null> {
    const change = await this.options.store.applySignal(signal, this.now())
    if (change !== null) this.announce(change)
    return change
  }

  /**
   * Announces changes another transaction committed (the worker's batch): announced only after
   * the commit, so an alert whose transaction rolled back (or died with the process) never was.
   */
  announceCommitted(changes: readonly AlertChange[]): void {
    for (const change of changes) this.announce(change)
  }

  async get(id: string, principal: Principal): Promise<Alert> {
    const alert = await this.options.store.get(id)
    if (alert === undefined || !(await this.visible(principal, alert.siteId)))
      throw new SitewardError('ALERT_NOT_FOUND', `no alert ${id} in your scope`)
    return alert
  }

  list(principal: Principal, filter: AlertFilter, limit: number, cursor?: string) {
    return this.options.store.list({ ...filter, ...scopeFilter(principal) }, limit, cursor)
  }

  /** The summary report's figures per group, over the alerts in the caller's scope. */
  reportTallies(
    principal: Principal,
    filter: AlertFilter,
    options: Parameters<AlertStore['reportTallies']>[1],
  ): Promise<GroupTally[]> {
    return this.options.store.reportTallies({ ...filter, ...scopeFilter(principal) }, options)
  }

  async events(id: string, principal: Principal): Promise<AlertEvent[]> {
    await this.get(id, principal)
    return this.options.store.events(id)
  }

  async verify(id: string, principal: Principal) {
    await this.get(id, principal)
    return this.options.store.verify(id)
  }

  async transition(
    id: string,
    transition: Transition,
    principal: Principal,
    expectedVersion: number | undefined,
  ): Promise<AlertChange & { changed: boolean }> {
    await this.get(id, principal)
    const change = await this.options.store.transition(id, transition, principal, expectedVersion, this.now())
    if (change.changed) this.announce(change)
    return change
  }

  async comment(id: string, principal: Principal, text: string): Promise<AlertChange> {
    await this.get(id, principal)
    if (principal.role === 'regulator')
      throw new SitewardError('FORBIDDEN', 'the regulator role may not comment on alerts')
    const change = await this.options.store.comment(id, principal, text, this.now())
    this.announce(change)
    return change
  }

  /**
   * Escalates every alert whose deadlines have passed, one level per missed deadline, each with an
   * `escalated` event and a notification. Returns how many steps were taken.
   */
  async escalateDue(policy: EscalationPolicy): Promise<number> {
    const now = this.now()
    let steps = 0
    for (const candidate of await this.options.store.escalationCandidates()) {
      const target = escalationTarget(candidate, policy, now)
      for (let level = candidate.escalationLevel; level < target; level++) {
        const reason = candidate.state === 'open' ? 'not acknowledged in time' : 'not resolved in time'
        const change = await this.options.store.escalate(candidate.id, level, reason, now)
        if (change === null) break
        steps += 1
        this.announce(change)
      }
    }
    return steps
  }

  /** Changes after timeline event `seq` that the caller may see (SSE `Last-Event-ID`). */
  async changesAfter(seq: number, principal: Principal, limit = 1_000): Promise<AlertChange[]> {
    const changes = await this.options.store.eventsAfter(seq, limit)
    const visible: AlertChange[] = []
    for (const change of changes) if (await this.visible(principal, change.alert.siteId)) visible.push(change)
    return visible
  }

  /** Whether a caller may see an alert of this site (for the SSE stream). */
  async visible(principal: Principal, siteId: string): Promise<boolean> {
    const site = await this.options.site(siteId)
    return site !== undefined && canSeeSite(principal, site)
  }

  stop(): void {
    this.changes.complete()
  }

  private announce(change: AlertChange): void {
    this.changes.next(change)
  }
}

function scopeFilter(principal: Principal): Pick<AlertFilter, 'siteIds' | 'region'> {
  const filter = siteFilter(principal)
  return { siteIds: filter.ids, region: filter.region }
}

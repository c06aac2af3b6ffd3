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

/** Publishes to MQTT on the engine's behalf (the broker, injected by the composition root). */
export interface AlertPublisher {
  publish(packet: { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean }): Promise<void>
}

export interface AlertServiceOptions {
  readonly store: AlertStore
  readonly publisher: AlertPublisher | null
  readonly site: (siteId: string) => Pick<Site, 'id' | 'region'> | undefined
  readonly logger: Logger
  readonly now?: () => number
}

export const alertTopic = (siteId: string, alertId: string) => `sites/${siteId}/alerts/${alertId}`

/**
 * Signals become alerts, people move them through the loop, and every change is announced:
 * on `changes$` (the SSE stream) and on MQTT `sites/{siteId}/alerts/{alertId}` (QoS 1, retained
 * while not closed, the retained copy removed on close). The timeline in the store is the
 * record; the shipper turns it into `alert_event` points (AlertEventShipper).
 */
export class AlertService {
  private readonly options: AlertServiceOptions
  private readonly now: () => number
  private readonly changes = new Subject<AlertChange>()
  /** Changes held back while a batch's transaction is open (see `holdAnnouncements`). */
  private held: AlertChange[] | null = null
  readonly changes$: Observable<AlertChange> = this.changes.asObservable()

  constructor(options: AlertServiceOptions) {
    this.options = options
    this.now = options.now ?? Date.now
  }

  /** A rule signal for one key (from the rule pipeline). */
  handle(signal: KeyedSignal): AlertChange | null {
    const change = this.options.store.applySignal(signal, this.now())
    if (change !== null) this.announce(change)
    return change
  }

  /**
   * Runs `work` (a transaction of rule signals) and announces its changes only once it returns:
   * an alert whose transaction rolled back (or died with the process) was never announced.
   */
  holdAnnouncements(work: () => void): void {
    if (this.held !== null) throw new Error('announcements are already held')
    const held: AlertChange[] = []
    this.held = held
    try {
      work()
    } finally {
      this.held = null
    }
    for (const change of held) this.announce(change)
  }

  get(id: string, principal: Principal): Alert {
    const alert = this.options.store.get(id)
    if (alert === undefined || !this.visible(principal, alert.siteId))
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
  ): GroupTally[] {
    return this.options.store.reportTallies({ ...filter, ...scopeFilter(principal) }, options)
  }

  events(id: string, principal: Principal): AlertEvent[] {
    this.get(id, principal)
    return this.options.store.events(id)
  }

  verify(id: string, principal: Principal) {
    this.get(id, principal)
    return this.options.store.verify(id)
  }

  transition(
    id: string,
    transition: Transition,
    principal: Principal,
    expectedVersion: number | undefined,
  ): AlertChange & { changed: boolean } {
    this.get(id, principal)
    const change = this.options.store.transition(id, transition, principal, expectedVersion, this.now())
    if (change.changed) this.announce(change)
    return change
  }

  comment(id: string, principal: Principal, text: string): AlertChange {
    this.get(id, principal)
    if (principal.role === 'regulator')
      throw new SitewardError('FORBIDDEN', 'the regulator role may not comment on alerts')
    const change = this.options.store.comment(id, principal, text, this.now())
    this.announce(change)
    return change
  }

  /**
   * Escalates every alert whose deadlines have passed, one level per missed deadline, each with an
   * `escalated` event and a notification. Returns how many steps were taken.
   */
  escalateDue(policy: EscalationPolicy): number {
    const now = this.now()
    let steps = 0
    for (const candidate of this.options.store.escalationCandidates()) {
      const target = escalationTarget(candidate, policy, now)
      for (let level = candidate.escalationLevel; level < target; level++) {
        const reason = candidate.state === 'open' ? 'not acknowledged in time' : 'not resolved in time'
        const change = this.options.store.escalate(candidate.id, level, reason, now)
        if (change === null) break
        steps += 1
        this.announce(change)
      }
    }
    return steps
  }

  /**
   * The broker keeps retained messages in memory only: after a start, publish every alert that
   * is not closed again, so sirens and cab displays that subscribe see what is still open.
   */
  async republishNotClosed(): Promise<number> {
    const open = this.options.store.notClosed()
    for (const alert of open) await this.publish(alert)
    return open.length
  }

  /** Changes after timeline event `seq` that the caller may see (SSE `Last-Event-ID`). */
  changesAfter(seq: number, principal: Principal, limit = 1_000): AlertChange[] {
    return this.options.store
      .eventsAfter(seq, limit)
      .filter((change) => this.visible(principal, change.alert.siteId))
  }

  /** Whether a caller may see an alert of this site (for the SSE stream). */
  visible(principal: Principal, siteId: string): boolean {
    const site = this.options.site(siteId)
    return site !== undefined && canSeeSite(principal, site)
  }

  stop(): void {
    this.changes.complete()
  }

  private announce(change: AlertChange): void {
    if (this.held !== null) {
      this.held.push(change)
      return
    }
    const { alert } = change
    this.changes.next(change)
    void this.publish(alert)
  }

  private async publish(alert: Alert): Promise<void> {
    const publisher = this.options.publisher
    if (publisher === null) return
    const topic = alertTopic(alert.siteId, alert.id)
    try {
      const payload = Buffer.from(JSON.stringify(alert))
      if (alert.state !== 'closed') {
        await publisher.publish({ topic, payload, qos: 1, retain: true })
        return
      }
      // Closed: tell subscribers, then remove the retained copy (an empty retained message).
      await publisher.publish({ topic, payload, qos: 1, retain: false })
      await publisher.publish({ topic, payload: Buffer.alloc(0), qos: 1, retain: true })
    } catch (error) {
      this.options.logger.error(
        { err: error, alertId: alert.id, topic },
        'could not publish the alert on MQTT',
      )
    }
  }
}

function scopeFilter(principal: Principal): Pick<AlertFilter, 'siteIds' | 'region'> {
  const filter = siteFilter(principal)
  return { siteIds: filter.ids, region: filter.region }
}

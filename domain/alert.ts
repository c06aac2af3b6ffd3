import { z } from 'zod'
import { SitewardError } from './errors.js'
import type { EscalationPolicy } from './escalation.js'
import type { Principal } from './registry.js'
import { severitySchema } from './rules.js'

export const alertStates = ['open', 'acknowledged', 'resolved', 'closed'] as const
export const alertStateSchema = z.enum(alertStates)
export type AlertState = z.infer<typeof alertStateSchema>

const stepRecord = z.object({ by: z.string(), at: z.string(), note: z.string().nullable() })

/** CONTRACT §5.2. */
export const alertSchema = z.object({
  id: z.string(),
  siteId: z.string(),
  deviceId: z.string(),
  ruleId: z.string(),
  subject: z.string(),
  severity: severitySchema,
  state: alertStateSchema,
  condition: z.enum(['active', 'cleared']),
  value: z.number().nullable(),
  peakValue: z.number().nullable(),
  threshold: z.number().nullable(),
  thresholdOrigin: z.string(),
  count: z.number().int(),
  firstAt: z.string(),
  lastAt: z.string(),
  clearedAt: z.string().nullable(),
  escalationLevel: z.number().int(),
  retrospective: z.boolean(),
  /** When the engine raised it (engine time; `firstAt` is the device's time of the breach). */
  raisedAt: z.string(),
  version: z.number().int(),
  acknowledged: stepRecord.nullable(),
  resolved: stepRecord.extend({ action: z.string() }).nullable(),
  closed: stepRecord.nullable(),
})
export type Alert = z.infer<typeof alertSchema>

export const alertEventTypes = [
  'raised',
  'updated',
  'severity_raised',
  'cleared',
  're_activated',
  'acknowledged',
  'resolved',
  'closed',
  'escalated',
  'comment',
] as const
export type AlertEventType = (typeof alertEventTypes)[number]

export const alertEventSchema = z.object({
  seq: z.number().int(),
  alertId: z.string(),
  type: z.enum(alertEventTypes),
  actor: z.string(),
  at: z.string(),
  data: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
})
export type AlertEvent = z.infer<typeof alertEventSchema>

export type Transition =
  | { readonly action: 'acknowledge'; readonly note: string | null }
  | { readonly action: 'resolve'; readonly note: string | null; readonly resolution: string }
  | { readonly action: 'close'; readonly note: string | null }

/** What a person's action does to an alert: apply it, or nothing because it already happened. */
export type TransitionDecision =
  | { readonly kind: 'apply'; readonly to: AlertState }
  | { readonly kind: 'unchanged' }

const reached = (state: AlertState, target: AlertState) =>
  alertStates.indexOf(state) >= alertStates.indexOf(target)

/**
 * The closed loop (CONTRACT §5, DOMAIN.md §3): open → acknowledged → resolved → closed. Officers
 * and supervisors acknowledge and resolve; only supervisors (and admins) close, and only once
 * the condition has cleared. Repeating a step that already happened changes nothing (200).
 * Throws a coded error for what is not allowed.
 */
export function decideTransition(
  alert: Pick<Alert, 'state' | 'condition'>,
  transition: Transition,
  principal: Principal,
): TransitionDecision {
  const mayAct = principal.role === 'officer' || principal.role === 'supervisor' || principal.role === 'admin'
  if (!mayAct)
    throw new SitewardError('FORBIDDEN', `the ${principal.role} role may not ${transition.action} alerts`)
  switch (transition.action) {
    case 'acknowledge':
      return reached(alert.state, 'acknowledged')
        ? { kind: 'unchanged' }
        : { kind: 'apply', to: 'acknowledged' }
    case 'resolve':
      if (reached(alert.state, 'resolved')) return { kind: 'unchanged' }
      if (alert.state === 'open')
        throw new SitewardError('ALERT_NOT_ACKNOWLEDGED', 'acknowledge the alert before resolving it')
      return { kind: 'apply', to: 'resolved' }
    case 'close':
      if (principal.role !== 'supervisor' && principal.role !== 'admin') {
        throw new SitewardError('FORBIDDEN', 'only a supervisor may close alerts')
      }
      if (alert.state === 'closed') return { kind: 'unchanged' }
      if (alert.state !== 'resolved')
        throw new SitewardError('ALERT_NOT_RESOLVED', 'only a resolved alert can be closed')
      if (alert.condition === 'active') {
        throw new SitewardError(
          'ALERT_CONDITION_ACTIVE',
          'the condition is still active; close the alert once it has cleared',
        )
      }
      return { kind: 'apply', to: 'closed' }
  }
}

/** An alert that changed, with the timeline events the change appended. */
export interface AlertChange {
  readonly alert: Alert
  readonly events: readonly AlertEvent[]
}

export interface AlertFilter {
  readonly siteIds?: readonly string[] | undefined
  readonly region?: string | null | undefined
  readonly siteId?: string | undefined
  readonly deviceId?: string | undefined
  readonly ruleId?: string | undefined
  readonly state?: AlertState | undefined
  readonly severity?: Alert['severity'] | undefined
  readonly from?: number | undefined
  readonly to?: number | undefined
  /** Incidents (CONTRACT §5.1): a region to narrow to, within the caller's scope (`region`). */
  readonly inRegion?: string | undefined
  readonly condition?: 'active' | 'cleared' | undefined
  readonly retrospective?: boolean | undefined
  /** Escalated at least once (true), or never (false). */
  readonly escalated?: boolean | undefined
  /** Has reached this step: `acknowledged` also counts resolved and closed alerts. */
  readonly reached?: 'acknowledged' | 'resolved' | 'closed' | undefined
  /** Not closed yet. */
  readonly notClosed?: boolean | undefined
  /** Past its acknowledge or resolve deadline at `now` and not yet past that step. */
  readonly overdue?: { readonly now: number; readonly policy: EscalationPolicy } | undefined
  /** When the alert was raised (engine time), from inclusive, to exclusive. */
  readonly raisedFrom?: number | undefined
  readonly raisedTo?: number | undefined
}

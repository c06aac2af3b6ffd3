import type { Severity } from './rules.js'

/**
 * How long an alert may stay unacknowledged, then unresolved, before it goes up the chain
 * (officer → project manager → supervisor → regulator, DOMAIN.md §3). No regulation gives these
 * times: the acknowledge defaults are DOMAIN.md's, the resolve defaults ours; both configurable.
 */
export interface EscalationPolicy {
  readonly acknowledgeWithinMs: Readonly<Record<Severity, number>>
  readonly resolveWithinMs: Readonly<Record<Severity, number>>
  /** The top of the chain: level 3 reaches the regulator. */
  readonly maxLevel: number
}

const minute = 60_000

export const defaultEscalationPolicy: EscalationPolicy = {
  acknowledgeWithinMs: { critical: 5 * minute, alarm: 15 * minute, warning: 60 * minute },
  resolveWithinMs: { critical: 60 * minute, alarm: 4 * 60 * minute, warning: 24 * 60 * minute },
  maxLevel: 3,
}

export interface EscalationCandidate {
  readonly id: string
  readonly severity: Severity
  readonly state: 'open' | 'acknowledged'
  readonly raisedAt: number
  readonly acknowledgedAt: number | null
  readonly escalationLevel: number
}

/**
 * The level an alert should have reached by `now`: one level per deadline missed, counted from
 * when it was raised (not yet acknowledged) or acknowledged (not yet resolved). Derived from
 * stored times only, so a restart neither loses nor repeats an escalation.
 */
export function escalationTarget(alert: EscalationCandidate, policy: EscalationPolicy, now: number): number {
  const since = alert.state === 'open' ? alert.raisedAt : (alert.acknowledgedAt ?? alert.raisedAt)
  const deadline =
    alert.state === 'open'
      ? policy.acknowledgeWithinMs[alert.severity]
      : policy.resolveWithinMs[alert.severity]
  const missed = Math.floor((now - since) / deadline)
  return Math.max(alert.escalationLevel, Math.min(policy.maxLevel, missed))
}

/**
 * When `escalationTarget` next goes up if nobody acts: the end of the next missed deadline, or
 * null once the alert is resolved or at the top of the chain. The console shows it as the deadline.
 */
export function nextEscalationAt(
  alert: Omit<EscalationCandidate, 'id'>,
  policy: EscalationPolicy,
): number | null {
  if (alert.escalationLevel >= policy.maxLevel) return null
  const since = alert.state === 'open' ? alert.raisedAt : (alert.acknowledgedAt ?? alert.raisedAt)
  const deadline =
    alert.state === 'open'
      ? policy.acknowledgeWithinMs[alert.severity]
      : policy.resolveWithinMs[alert.severity]
  return since + (alert.escalationLevel + 1) * deadline
}

import type { Rule, Severity } from '../domain/rules.js'
import { type ItemContext, otherUnknownCodes, type WorkItem } from './work-items.js'

/**
 * Codes a device reports: on the `event` channel (a moment), in a cycle's `violations` (a lift
 * that broke a rule: a moment too), or in telemetry's `deviceAlarms`, the monitor's alarm state,
 * repeated while it lasts. Every code JGJ 332-2014 names maps to a rule; a code that nothing maps
 * is never dropped: it raises the kind's `unknown_code` rule under the code's name (DOMAIN.md §4).
 */
export function codeItems(
  context: ItemContext,
  reported: readonly string[],
  as: 'event' | 'violation' | 'state',
): WorkItem[] {
  const { reading, index } = context
  const known = index.codes.get(reading.kind)
  const unknownRule = index.unknown.get(reading.kind)
  const items: WorkItem[] = []
  // Moments: a raise and a clear at once; the alert stays open for people to handle.
  const moment = (rule: Rule, subject: string, severity: Severity, origin: string) => {
    if (context.override(rule)?.settings.enabled === false) return
    items.push({ ...context.base(rule, subject, origin), kind: 'event', severity, ts: reading.ts })
  }
  const unknown = (code: string, origin: string) => {
    if (unknownRule === undefined || unknownRule.condition.kind !== 'unknown_code') return
    moment(
      unknownRule,
      context.memory.unknownSubject(reading.deviceId, code),
      unknownRule.condition.severity,
      origin,
    )
  }
  if (as !== 'state') {
    const origin = as === 'event' ? 'rule default' : 'violation in a work cycle'
    for (const code of new Set(reported)) {
      const mapped = known?.get(code)
      if (mapped !== undefined) moment(mapped.rule, code, mapped.severity, origin)
      else unknown(code, `${origin}: code ${code} is not in the catalogue`)
    }
    return items
  }
  // A state: each mapped code breaches while listed and clears when a later list leaves it out
  // (one alert per code, the same key as the event channel's).
  const listed = new Set(reported)
  for (const rule of index.codeRules.get(reading.kind) ?? []) {
    if (rule.condition.kind !== 'event' || context.override(rule)?.settings.enabled === false) continue
    for (const [code, severity] of Object.entries(rule.condition.codes)) {
      if (known?.get(code)?.rule !== rule) continue // a code two rules name belongs to the first
      items.push({
        ...context.base(rule, code, 'device alarm state'),
        kind: 'threshold',
        sample: { ts: reading.ts, value: listed.has(code) ? 1 : 0 },
        limits: { direction: 'above', levels: { [severity]: 1 }, hysteresis: 0, minSamples: 1 },
      })
    }
  }
  const strange = [...listed].filter((code) => known?.has(code) !== true)
  if (unknownRule === undefined || unknownRule.condition.kind !== 'unknown_code') return items
  if (context.outOfOrder) {
    // A backfilled list is a past state whose end may never arrive: each code is a moment.
    for (const code of strange) unknown(code, `device alarm state: code ${code} is not in the catalogue`)
    return items
  }
  if (context.override(unknownRule)?.settings.enabled === false) return items
  const severity = unknownRule.condition.severity
  const active = context.memory.listedUnknown.get(reading.deviceId) ?? new Set<string>()
  const now = new Set(strange.map((code) => context.memory.unknownSubject(reading.deviceId, code)))
  for (const subject of new Set([...active, ...now])) {
    const on = now.has(subject)
    items.push({
      ...context.base(
        unknownRule,
        subject,
        subject === otherUnknownCodes
          ? 'device alarm state: more unknown codes'
          : 'device alarm state: not in the catalogue',
      ),
      kind: 'threshold',
      sample: { ts: reading.ts, value: on ? 1 : 0 },
      limits: { direction: 'above', levels: { [severity]: 1 }, hysteresis: 0, minSamples: 1 },
    })
  }
  context.memory.listedUnknown.set(reading.deviceId, now)
  return items
}

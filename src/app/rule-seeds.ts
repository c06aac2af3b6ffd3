import type { Rule } from '../domain/rules.js'
import { alertKey } from '../rules/pipeline.js'
import { initialThresholdState, type ThresholdState } from '../rules/threshold.js'

/**
 * What the rule engine resumes from besides its saved state, after a restart: the live breaches
 * in progress (the only state a store from before migration v5 has), and the devices whose
 * silence was already raised (their data-gap watch resumes as raised, so their return clears it).
 */
export function restartSeeds(
  rules: readonly Rule[],
  activeBreaches: readonly {
    siteId: string
    deviceId: string
    ruleId: string
    subject: string
    severity: ThresholdState['active']
    peakValue: number | null
  }[],
): { seeds: Map<string, ThresholdState>; openGapDevices: Set<string> } {
  const seeds = new Map<string, ThresholdState>()
  const openGapDevices = new Set<string>()
  const gapRules = new Set(rules.filter((rule) => rule.condition.kind === 'data_gap').map((rule) => rule.id))
  for (const breach of activeBreaches) {
    if (gapRules.has(breach.ruleId)) openGapDevices.add(breach.deviceId)
    const key = alertKey(breach.siteId, breach.deviceId, breach.ruleId, breach.subject)
    seeds.set(key, { ...initialThresholdState(), active: breach.severity, peak: breach.peakValue })
  }
  return { seeds, openGapDevices }
}

import { type CraneTelemetry, craneMetricNames, craneModes } from './payloads.js'

const modes: ReadonlySet<string> = new Set(craneModes)
const maxCodes = 64
const maxCodeChars = 64
const maxOperatorChars = 64

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0

/**
 * The hot path's check of a crane telemetry object, the message nearly every reading is: a few
 * typeof tests in one pass instead of zod's generic walk (issue 14, BENCHMARKS.md). It accepts
 * only what `craneTelemetrySchema` accepts and builds the same output (known fields only, `ts`
 * in epoch milliseconds). Anything it is not sure of (an ISO `ts`, a field of the wrong type, no
 * metric) returns `undefined`, and zod decides, with its messages for the refused few.
 * test/domain/fast-validation.test.ts holds the two to the same answers.
 */
export function fastCraneTelemetry(object: unknown): CraneTelemetry | undefined {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) return undefined
  const input = object as Record<string, unknown>
  const { ts, seq, mode, operatorId, deviceAlarms } = input
  if (!isCount(ts)) return undefined
  if (seq !== undefined && !isCount(seq)) return undefined
  const output: Record<string, unknown> = seq === undefined ? { ts } : { ts, seq }
  let measured = false
  for (const name of craneMetricNames) {
    const value = input[name]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value)) return undefined
    output[name] = value
    measured = true
  }
  if (mode !== undefined) {
    if (typeof mode !== 'string' || !modes.has(mode)) return undefined
    output.mode = mode
    measured = true
  }
  if (operatorId !== undefined) {
    if (typeof operatorId !== 'string' || operatorId.length > maxOperatorChars) return undefined
    output.operatorId = operatorId
  }
  if (deviceAlarms !== undefined) {
    if (!Array.isArray(deviceAlarms) || deviceAlarms.length > maxCodes) return undefined
    for (const code of deviceAlarms)
      if (typeof code !== 'string' || code.length === 0 || code.length > maxCodeChars) return undefined
    output.deviceAlarms = [...deviceAlarms]
    measured = true
  }
  return measured ? (output as CraneTelemetry) : undefined
}

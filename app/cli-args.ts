import { parseArgs } from 'node:util'

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export type Values = Record<string, string | string[] | boolean | undefined>

/** Every option any store command takes; each command's usage says which are its own. */
export const optionsSpec = {
  id: { type: 'string' },
  name: { type: 'string' },
  region: { type: 'string' },
  'pit-grade': { type: 'string' },
  'pit-depth-m': { type: 'string' },
  'support-type': { type: 'string' },
  'rock-socketed': { type: 'string' },
  'base-slab-cast': { type: 'string' },
  site: { type: 'string', multiple: true },
  kind: { type: 'string' },
  role: { type: 'string' },
  rule: { type: 'string' },
  device: { type: 'string' },
  warning: { type: 'string' },
  alarm: { type: 'string' },
  critical: { type: 'string' },
  hysteresis: { type: 'string' },
  'min-samples': { type: 'string' },
  enabled: { type: 'string' },
  point: { type: 'string' },
  item: { type: 'string' },
  baseline: { type: 'string' },
  'design-value': { type: 'string' },
  capacity: { type: 'string' },
  prestress: { type: 'string' },
  'design-load': { type: 'string' },
  'cumulative-alarm': { type: 'string' },
  'rate-alarm': { type: 'string' },
  pair: { type: 'string' },
  'differential-alarm': { type: 'string' },
  resolution: { type: 'string' },
  'expected-interval': { type: 'string' },
  'rated-capacity-t': { type: 'string' },
  'hook-height-max-m': { type: 'string' },
  'radius-min-m': { type: 'string' },
  'radius-max-m': { type: 'string' },
  'forbidden-slew': { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export function parseValues(args: readonly string[]): Values {
  try {
    return parseArgs({ args: [...args], options: optionsSpec, strict: true, allowPositionals: false })
      .values as Values
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

export function required(values: Values, name: string): string {
  let value = values[name]
  if (Array.isArray(value)) {
    if (value.length > 1) throw new UsageError(`--${name} may be given only once here`)
    value = value[0]
  }
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`)
  return value
}

export function optionalString(values: Values, name: string): string | undefined {
  const value = values[name]
  if (Array.isArray(value)) return value[0]
  return typeof value === 'string' ? value : undefined
}

export function optionalNumber(values: Values, name: string): number | undefined {
  const value = optionalString(values, name)
  if (value === undefined) return undefined
  const number = Number(value)
  if (value.trim() === '' || !Number.isFinite(number))
    throw new UsageError(`--${name} must be a number, got "${value}"`)
  return number
}

/** A number, or `none` to remove a setting (null); undefined when absent. */
export function numberOrNone(values: Values, name: string): number | null | undefined {
  return optionalString(values, name) === 'none' ? null : optionalNumber(values, name)
}

export function optionalBoolean(values: Values, name: string): boolean | undefined {
  const text = optionalString(values, name)
  if (text === undefined) return undefined
  if (text === 'true' || text === 'false') return text === 'true'
  throw new UsageError(`--${name} must be true or false, got "${text}"`)
}

const durationUnitsMs: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** "30s", "15m", "24h", "1d" → milliseconds; `none` → null (remove). */
export function durationOrNone(values: Values, name: string): number | null | undefined {
  const text = optionalString(values, name)
  if (text === undefined) return undefined
  if (text === 'none') return null
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text)
  if (match === null)
    throw new UsageError(`--${name} must be a duration such as 30s, 15m, 24h or 1d, got "${text}"`)
  return Math.round(Number(match[1]) * (durationUnitsMs[match[2] as string] ?? 1))
}

/** "30-60" (clockwise from 30° to 60°) → { fromDeg, toDeg }. */
export function slewSectors(
  values: Values,
  name: string,
): { fromDeg: number; toDeg: number }[] | null | undefined {
  const given = values[name]
  if (given === undefined) return undefined
  const list = Array.isArray(given) ? given : [String(given)]
  if (list.length === 1 && list[0] === 'none') return null
  return list.map((text) => {
    const match = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text)
    if (match === null)
      throw new UsageError(`--${name} must be FROM-TO in degrees (clockwise), e.g. 30-60, got "${text}"`)
    return { fromDeg: Number(match[1]), toDeg: Number(match[2]) }
  })
}

import { z } from 'zod'
import { describeValue } from './issues.js'

/**
 * Wire payload schemas of CONTRACT §2.1: the one definition used by MQTT ingest, the manual
 * readings route and the simulators. Unknown fields are ignored (z.object strips them); a known
 * field of the wrong type rejects the object.
 */

const timestampHelp = 'ISO-8601 date-time with offset (e.g. 2026-05-01T08:00:00+08:00) or epoch milliseconds'

/** `ts`: ISO-8601 with an offset, or epoch milliseconds. Output: epoch milliseconds. */
export const timestampSchema = z
  .union(
    [
      z.number().int().nonnegative(),
      z.iso.datetime({
        offset: true,
        error: (issue) => `expected ${timestampHelp}, got "${String(issue.input).slice(0, 40)}"`,
      }),
    ],
    {
      error: (issue) =>
        issue.input === undefined
          ? `required: ${timestampHelp}`
          : `expected ${timestampHelp}, got ${describeValue(issue.input)}`,
    },
  )
  .transform((value) => (typeof value === 'number' ? value : Date.parse(value)))

const seqSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
const envelope = { ts: timestampSchema, seq: seqSchema.optional() }
const code = z.string().min(1).max(64)

export const craneModes = ['work', 'erection', 'jacking', 'idle', 'out_of_service'] as const

/** Numeric crane metrics; every one optional, at least one of these or `mode` present. */
export const craneMetricNames = [
  'loadT',
  'ratedLoadT',
  'loadPct',
  'momentPct',
  'radiusM',
  'hookHeightM',
  'slewDeg',
  'windMps',
  'tiltDeg',
  'powerV',
] as const
export type CraneMetricName = (typeof craneMetricNames)[number]

export const craneTelemetrySchema = z
  .object({
    ...envelope,
    loadT: z.number().optional(),
    ratedLoadT: z.number().optional(),
    loadPct: z.number().optional(),
    momentPct: z.number().optional(),
    radiusM: z.number().optional(),
    hookHeightM: z.number().optional(),
    slewDeg: z.number().optional(),
    windMps: z.number().optional(),
    tiltDeg: z.number().optional(),
    powerV: z.number().optional(),
    mode: z.enum(craneModes).optional(),
    operatorId: z.string().max(64).optional(),
    deviceAlarms: z.array(code).max(64).optional(),
  })
  .refine(
    (t) =>
      craneMetricNames.some((name) => t[name] !== undefined) ||
      t.mode !== undefined ||
      t.deviceAlarms !== undefined,
    {
      message: `at least one metric is required (${craneMetricNames.join(', ')}, mode or deviceAlarms)`,
    },
  )
export type CraneTelemetry = z.output<typeof craneTelemetrySchema>

export const craneCycleSchema = z
  .object({
    ...envelope,
    startTs: timestampSchema,
    cycleNo: z.number().int().nonnegative(),
    operatorId: z.string().max(64),
    maxLoadT: z.number(),
    maxMomentPct: z.number(),
    maxWindMps: z.number(),
    violations: z.array(code).max(64).optional(),
  })
  .refine((c) => c.startTs <= c.ts, {
    message: 'must not be after ts (the end of the lift)',
    path: ['startTs'],
  })
export type CraneCycle = z.output<typeof craneCycleSchema>

export const pitItems = [
  'wall_top_horizontal',
  'wall_top_vertical',
  'deep_horizontal',
  'column_vertical',
  'strut_force',
  'anchor_force',
  'groundwater_level',
  'surface_settlement',
  'building_settlement',
  'building_tilt',
  'crack_width',
  'pipeline_settlement',
  'basal_heave',
  'wall_internal_force',
  'column_internal_force',
  'earth_pressure',
  'pore_pressure',
] as const
export const pitItemSchema = z.enum(pitItems)
export type PitItem = z.infer<typeof pitItemSchema>

/**
 * Each item's unit, and the resolution its derived values (cumulative change, rate, difference)
 * are compared at: the standards alarm on *reaching* a value (达到), so 100.7 → 130.7 is 30 mm,
 * not 29.999999999999986 (DOMAIN.md §4). A point's settings may set a finer or coarser one.
 */
export const pitItemUnits: Readonly<Record<PitItem, { readonly unit: string; readonly resolution: number }>> =
  {
    wall_top_horizontal: { unit: 'mm', resolution: 0.01 },
    wall_top_vertical: { unit: 'mm', resolution: 0.01 },
    deep_horizontal: { unit: 'mm', resolution: 0.01 },
    column_vertical: { unit: 'mm', resolution: 0.01 },
    strut_force: { unit: 'kN', resolution: 0.1 },
    anchor_force: { unit: 'kN', resolution: 0.1 },
    groundwater_level: { unit: 'mm', resolution: 1 },
    surface_settlement: { unit: 'mm', resolution: 0.01 },
    building_settlement: { unit: 'mm', resolution: 0.01 },
    building_tilt: { unit: '‰', resolution: 0.001 },
    crack_width: { unit: 'mm', resolution: 0.01 },
    pipeline_settlement: { unit: 'mm', resolution: 0.01 },
    basal_heave: { unit: 'mm', resolution: 0.01 },
    wall_internal_force: { unit: 'kN', resolution: 0.1 },
    column_internal_force: { unit: 'kN', resolution: 0.1 },
    earth_pressure: { unit: 'kPa', resolution: 0.1 },
    pore_pressure: { unit: 'kPa', resolution: 0.1 },
  }

/** A number at a decimal resolution (0.01, 0.5, 1…): the double nearest the decimal, exactly. */
export function atResolution(value: number, resolution: number): number {
  // On the per-reading path: a power of ten (0.01, 1) is a multiply, a round and a divide, and
  // n / 10^d is the double nearest the decimal n × 10^-d; other steps (0.5) go through toFixed.
  let scale = powersOfTen.get(resolution)
  if (scale === undefined) {
    const decimals = Math.max(0, Math.min(12, Math.ceil(-Math.log10(resolution) - 1e-9)))
    scale = 10 ** -decimals === resolution ? 10 ** decimals : 0
    powersOfTen.set(resolution, scale)
    if (powersOfTen.size > 64) powersOfTen.clear() // point settings may name any resolution
  }
  if (scale > 0) return Math.round(value * scale) / scale
  const decimals = Math.max(0, Math.min(12, Math.ceil(-Math.log10(resolution) - 1e-9)))
  return Number((Math.round(value / resolution) * resolution).toFixed(decimals))
}

/** Resolutions seen, and their scale when they are 10^-d (0 when they are not). */
const powersOfTen = new Map<number, number>()

/** A pit point code; "@" separates a point from its depth in alert subjects (CX-01@12.5). */
export const pointCodeSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^\s,=\\@|]+$/, 'no spaces, commas, "=", "@", "|" or backslashes')

export const pitPointSchema = z.object({
  pointCode: pointCodeSchema,
  item: pitItemSchema,
  value: z.number(),
  depthM: z.number().nonnegative().optional(),
})
export const pitTelemetrySchema = z.object({ ...envelope, points: z.array(pitPointSchema).min(1).max(500) })
export type PitTelemetry = z.output<typeof pitTelemetrySchema>

export const deviceStatusSchema = z.object({
  ...envelope,
  online: z.boolean().optional(),
  fw: z.string().max(64).optional(),
  signalCsq: z.number().int().min(0).max(99).optional(),
  powerV: z.number().optional(),
})
export type DeviceStatus = z.output<typeof deviceStatusSchema>

export const deviceEventSchema = z.object({ ...envelope, code, detail: z.string().max(2000).optional() })
export type DeviceEvent = z.output<typeof deviceEventSchema>

export const channels = ['telemetry', 'cycle', 'status', 'event'] as const
export type Channel = (typeof channels)[number]

/** Payload schema per device kind and channel; a missing entry means the channel is not allowed. */
export const payloadSchemas = {
  crane: {
    telemetry: craneTelemetrySchema,
    cycle: craneCycleSchema,
    status: deviceStatusSchema,
    event: deviceEventSchema,
  },
  pit: { telemetry: pitTelemetrySchema, status: deviceStatusSchema, event: deviceEventSchema },
} as const

/** CONTRACT §2.1 limits. */
export const payloadLimits = {
  maxPayloadBytes: 64 * 1024,
  /** Deeper JSON than any payload needs; deeper still overflows the stack of JSON.stringify. */
  maxNesting: 32,
  maxFutureSkewMs: 5 * 60_000,
  maxAgeMs: 30 * 24 * 3_600_000,
} as const

/**
 * Whether a parsed JSON value nests arrays and objects deeper than `max` (checked without
 * recursion). Runs on every message: it pushes only objects, in two parallel stacks, so a flat
 * reading costs no allocation beyond the stacks themselves.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return false
  const objects: object[] = [value]
  const depths: number[] = [1]
  while (objects.length > 0) {
    const current = objects.pop() as Record<string, unknown>
    const depth = depths.pop() as number
    if (depth > max) return true
    for (const key in current) {
      const child = current[key]
      if (child !== null && typeof child === 'object') {
        objects.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return false
}
